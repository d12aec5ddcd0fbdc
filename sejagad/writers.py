"""One writer for every export (worklists, PBI proposals, coverage table, reconciliation): CSV and XLSX.

CSV is written exactly as PostgreSQL's ``COPY ... TO STDOUT WITH (FORMAT csv)`` writes it, so an export
streamed by COPY (``copy_csv``) and the same rows written here are the same bytes: LF line ends, a cell
quoted only when it holds a comma, a quote, CR or LF, and nothing at all for an empty cell. Excel opens
it; the UTF-8 byte order mark tells it the encoding. Text that a spreadsheet would run as a formula is
escaped here (and in the COPY query's SQL, see ``enrollment.exports``).
"""

import datetime
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import connections, transaction
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from sejagad.spreadsheets import escape_formula

BOM = "\ufeff"
# What a streamed response hands the web server at a time: big enough to cost nothing per row.
STREAM_CHUNK_BYTES = 64 * 1024
_NEEDS_QUOTES = frozenset(',"\r\n')


@dataclass
class Tally:
    """Rows written so far by a stream; read when it ends (or is cut off) for the export log."""

    rows: int = 0
    finished: bool = False


def csv_cell(value) -> str:
    """One cell as COPY's CSV writes it: ISO dates, formula-escaped text, quotes only where needed."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = escape_formula(value)
    elif isinstance(value, datetime.date):
        text = value.isoformat()
    else:
        text = str(value)
    if _NEEDS_QUOTES.isdisjoint(text):
        return text
    return '"' + text.replace('"', '""') + '"'


def csv_line(cells: Iterable) -> str:
    return ",".join(csv_cell(value) for value in cells) + "\n"


def csv_text(
    header: list[str], rows: Iterable[Iterable], *, batch: int = 500, tally: Tally | None = None
) -> Iterator[str]:
    """BOM, header, then the rows as CSV text in batches of lines."""
    tally = tally if tally is not None else Tally()
    yield BOM + csv_line(header)
    lines = []
    for row in rows:
        lines.append(csv_line(row))
        if len(lines) >= batch:
            tally.rows += len(lines)
            yield "".join(lines)
            lines = []
    tally.rows += len(lines)
    if lines:
        yield "".join(lines)
    tally.finished = True


def csv_bytes(header: list[str], rows: Iterable[Iterable], *, tally: Tally | None = None) -> Iterator[bytes]:
    """``csv_text`` encoded as UTF-8 (what ``copy_csv`` yields too)."""
    for text in csv_text(header, rows, tally=tally):
        yield text.encode()


def copy_to_stdout(connection, sql: str, params) -> str:
    """``COPY (sql) TO STDOUT WITH (FORMAT csv)``, its parameters merged client-side: COPY takes none bound
    (the pages' cursors bind theirs on the server)."""
    return connection.ops.compose_sql(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params)


def copy_csv(
    statements: list[tuple[str, list]], header: list[str], *, tally: Tally | None = None, using: str = "default"
) -> Iterator[bytes]:
    """BOM and header written here, then the rows of each of ``statements`` (SELECTs whose rows follow one
    another, PostgreSQL) as ``COPY (sql) TO STDOUT WITH (FORMAT csv)`` sends them, gathered into chunks of
    about ``STREAM_CHUNK_BYTES``; each statement's last rows are sent before the next starts. The statements
    read one snapshot (REPEATABLE READ), so no row written meanwhile is sent twice or skipped between them.
    Nothing is counted beforehand: PostgreSQL sends each row in one message, so the tally is the rows sent."""
    tally = tally if tally is not None else Tally()
    yield (BOM + csv_line(header)).encode()
    connection = connections[using]
    snapshot = not connection.in_atomic_block  # else the caller's transaction decides
    with transaction.atomic(using=using), connection.cursor() as cursor:
        if snapshot:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        rows = 0
        for sql, params in statements:
            with cursor.copy(copy_to_stdout(connection, sql, params)) as copy:
                chunk, size = [], 0
                for data in copy:
                    chunk.append(data)
                    size += len(data)
                    rows += 1
                    if size >= STREAM_CHUNK_BYTES:
                        tally.rows = rows
                        yield b"".join(chunk)
                        chunk, size = [], 0
                tally.rows = rows
                if chunk:
                    yield b"".join(chunk)
    tally.finished = True


def write_xlsx(header: list[str], rows: Iterable[Iterable], *, title: str = "Daftar kerja"):
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
        sheet.append([xlsx_cell(value) for value in row])
    output = tempfile.TemporaryFile(suffix=".xlsx")
    workbook.save(output)
    output.seek(0)
    return output


def xlsx_cell(value):
    # A date needs no styled cell: openpyxl gives it the yyyy-mm-dd format itself.
    if isinstance(value, str):
        # A control character in a name would make openpyxl refuse the whole file.
        return escape_formula(ILLEGAL_CHARACTERS_RE.sub("", value))
    if hasattr(value, "as_tuple"):  # Decimal: a number in the sheet, not text
        return float(value)
    return value


def attachment(response, filename: str):
    """An export response as a download that no shared or browser cache keeps (personal data)."""
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
