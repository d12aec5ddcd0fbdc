"""Lists shown a page at a time on screen, and whole (up to a cap) when printed with ``?cetak=1``."""

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

PRINT_PARAM = "cetak"
# A printout of more rows than this is not read by anyone; the page says the list was cut.
PRINT_LIMIT = 5000


def printing(request: HttpRequest) -> bool:
    return request.GET.get(PRINT_PARAM) == "1"


def page_or_all(request: HttpRequest, queryset, per_page: int = 25) -> Page:
    """The requested page of ``queryset``; when printing, its first PRINT_LIMIT rows as one page.

    The page carries ``printing`` and ``cut`` (more rows than were shown) for the template."""
    if printing(request):
        page = Paginator(queryset, PRINT_LIMIT).page(1)
        page.printing = True
        page.cut = page.paginator.count > PRINT_LIMIT
        return page
    page = Paginator(queryset, per_page).get_page(request.GET.get("page"))
    page.printing = False
    page.cut = False
    return page


def describe_filters(form, hidden: tuple[str, ...] = ()) -> str:
    """The filled-in filters of a valid form as "Label: value; ...", for a printout's header.

    Fields in ``hidden`` are named without their value (a search text may hold a NIK)."""
    if not form.is_bound or not form.is_valid():
        return ""
    parts = []
    for name, field in form.fields.items():
        value = form.cleaned_data.get(name)
        if value in (None, "", [], ()):
            continue
        label = field.label or name.capitalize()
        if name in hidden:
            parts.append(str(label))
            continue
        if hasattr(value, "pk"):
            value = getattr(value, "name", value)
        elif hasattr(field, "choices"):
            value = dict(field.choices).get(value, value)
        elif hasattr(value, "strftime"):
            value = value.strftime("%m/%Y") if name in ("dari", "sampai") else value.strftime("%d/%m/%Y")
        parts.append(f"{label}: {value}")
    return "; ".join(parts)
