from django import template

from newborns.privacy import mask_number, shown_to

register = template.Library()


@register.filter
def masked(value):
    return mask_number(value)


@register.simple_tag(takes_context=True)
def identity(context, value):
    """A NIK or KK number whole for the roles that need it, masked for the rest."""
    return shown_to(context["request"].user, value)
