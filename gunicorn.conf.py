"""gunicorn reads this file from the working directory (/app in the image, the checkout for ``serve``).

The access log writes the path without its query string and without the referer: a client that still sends
a NIK in a query string (refused with 400) must not leave it in the log (UU PDP 27/2022)."""

access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s "%(a)s"'
