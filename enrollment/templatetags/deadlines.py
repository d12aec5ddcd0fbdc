from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sejagad.pagination import count_limit

register = template.Library()


@register.filter
def days_left(days: int | None) -> str:
    """``12 hari``, ``hari ini``, ``lewat 3 hari``; a dash once the deadline is met."""
    if days is None:
        return "–"
    if days == 0:
        return _("hari ini")
    if days < 0:
        return ngettext("lewat %(n)s hari", "lewat %(n)s hari", -days) % {"n": -days}
    return ngettext("%(n)s hari", "%(n)s hari", days) % {"n": days}


@register.filter
def count_label(n: int) -> str:
    """A list's badge: the count, or "10.000+" past what lists count (``sejagad.pagination.count_limit``)."""
    if n > count_limit():
        return f"{intcomma(count_limit())}+"
    return intcomma(n)
