from django import template
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

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
