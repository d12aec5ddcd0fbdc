"""The BPJS liaison's worklist export: one column spec, written as streamed CSV or as XLSX.

Rows come from ``selectors.worklist`` as plain tuples (``values_list``), never model instances, and are
written as they are read, so memory stays flat whatever the number of rows. The columns carry personal
data: identity numbers are whole only for roles that need them, and every export is logged.
"""

import csv
import datetime
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from enrollment import selectors
from enrollment.models import EnrollmentStatus, ExportLog
from enrollment.services import pbi_clock
from newborns.models import AccessPoint
from newborns.privacy import log_identity_access, shown_to
from sejagad.spreadsheets import escape_formula

BOM = "\ufeff"
CHUNK_SIZE = 2000

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


def row_converter(user, *, today: datetime.date) -> Callable[[tuple], list]:
    """A function from one ``values_list`` tuple (in ``SOURCES`` order) to the export's typed cells."""
    status_labels = {s.value: str(s.label) for s in EnrollmentStatus}
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


def export_rows(queryset: QuerySet, user, *, today: datetime.date | None = None) -> Iterator[list]:
    """The worklist's rows as typed cells, read in chunks through one query."""
    convert = row_converter(user, today=today or timezone.localdate())
    for values in queryset.values_list(*SOURCES).iterator(chunk_size=CHUNK_SIZE):
        yield convert(values)


def attachment(response, filename: str):
    """An export response as a download that no shared or browser cache keeps (personal data)."""
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def log_export(*, user, format: str, filters: dict, rows: int) -> ExportLog:
    """Exports carry personal data (UU PDP): record who took how many rows, with which filters."""
    return ExportLog.objects.create(user=user, format=format, filters=filters, rows=rows)


class _Line:
    """A file-like object that hands back what ``csv.writer`` writes, so lines can be yielded."""

    def write(self, value: str) -> str:
        return value


def csv_text(header: list[str], rows: Iterable[list], *, batch: int = 500) -> Iterator[str]:
    """BOM, header, then the rows as CSV text in batches of lines: ISO dates, empty cells for nothing."""
    writer = csv.writer(_Line())
    yield BOM + writer.writerow([_csv_cell(h) for h in header])
    lines = []
    for row in rows:
        lines.append(writer.writerow([_csv_cell(v) for v in row]))
        if len(lines) >= batch:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return escape_formula(value)


def write_xlsx(header: list[str], rows: Iterable[list], *, title: str = "Daftar kerja"):
    """An XLSX in a temporary file, written row by row (openpyxl write-only): dates stay dates,
    identity numbers stay text. The caller owns the returned open file; closing it deletes it."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title)
    for index, text in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, len(text) + 2)
    bold = Font(bold=True)
    header_cells = []
    for text in header:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([_xlsx_cell(value) for value in row])
    output = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(output)
    output.seek(0)
    return output


def _xlsx_cell(value):
    # A date needs no styled cell: openpyxl gives it the yyyy-mm-dd format itself.
    if isinstance(value, str):
        # A control character in a name would make openpyxl refuse the whole file.
        return escape_formula(ILLEGAL_CHARACTERS_RE.sub("", value))
    return value


def worklist_export(*, user, filters: dict, log_filters: dict, format: str) -> tuple[QuerySet, ExportLog]:
    """Exactly the rows the worklist page shows for these filters, and the log of their export: the export
    log (with the filters) and, when the NIK and KK columns are whole, one row of the NIK access log."""
    rows = selectors.worklist(user, **filters)
    log = log_export(user=user, format=format, filters=log_filters, rows=rows.count())
    log_identity_access(user=user, where=AccessPoint.EXPORT, count=log.rows)
    return rows, log


def bench_rows(user=None) -> int:
    """For ``manage.py bench``: stream the whole at-risk worklist as CSV into nothing; returns the rows.
    Without a user, a district-wide reader that sees whole numbers (the heaviest export)."""
    from sejagad.models import User

    user = user or User(username="bench", is_superuser=True, is_active=True)
    counted = 0

    def counting(rows):
        nonlocal counted
        for row in rows:
            counted += 1
            yield row

    for _chunk in csv_text(HEADERS, counting(export_rows(selectors.worklist(user, kind="risiko"), user))):
        pass
    return counted


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
