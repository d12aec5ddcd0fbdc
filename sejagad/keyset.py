"""Keyset ("seek") pages: a list's order made total and read as sort keys, so that a deep page is read right
after (before) the row its link names, by a ``WHERE`` on the keys and ``LIMIT``, never by OFFSET, which reads
every row it skips. Used by ``sejagad.pagination.CappedPaginator``."""

import datetime
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.core import signing
from django.core.exceptions import EmptyResultSet, FieldDoesNotExist, FieldError, ValidationError
from django.db import connections
from django.db.models import Case, F, Q, QuerySet, Value
from django.db.models.constants import LOOKUP_SEP
from django.db.models.expressions import Col, OrderBy
from django.utils.crypto import salted_hmac
from django.utils.functional import cached_property

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

    @cached_property
    def key_rows(self) -> QuerySet:
        """The list as (sort keys..., pk) rows: what a page reads first, and what names the list."""
        return self.keyed.values_list(*self.aliases, "pk")

    def read(self, bottom: int, top: int) -> list[tuple]:
        """Rows ``bottom`` to ``top`` by OFFSET, as (sort keys, pk)."""
        return [(row[:-1], row[-1]) for row in self.key_rows[bottom:top]]

    def seek(self, values: list, *, backward: bool, limit: int) -> list[tuple]:
        """The ``limit`` rows right after the row whose sort keys are ``values`` (right before it, going
        ``backward``), in the list's order, as (sort keys, pk): read segment by segment (``_segments``), each
        by index, until the page is full. Most pages are one query; a page across segments, a few."""
        keys = [key.reversed() for key in self.keys] if backward else self.keys
        rows = self.key_rows.reverse() if backward else self.key_rows
        found = []
        for segment in _segments(keys, values):
            found += rows.filter(segment)[: limit - len(found)]
            if len(found) == limit:
                break
        found = [(row[:-1], row[-1]) for row in found]
        return found[::-1] if backward else found

    def fingerprint(self, per_page: int) -> str | None:
        """The list's query, filters and scope included: a cursor is valid for this list only. Keyed with the
        secret key: the query may hold a searched NIK, which a plain hash would let anyone guess back.

        The query of its keys: the same rows in the same order, without the columns of the relations a page
        shows (compiling those took 1.4 ms of a worklist page's 27)."""
        if per_page not in self._fingerprints:
            try:
                sql, params = self.key_rows.query.sql_with_params()
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


def _segments(keys: list[Key], values: list) -> list[Q]:
    """The rows after ``values`` in the order of ``keys``, as disjoint conditions in that order: equal to the
    cursor on the first i keys and past it on key i, for i from the last key to the first. Each is one index
    range, equalities then one bound. One OR of them all would bound an index by the first key alone, and read
    every row of that value up to the cursor: 11.7 s for a deep page of the national at-risk list."""
    segments = []
    for i in reversed(range(len(keys))):
        equal = Q(*(_equal(key, value) for key, value in zip(keys[:i], values[:i], strict=True)))
        segments += [equal & past for past in _past(keys[i], values[i])]
    return segments


def _equal(key: Key, value) -> Q:
    return Q(**{f"{key.alias}__isnull": True}) if value is None else Q(**{key.alias: value})


def _past(key: Key, value) -> list[Q]:
    """Rows strictly after ``value`` on this key alone, in order: the greater (lesser) values, then the NULLs
    where they sort last."""
    if value is None:
        return [] if key.nulls_last else [Q(**{f"{key.alias}__isnull": False})]
    past = [Q(**{f"{key.alias}__{'lt' if key.descending else 'gt'}": value})]
    if key.nulls_last and not key.never_null:
        past.append(Q(**{f"{key.alias}__isnull": True}))
    return past


def _plain(value):
    """A sort key as JSON: dates and times as ISO strings (read back by the field's ``to_python``)."""
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    return value
