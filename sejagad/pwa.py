"""The installable app of the midwife: its manifest and its service worker, served at the site's root.

The worker is a template (``templates/sejagad/sw.js``) filled with the list of files it keeps and a version
derived from their contents, so a changed form or script gives a changed worker, which the browser installs
on its next visit and which drops the old caches. It is served from ``/sw.js`` so its scope is the whole
site, yet it answers only for the files it lists and the birth form page: every other page and every API
answer (which may carry a NIK) goes to the network untouched and is never stored on the phone.
"""

import hashlib
import json
from functools import lru_cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpResponse, JsonResponse
from django.template.loader import get_template, render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

# What the birth form needs to open with no signal (the page itself is kept by the worker on each visit).
SHELL_FILES = (
    "vendor/bootstrap/css/bootstrap.min.css",
    "vendor/bootstrap/js/bootstrap.bundle.min.js",
    "css/sejagad.css",
    "favicon.svg",
    "icons/sejagad-192.png",
    "icons/sejagad-512.png",
    "js/forms.js",
    "js/print.js",
    "js/birth-form.js",
    "js/offline/validators.js",
    "js/offline/outbox.js",
    "js/offline/register.js",
)
# Templates whose change must reach the phones: the form page and the worker itself.
SHELL_TEMPLATES = (
    "base.html",
    "newborns/newborn_form.html",
    "newborns/_outbox.html",
    "includes/field.html",
    "sejagad/sw.js",
)


@lru_cache(maxsize=1)
def shell_version() -> str:
    """A short hash of the app version and of every file the worker keeps; it changes when any of them does."""
    digest = hashlib.sha256(settings.SPECTACULAR_SETTINGS.get("VERSION", "").encode())
    for name in SHELL_FILES:
        path = finders.find(name)
        digest.update(name.encode())
        with open(path, "rb") as file:
            digest.update(file.read())
    for name in SHELL_TEMPLATES:
        digest.update(name.encode())
        with open(get_template(name).origin.name, "rb") as file:
            digest.update(file.read())
    return digest.hexdigest()[:12]


@require_GET
@cache_control(no_cache=True)
def service_worker(request):
    """The worker script; ``no-cache`` so the browser checks for a new version on every visit."""
    config = {
        "version": shell_version(),
        "shell": [static(name) for name in SHELL_FILES],
        "form": reverse("newborns:create"),
    }
    body = render_to_string("sejagad/sw.js", {"config": json.dumps(config)})
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
@cache_control(max_age=86400, public=True)
def manifest(request):
    """The web app manifest: opens on the birth form, standalone, in the app's colours."""
    data = {
        "name": "SEJAGAD SEHAT",
        "short_name": "SEJAGAD",
        "description": _("Catat kelahiran, juga tanpa sinyal."),
        "lang": settings.LANGUAGE_CODE,
        "start_url": reverse("newborns:create"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b6b3a",
        "icons": [
            {"src": static("icons/sejagad-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("icons/sejagad-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return JsonResponse(data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})
