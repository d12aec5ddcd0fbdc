"""The BPJS liaison's worklist export: one column spec, written as streamed CSV or as XLSX.

On PostgreSQL the CSV is the worklist's own query with every cell computed in SQL (masking, labels, ISO
dates, days left, formula escaping), streamed by ``COPY (...) TO STDOUT``; elsewhere (the embedded SQLite
default) rows come as plain tuples (``values_list``) and are converted in Python. Both give the same
bytes (``sejagad.writers`` writes CSV as COPY does), and memory stays flat whatever the number of rows.
The columns carry personal data: identity numbers are whole only for roles that need them, and every
export is logged before its first byte, with its row count written when the stream ends.
"""

import datetime
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from django.db import connections
from django.db.models import Case, F, Func, IntegerField, QuerySet, TextField, Value, When
from django.db.models.functions import Cast, Concat, Left, Length, NullIf, Ord, Repeat, Right
from django.db.models.lookups import In
from django.utils import timezone

from enrollment import selectors
from enrollment.models import EnrollmentStatus, ExportLog
from enrollment.services import pbi_clock
from newborns.models import AccessPoint, IdentityAccess
from newborns.privacy import log_identity_access, sees_whole_numbers, shown_to
from sejagad.spreadsheets import FORMULA_TRIGGERS, escape_formula
from sejagad.writers import BOM, Tally, attachment, copy_csv, csv_bytes, csv_text, write_xlsx

__all__ = ["BOM", "attachment", "csv_text", "write_xlsx"]  # the writers, where the exports' callers find them

CHUNK_SIZE = 2000
# A big export's first rows come from their own query (LIMIT): a list of a million rows is sorted whole
# before its first row, 4 s on the national table, and the download would wait that long for it.
HEAD_ROWS = 1000

TEXT, IDENTITY, DATE, DAYS_LEFT, STATUS = "text", "identity", "date", "days_left", "status"


@dataclass(frozen=True)
class Column:
    header: str
    source: str  # the lookup in selectors.worklist's queryset
    kind: str = TEXT


# BPJS works with these headers; they are fixed (not translated) so its own sheets keep reading them.
COLUMNS = (
    Column("Nomor kartu", "jkn_number"),
    Column("Nama sementara", "newborn__temporary_name"),
    Column("Nama", "newborn__given_name"),
    Column("NIK", "newborn__nik", IDENTITY),
    Column("NIK ibu", "newborn__mother__nik", IDENTITY),
    Column("Nomor KK", "newborn__mother__kk_number", IDENTITY),
    Column("Tanggal lahir", "newborn__birth_date", DATE),
    Column("Jenis kelamin", "newborn__sex"),
    Column("Segmen", "segment"),
    Column("Fasilitas", "newborn__facility__name"),
    Column("Desa", "newborn__desa__name"),
    Column("Kecamatan", "newborn__desa__parent__name"),
    Column("Batas waktu", "due_on", DATE),
    Column("Sisa hari", "due_on", DAYS_LEFT),
    Column("Status", "status", STATUS),
)
HEADERS = [c.header for c in COLUMNS]

# Each list downloads under its own Indonesian name and the day: ``bpjs-nik-terbit-2026-11-24.xlsx``.
FILE_NAMES = {
    "risiko": "risiko",
    "aktivasi": "perlu-aktivasi-ulang",
    "bpjs": "bpjs-nik-terbit",
    "dinsos": "dinsos-calon-pbi",
}


def file_name(kind: str, extension: str, *, today: datetime.date | None = None) -> str:
    return f"{FILE_NAMES.get(kind, 'risiko')}-{today or timezone.localdate():%Y-%m-%d}.{extension}"


SOURCES = list(dict.fromkeys(c.source for c in COLUMNS))


def _status_labels() -> dict[str, str]:
    # In the language active when the export is prepared (the request's), not when the stream is read.
    return {s.value: str(s.label) for s in EnrollmentStatus}


def row_converter(user, *, today: datetime.date, labels: dict[str, str] | None = None) -> Callable[[tuple], list]:
    """A function from one ``values_list`` tuple (in ``SOURCES`` order) to the export's typed cells."""
    status_labels = labels or _status_labels()
    transforms = {
        TEXT: lambda value: escape_formula(value or ""),
        IDENTITY: partial(shown_to, user),
        DATE: lambda value: value,
        DAYS_LEFT: lambda value: (value - today).days if value else None,
        STATUS: lambda value: status_labels.get(value, value),
    }
    # Decided once per export, not per cell: a hundred thousand rows go through this.
    steps = [(SOURCES.index(column.source), transforms[column.kind]) for column in COLUMNS]

    def convert(values: tuple) -> list:
        return [transform(values[index]) for index, transform in steps]

    return convert


def export_rows(queryset: QuerySet, user, *, today: datetime.date | None = None, labels=None) -> Iterator[list]:
    """The worklist's rows as typed cells, read in chunks through one query."""
    convert = row_converter(user, today=today or timezone.localdate(), labels=labels)
    for values in queryset.values_list(*SOURCES).iterator(chunk_size=CHUNK_SIZE):
        yield convert(values)


# --- The same cells in SQL, for COPY ---------------------------------------------------------------


# The first character's code point (ascii() in PostgreSQL): compared as integers, no substring built.
TRIGGER_CODES = [ord(c) for c in FORMULA_TRIGGERS]


def _sql_text(value, *, first=None):
    """``escape_formula(value or "")`` in SQL, then NULL for empty (the CSV writers leave both bare).
    ``first`` is what starts the text when that is cheaper to read than ``value`` (a masked number)."""
    escaped = Case(
        When(In(Ord(first if first is not None else value), TRIGGER_CODES), then=Concat(Value("'"), value)),
        default=value,
        output_field=TextField(),
    )
    return NullIf(escaped, Value(""), output_field=TextField())


def _sql_masked(value):
    """``newborns.privacy.mask_number`` in SQL: ``7322**********01``."""
    return Concat(Left(value, 4), Repeat(Value("*"), Length(value) - 6), Right(value, 2), output_field=TextField())


def _sql_cells(user, *, today: datetime.date, labels: dict[str, str]) -> list:
    """One SQL expression per column, each giving the text the plain path writes for that cell."""
    whole = sees_whole_numbers(user)
    cells = []
    for column in COLUMNS:
        value = F(column.source)
        if column.kind == TEXT:
            cells.append(_sql_text(value))
        elif column.kind == IDENTITY:
            cells.append(_sql_text(value) if whole else _sql_text(_sql_masked(value), first=value))
        elif column.kind == DATE:
            # YYYY-MM-DD under PostgreSQL's default ISO DateStyle (Django never changes it); cheaper than to_char.
            cells.append(Cast(value, TextField()))
        elif column.kind == DAYS_LEFT:
            cells.append(
                Func(value, Value(today), template="(%(expressions)s)", arg_joiner=" - ", output_field=IntegerField())
            )
        else:
            cases = [When(**{column.source: code}, then=Value(escape_formula(label))) for code, label in labels.items()]
            cells.append(Case(*cases, default=_sql_text(value), output_field=TextField()))
    return cells


def copy_query(queryset: QuerySet, user, *, today: datetime.date, labels: dict[str, str] | None = None):
    """The worklist's own SELECT (its joins, scope, filters and ORDER BY) with the export's cells computed
    in SQL: ``(sql, params)`` for ``COPY (sql) TO STDOUT``."""
    cells = _sql_cells(user, today=today, labels=labels or _status_labels())
    return queryset.values_list(*cells).query.sql_with_params()


def uses_copy(queryset: QuerySet) -> bool:
    return connections[queryset.db].vendor == "postgresql"


def csv_stream(
    queryset: QuerySet, user, *, today: datetime.date | None = None, copy: bool | None = None, tally=None
) -> Iterator[bytes]:
    """The worklist export's CSV bytes: through COPY on PostgreSQL, written in Python otherwise (or with
    ``copy=False``); the same bytes either way. Everything that depends on the request (the user's role,
    the language of the labels, today) is fixed here, before the first byte."""
    today = today or timezone.localdate()
    labels = _status_labels()
    if uses_copy(queryset) if copy is None else copy:
        # The first rows by themselves: read by index, they are on their way while the rest is sorted.
        parts = (queryset[:HEAD_ROWS], queryset[HEAD_ROWS:])
        statements = [copy_query(part, user, today=today, labels=labels) for part in parts]
        return copy_csv(statements, HEADERS, tally=tally, using=queryset.db)
    return csv_bytes(HEADERS, export_rows(queryset, user, today=today, labels=labels), tally=tally)


def log_export(*, user, format: str, filters: dict, rows: int, complete: bool = True) -> ExportLog:
    """Exports carry personal data (UU PDP): record who took how many rows, with which filters."""
    return ExportLog.objects.create(user=user, format=format, filters=filters, rows=rows, complete=complete)


def worklist_export(*, user, filters: dict, log_filters: dict, format: str) -> tuple[QuerySet, ExportLog]:
    """Exactly the rows the worklist page shows for these filters, and the log of their export: the export
    log (with the filters) and, when the NIK and KK columns are whole, one row of the NIK access log.
    Counts the rows first (the XLSX job shows its progress against that count); the CSV stream does not."""
    rows = selectors.worklist(user, **filters)
    log = log_export(user=user, format=format, filters=log_filters, rows=rows.count())
    log_identity_access(user=user, where=AccessPoint.EXPORT, count=log.rows)
    return rows, log


def worklist_csv(*, user, filters: dict, log_filters: dict, today: datetime.date | None = None) -> Iterator[bytes]:
    """The worklist's CSV for a response, logged before its first byte: an export cut off midway is still
    in the export log (``complete`` False, the rows sent so far) and in the NIK access log. The row counts
    are written when the stream ends; nothing is counted beforehand."""
    rows = selectors.worklist(user, **filters)
    log = log_export(user=user, format="csv", filters=log_filters, rows=0, complete=False)
    # The whole-number access is recorded now and its count filled in at the end, like the export log.
    access = (
        IdentityAccess.objects.create(user=user, where=AccessPoint.EXPORT, count=0)
        if sees_whole_numbers(user)
        else None
    )
    tally = Tally()
    return _logged(csv_stream(rows, user, today=today, tally=tally), tally=tally, log=log, access=access)


def _logged(stream: Iterator[bytes], *, tally: Tally, log: ExportLog, access: IdentityAccess | None) -> Iterator[bytes]:
    try:
        yield from stream
    finally:
        ExportLog.objects.filter(pk=log.pk).update(rows=tally.rows, complete=tally.finished)
        if access is not None:
            if tally.rows:
                IdentityAccess.objects.filter(pk=access.pk).update(count=tally.rows)
            else:  # nothing whole was shown: no access to record (as log_identity_access does)
                IdentityAccess.objects.filter(pk=access.pk).delete()


def bench_rows(user=None) -> int:
    """For ``manage.py bench``: stream the whole at-risk worklist as CSV into nothing; returns the rows.
    Without a user, a district-wide reader that sees whole numbers (the heaviest export)."""
    from sejagad.models import User

    user = user or User(username="bench", is_superuser=True, is_active=True)
    tally = Tally()
    for _chunk in csv_stream(selectors.worklist(user, kind="risiko"), user, tally=tally):
        pass
    return tally.rows


# The Surat Keputusan's annex of PBI proposals: fixed Indonesian headers, one row per standing proposal.
PBI_HEADERS = [
    "Nama bayi",
    "Nama sementara",
    "NIK bayi",
    "Nomor KK",
    "Nama ibu",
    "NIK ibu",
    "Tanggal lahir",
    "Jenis kelamin",
    "Desa",
    "Kecamatan",
    "Segmen usulan",
    "Tanggal usulan",
    "Diusulkan oleh",
    "Batas usulan PBI (lahir + 3 bulan)",
    "Sisa hari saat diusulkan",
    "Dokumen belum lengkap",
]


def pbi_proposal_rows(proposals, user) -> Iterator[list]:
    """The proposals (``PbiProposal`` rows with their babies) as the SK annex's typed cells, text
    formula-escaped by the writers; NIK and KK whole only for a role that sees them."""
    for p in proposals:
        baby = p.enrollment.newborn
        clock = pbi_clock(p.enrollment, on=p.proposed_on)
        yield [
            baby.given_name,
            baby.temporary_name,
            shown_to(user, baby.nik),
            shown_to(user, baby.mother.kk_number),
            baby.mother.name,
            shown_to(user, baby.mother.nik),
            baby.birth_date,
            baby.get_sex_display(),
            baby.desa.name,
            baby.desa.parent.name if baby.desa.parent else "",
            p.segment,
            p.proposed_on,
            p.proposed_by.get_full_name() or p.proposed_by.username,
            clock["deadline"],
            clock["days_left"],
            ", ".join(str(m) for m in clock["missing"]),
        ]
