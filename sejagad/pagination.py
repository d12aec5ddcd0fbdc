"""Lists shown a page at a time on screen, and whole (up to a cap) when printed with ``?cetak=1``.

A list never counts more than ``count_limit()`` rows to say how long it is: on a national table a COUNT(*)
of millions on every page view costs more than the page itself. Past the cap the page says "lebih dari
10.000" and still goes on page by page.

Nor does a deep page skip rows by OFFSET: the "Berikutnya" and "Sebelumnya" links carry a signed cursor, the
sort keys of the page's last (first) row, and the page is read right after (before) that row (``Keyset``).
A missing, tampered or stale cursor reads the page by OFFSET, as ``?page=N`` alone always does."""

from django.conf import settings
from django.core.paginator import EmptyPage, Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

from sejagad.keyset import CURSOR_PARAM, Keyset

PRINT_PARAM = "cetak"
# A printout of more rows than this is not read by anyone; the page says the list was cut.
PRINT_LIMIT = 5000


MAX_ROWS = 2**31  # no list holds more


def count_limit() -> int:
    """Lists count at most this many rows (settings.LIST_COUNT_LIMIT, default 10,000)."""
    return settings.LIST_COUNT_LIMIT


def capped_count(queryset) -> int:
    """The rows of ``queryset``, counted up to ``count_limit() + 1``, which means "more than the limit"."""
    return queryset.order_by()[: count_limit() + 1].count()


def rows_of(rows, bottom: int, top: int) -> list:
    """Rows ``bottom`` to ``top`` of a list in two steps: their ids through the list's filters and order alone
    (which an index can answer), then only those rows with everything the page shows. Joining the mother,
    desa and facility of every row in scope before sorting costs more than the page itself."""
    if not isinstance(rows, QuerySet):
        return list(rows[bottom:top])
    ids = list(rows.values_list("pk", flat=True)[bottom:top])
    found = rows.order_by().in_bulk(ids)
    return [found[pk] for pk in ids]


class CappedPaginator(Paginator):
    """A paginator whose count stops at ``count_limit() + 1``, unless the count is ``known`` (from a summary
    kept equal to the list). Past the cap the number of pages is unknown: a page reads one row more than it
    shows to know whether another follows.

    A queryset's order is made total (``Keyset``); a page given the ``cursor`` its link carries is read by
    seeking from it, any other by OFFSET. Either way its rows are read in two steps (``rows_of``)."""

    def __init__(self, object_list, per_page, *, known: int | None = None, cursor: str | None = None):
        self.keyset = Keyset.of(object_list)
        super().__init__(self.keyset.queryset if self.keyset else object_list, per_page)
        self.known = known
        self.cursor = cursor

    @cached_property
    def count(self) -> int:
        return capped_count(self.object_list) if self.known is None else self.known

    @property
    def capped(self) -> bool:
        return self.known is None and self.count > count_limit()

    @property
    def count_limit(self) -> int:
        return count_limit()

    @cached_property
    def num_pages(self) -> int:
        # Unknown past the count; bounded so that a page number typed into the URL stays a valid OFFSET.
        return MAX_ROWS // self.per_page if self.capped else super().num_pages

    def rows(self, bottom: int, top: int) -> list:
        return rows_of(self.object_list, bottom, top)

    def _keyed_rows(self, number: int, bottom: int, top: int) -> tuple[list, list]:
        """The page's (sort keys, pk) pairs, by seeking from a valid cursor or else by OFFSET, and its rows."""
        sought = self.keyset.parse(self.cursor, page=number, per_page=self.per_page) if self.cursor else None
        found = []
        if sought:
            values, backward = sought
            found = self.keyset.seek(values, backward=backward, limit=self.per_page if backward else top - bottom)
        if not found:
            found = self.keyset.read(bottom, top)
        in_page = self.object_list.order_by().in_bulk([pk for _keys, pk in found])
        return found, [in_page[pk] for _keys, pk in found if pk in in_page]

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page + 1  # one row more: another page follows
        if not self.capped and top - 1 + self.orphans >= self.count:
            top = self.count
        if self.keyset:
            found, rows = self._keyed_rows(number, bottom, top)
        else:
            found, rows = [], self.rows(bottom, top)
        if self.capped and not rows:
            raise EmptyPage(_("Halaman ini tidak berisi data."))
        page = CappedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)
        page.keys = [keys for keys, _pk in found[: self.per_page]]
        return page

    def get_page(self, number):
        try:
            return super().get_page(number)
        except EmptyPage:  # past the end of an uncounted list: back to its start
            return self.page(1)


class CappedPage(Page):
    def __init__(self, object_list, number, paginator, *, more: bool):
        super().__init__(object_list, number, paginator)
        self.more = more
        self.keys = []

    def has_next(self) -> bool:
        return self.more if self.paginator.capped else super().has_next()

    def end_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)

    def _cursor(self, number: int, row: int, *, backward: bool) -> str | None:
        keyset = self.paginator.keyset
        if keyset is None or number <= 1 or not self.keys:  # the first page needs no cursor
            return None
        return keyset.cursor(self.keys[row], page=number, backward=backward, per_page=self.paginator.per_page)

    @cached_property
    def next_cursor(self) -> str | None:
        """For the "Berikutnya" link: the sort keys of this page's last row."""
        return self._cursor(self.number + 1, -1, backward=False)

    @cached_property
    def previous_cursor(self) -> str | None:
        """For the "Sebelumnya" link: the sort keys of this page's first row, to be read backwards."""
        return self._cursor(self.number - 1, 0, backward=True)


def printing(request: HttpRequest) -> bool:
    return request.GET.get(PRINT_PARAM) == "1"


def page_or_all(request: HttpRequest, queryset, per_page: int = 25, *, known: int | None = None) -> Page:
    """The requested page of ``queryset`` (of ``known`` rows, when a summary has counted them); when printing,
    its first PRINT_LIMIT rows as one page.

    The page carries ``printing`` and ``cut`` (more rows than were shown) for the template."""
    if printing(request):
        page = CappedPaginator(queryset, PRINT_LIMIT, known=known).page(1)
        page.printing = True
        page.cut = page.paginator.count > PRINT_LIMIT
        return page
    paginator = CappedPaginator(queryset, per_page, known=known, cursor=request.GET.get(CURSOR_PARAM))
    page = paginator.get_page(request.GET.get("page"))
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
