"""Lists shown a page at a time on screen, and whole (up to a cap) when printed with ``?cetak=1``.

A list never counts more than ``count_limit()`` rows to say how long it is: on a national table a COUNT(*)
of millions on every page view costs more than the page itself. Past the cap the page says "lebih dari
10.000" and still goes on page by page.

Nor does a deep page skip rows by OFFSET: the "Berikutnya" and "Sebelumnya" links carry a signed cursor, the
sort keys of the page's last (first) row, and the page is read right after (before) that row (``Keyset``).
A missing, tampered or stale cursor reads the page by OFFSET, as ``?page=N`` alone always does."""

import datetime
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core import signing
from django.core.exceptions import EmptyResultSet, FieldDoesNotExist, FieldError, ValidationError
from django.core.paginator import EmptyPage, Page, Paginator
from django.db import connections
from django.db.models import Case, F, Q, QuerySet, Value
from django.db.models.constants import LOOKUP_SEP
from django.db.models.expressions import Col, OrderBy
from django.http import HttpRequest
from django.utils.crypto import salted_hmac
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

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


CURSOR_PARAM = "kursor"
CURSOR_SALT = "sejagad.pagination.cursor"
# A cursor is signed, not encrypted, and it sits in URLs, browser history and proxy logs: it never carries
# a sort key holding personal data (UU PDP). A list sorted on one of these is paged by OFFSET.
PERSONAL_FIELDS = frozenset(
    {
        "nik",
        "kk_number",
        "name",
        "given_name",
        "temporary_name",
        "phone",
        "jkn_number",
        "akta_number",
        "ihs_number",
        "username",
        "first_name",
        "last_name",
        "email",
    }
)


class NoKeyset(Exception):
    """The list's order cannot be sought on: its pages are read by OFFSET."""


@dataclass(frozen=True)
class Key:
    """One sort key of a list: an annotation of the keyed queryset, its direction and where NULLs sort."""

    alias: str
    descending: bool
    nulls_last: bool
    never_null: bool

    def reversed(self) -> "Key":
        return Key(self.alias, not self.descending, not self.nulls_last, self.never_null)


class Keyset:
    """A list's order made total (the primary key ends it) and read as sort keys, so that a page can start
    right after the previous page's last row (``WHERE`` on the keys, ``LIMIT``) instead of skipping rows by
    OFFSET, which reads every row it skips.

    Built from the queryset's own ordering (``order_by`` or the model's ``Meta.ordering``): field paths,
    ``F()`` and ``OrderBy`` expressions, annotations. Raises ``NoKeyset`` for an order it cannot seek on
    (random, raw SQL, a relation's own ordering, an aggregate, a personal field)."""

    def __init__(self, queryset: QuerySet):
        query = queryset.query
        if query.combinator or query.extra_order_by or query.distinct_fields or not query.standard_ordering:
            raise NoKeyset
        items = list(query.order_by) or (list(query.get_meta().ordering) if query.default_ordering else [])
        order, expressions, flags = [], [], []
        for item in items:
            expression, descending, nulls = self._parse(queryset, item)
            order.append(item)
            expressions.append(expression)
            flags.append((descending, nulls))
        keyed = self._annotate(queryset, expressions)
        if not expressions or not self._is_unique(keyed, len(expressions) - 1):
            # Ties on the last key would leave the order of their rows, and so the pages, to the database.
            descending = flags[-1][0] if flags else False
            order.append("-pk" if descending else "pk")
            expressions.append(F("pk"))
            flags.append((descending, None))
            keyed = self._annotate(queryset, expressions)
        self.queryset = queryset.order_by(*order)
        self._fingerprints = {}
        self.keyed = self.queryset.annotate(**self._aliases(expressions))
        largest = connections[queryset.db].features.nulls_order_largest
        self.keys, self.fields = [], []
        for i, (descending, nulls) in enumerate(flags):
            resolved = keyed.query.annotations[f"_key{i}"]
            if resolved.contains_aggregate or resolved.contains_over_clause:
                raise NoKeyset
            if any(col.target.name in PERSONAL_FIELDS for col in _columns(resolved)):
                raise NoKeyset
            nulls_last = nulls if nulls is not None else (descending != largest)
            self.keys.append(Key(f"_key{i}", descending, nulls_last, _never_null(resolved, keyed.query.base_table)))
            self.fields.append(resolved.output_field)

    @classmethod
    def of(cls, rows) -> "Keyset | None":
        if not isinstance(rows, QuerySet):
            return None
        try:
            return cls(rows)
        except (NoKeyset, FieldError, FieldDoesNotExist):
            return None

    @staticmethod
    def _parse(queryset, item) -> tuple:
        """An ordering item as (expression, descending, nulls_last or None for the database's default)."""
        if isinstance(item, str):
            if item == "?" or "." in item:
                raise NoKeyset
            descending, name = item.startswith("-"), item.removeprefix("-")
            _check_path(queryset, name)
            return F(name), descending, None
        if isinstance(item, OrderBy):
            if isinstance(item.expression, F):
                _check_path(queryset, item.expression.name)
            nulls = True if item.nulls_last else False if item.nulls_first else None
            return item.expression, item.descending, nulls
        if isinstance(item, F):
            _check_path(queryset, item.name)
        if not hasattr(item, "resolve_expression"):
            raise NoKeyset
        return item, False, None

    @staticmethod
    def _aliases(expressions) -> dict:
        return {f"_key{i}": expression for i, expression in enumerate(expressions)}

    def _annotate(self, queryset, expressions):
        return queryset.annotate(**self._aliases(expressions))

    @staticmethod
    def _is_unique(keyed, i: int) -> bool:
        """The key is a unique, never empty column of the list's own table (its pk, a one-to-one)."""
        resolved = keyed.query.annotations[f"_key{i}"]
        return (
            isinstance(resolved, Col)
            and resolved.alias == keyed.query.base_table
            and resolved.target.unique
            and not resolved.target.null
            and not resolved.target.generated
        )

    @cached_property
    def aliases(self) -> list[str]:
        return [key.alias for key in self.keys]

    def read(self, bottom: int, top: int) -> list[tuple]:
        """Rows ``bottom`` to ``top`` by OFFSET, as (sort keys, pk)."""
        return [(row[:-1], row[-1]) for row in self.keyed.values_list(*self.aliases, "pk")[bottom:top]]

    def seek(self, values: list, *, backward: bool, limit: int) -> list[tuple]:
        """The ``limit`` rows right after the row whose sort keys are ``values`` (right before it, going
        ``backward``), in the list's order, as (sort keys, pk)."""
        keys = [key.reversed() for key in self.keys] if backward else self.keys
        rows = self.keyed.filter(_after(keys, values))
        if backward:
            rows = rows.reverse()
        found = [(row[:-1], row[-1]) for row in rows.values_list(*self.aliases, "pk")[:limit]]
        return found[::-1] if backward else found

    def fingerprint(self, per_page: int) -> str | None:
        """The list's query, filters and scope included: a cursor is valid for this list only. Keyed with the
        secret key: the query may hold a searched NIK, which a plain hash would let anyone guess back."""
        if per_page not in self._fingerprints:
            try:
                sql, params = self.queryset.query.sql_with_params()
            except EmptyResultSet:
                self._fingerprints[per_page] = None
            else:
                digest = salted_hmac(CURSOR_SALT, repr((sql, params, per_page)), algorithm="sha256")
                self._fingerprints[per_page] = digest.hexdigest()[:16]
        return self._fingerprints[per_page]

    def cursor(self, values, *, page: int, backward: bool, per_page: int) -> str | None:
        if (fingerprint := self.fingerprint(per_page)) is None:
            return None
        payload = [page, int(backward), fingerprint, [_plain(value) for value in values]]
        return signing.dumps(payload, salt=CURSOR_SALT, compress=True)

    def parse(self, token: str, *, page: int, per_page: int) -> tuple[list, bool] | None:
        """The sort keys and direction of a cursor made by ``cursor()`` for this page of this list; None for
        a missing, tampered or stale one."""
        try:
            number, backward, fingerprint, plain = signing.loads(token, salt=CURSOR_SALT)
            if number != page or fingerprint != self.fingerprint(per_page) or len(plain) != len(self.keys):
                return None
            values = [None if v is None else f.to_python(v) for f, v in zip(self.fields, plain, strict=True)]
        except (signing.BadSignature, ValidationError, ValueError, TypeError):
            return None
        return values, bool(backward)


def _check_path(queryset, name: str) -> None:
    """A field path the cursor can hold: one value per row, and the value the ordering sorts on (ordering by
    a relation's name sorts on that model's own ordering, not on its id)."""
    if name in queryset.query.annotations or name == "pk":
        return
    opts = queryset.model._meta
    parts = name.split(LOOKUP_SEP)
    for i, part in enumerate(parts):
        field = opts.get_field(part)
        if field.many_to_many or field.one_to_many:
            raise NoKeyset
        last = i == len(parts) - 1
        if field.is_relation:
            if last and part != field.attname:
                raise NoKeyset
            if not last:
                opts = field.related_model._meta
        elif not last:
            raise NoKeyset  # a transform such as birth_date__year


def _columns(expression):
    if isinstance(expression, Col):
        yield expression
    for source in getattr(expression, "get_source_expressions", list)():
        if source is not None:
            yield from _columns(source)


def _never_null(resolved, base_table: str) -> bool:
    """The key can never be NULL: a NOT NULL column of the list's own table, or a generated column whose
    expression cannot compute NULL (the database never declares a generated column NOT NULL)."""
    if not isinstance(resolved, Col) or resolved.alias != base_table:
        return False
    field = resolved.target
    return _computes_value(field.expression, field.model) if field.generated else not field.null


def _computes_value(expression, model) -> bool:
    if isinstance(expression, Value):
        return expression.value is not None
    if isinstance(expression, Case):
        results = [when.result for when in expression.cases] + [expression.default]
        return all(_computes_value(result, model) for result in results)
    if isinstance(expression, F):
        field = model._meta.get_field(expression.name)
        return _computes_value(field.expression, model) if field.generated else not field.null
    return False


def _after(keys: list[Key], values: list) -> Q:
    """Rows after ``values`` in the order of ``keys``: k1 after v1, or k1 = v1 and k2 after v2, ...; with
    a bound on the first key alone that an index can start from."""
    condition = None
    for key, value in reversed(list(zip(keys, values, strict=True))):
        equal = Q(**{f"{key.alias}__isnull": True}) if value is None else Q(**{key.alias: value})
        condition = _either(_beyond(key, value), None if condition is None else equal & condition)
    key, value = keys[0], values[0]
    if value is None:
        bound = Q(**{f"{key.alias}__isnull": True}) if key.nulls_last else None
    elif not key.nulls_last or key.never_null:
        bound = Q(**{f"{key.alias}__{'lte' if key.descending else 'gte'}": value})
    else:
        bound = None
    if condition is None:
        return Q(pk__in=[])
    return condition if bound is None else bound & condition


def _beyond(key: Key, value) -> Q | None:
    """Rows strictly after ``value`` on this key alone (None: no row)."""
    if value is None:
        return None if key.nulls_last else Q(**{f"{key.alias}__isnull": False})
    beyond = Q(**{f"{key.alias}__{'lt' if key.descending else 'gt'}": value})
    if key.nulls_last and not key.never_null:
        beyond |= Q(**{f"{key.alias}__isnull": True})
    return beyond


def _either(first: Q | None, second: Q | None) -> Q | None:
    if first is None or second is None:
        return first or second
    return first | second


def _plain(value):
    """A sort key as JSON: dates and times as ISO strings (read back by the field's ``to_python``)."""
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    return value


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
