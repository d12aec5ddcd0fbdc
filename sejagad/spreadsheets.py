"""Spreadsheet safety both ways: uploads checked before they are opened and read into clear Indonesian
refusals (coverage imports, BPJS reconciliation), exported cells that cannot run as formulas (worklist and
coverage exports)."""

import codecs
import csv
import logging
import re
import zipfile

import pandas as pd
from django.utils.translation import gettext as _

from sejagad.text import cap

logger = logging.getLogger(__name__)

MAX_COLUMNS = 200
MAX_HEADER_CHARS = 20_000


class UploadRejected(Exception):
    """The file as a whole is refused; the message says why, in Indonesian, and is short enough to store."""

    def __init__(self, message: str):
        super().__init__(cap(message))


def check_xlsx_unpacked_size(fileobj, *, limit: int) -> None:
    """An XLSX is a zip archive: a small file can unpack to gigabytes (a zip bomb). Reads only the index."""
    try:
        with zipfile.ZipFile(fileobj) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise UploadRejected(_("Berkas XLSX ini rusak atau bukan XLSX.")) from None
    if unpacked > limit:
        raise UploadRejected(
            _("Isi berkas XLSX terlalu besar setelah dibuka (%(size)s MB); batasnya %(limit)s MB.")
            % {"size": unpacked // 1024 // 1024, "limit": limit // 1024 // 1024}
        )


# --- Reading uploads ------------------------------------------------------------------------------

# UTF-32 before UTF-16: the UTF-32 LE mark begins with the UTF-16 LE one.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (codecs.BOM_UTF8, "utf-8-sig"),
)


def decode_text(raw: bytes) -> str:
    """A CSV file's text. UTF-8 (with or without a byte order mark) and UTF-16/UTF-32 with a mark are read
    as such; a file that is not UTF-8 is read as Windows-1252, what Excel on an Indonesian Windows writes for
    "CSV (Comma delimited)" (the checked columns are digits and codes, the same bytes in both). Anything
    else is refused: guessing would turn names and headers into garbage."""
    for mark, encoding in BYTE_ORDER_MARKS:
        if raw.startswith(mark):
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
    head = raw[:4096]
    # UTF-16 without a mark (or a binary file) is full of NUL bytes; a stray NUL in a cell is refused per row.
    if head.count(b"\x00") > len(head) // 4:
        raise UploadRejected(
            _("Berkas ini bukan teks CSV biasa (mungkin UTF-16 tanpa penanda BOM); simpan ulang sebagai CSV UTF-8.")
        )
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UploadRejected(_("Berkas bukan teks UTF-8; simpan ulang sebagai CSV UTF-8."))


def sniff_separator(text: str) -> str:
    """The separator of the header line (comma, semicolon as Excel writes in Indonesian, or tab); refuses a
    header no real file has, before pandas spends memory on it."""
    end = text.find("\n")
    first_line = text if end < 0 else text[:end]
    if len(first_line) > MAX_HEADER_CHARS:
        raise UploadRejected(
            _("Baris 1 (judul kolom) terlalu panjang: %(n)s karakter, paling banyak %(limit)s. Periksa berkasnya.")
            % {"n": f"{len(first_line):,}".replace(",", "."), "limit": f"{MAX_HEADER_CHARS:,}".replace(",", ".")}
        )
    counts = {sep: first_line.count(sep) for sep in (",", ";", "\t")}
    separator = max(counts, key=counts.get) if any(counts.values()) else ","
    if counts[separator] + 1 > MAX_COLUMNS:
        raise UploadRejected(
            _("Baris 1 (judul kolom) memiliki %(n)s kolom; paling banyak %(limit)s.")
            % {"n": counts[separator] + 1, "limit": MAX_COLUMNS}
        )
    return separator


FIELD_COUNT_RE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
OPEN_QUOTE_RE = re.compile(r"EOF inside string starting at row (\d+)")


def parse_csv(text_io, **options) -> pd.DataFrame:
    """``pandas.read_csv`` whose failures are Indonesian sentences with the line number, never pandas' own."""
    try:
        return pd.read_csv(text_io, **options)
    except pd.errors.EmptyDataError:
        raise UploadRejected(_("Berkas kosong: tidak ada baris judul kolom.")) from None
    except (pd.errors.ParserError, csv.Error, ValueError, OverflowError) as exc:
        raise UploadRejected(_csv_error_message(exc)) from None


def _csv_error_message(exc: Exception) -> str:
    detail = str(exc)
    if found := FIELD_COUNT_RE.search(detail):
        expected, line, saw = found.groups()
        return _("Baris %(line)s: jumlah kolom tidak sesuai (%(saw)s, seharusnya %(expected)s).") % {
            "line": line,
            "saw": saw,
            "expected": expected,
        }
    if found := OPEN_QUOTE_RE.search(detail):
        # pandas counts rows from 0 with the header; a spreadsheet shows the header as line 1.
        return _('Baris %(line)s: tanda kutip (") dibuka tetapi tidak ditutup.') % {"line": int(found.group(1)) + 1}
    logger.warning("unreadable CSV upload: %s", type(exc).__name__)
    return _("Berkas CSV tidak dapat dibaca (susunan kolom atau tanda kutip rusak); simpan ulang sebagai CSV UTF-8.")


def read_xlsx(source, **options) -> pd.DataFrame:
    """``pandas.read_excel`` with openpyxl, whose many failures (broken zip, missing parts, bad XML) are one
    Indonesian sentence."""
    try:
        return pd.read_excel(source, engine="openpyxl", **options)
    except Exception as exc:  # openpyxl, zipfile and the XML parser each raise their own kinds
        # The class only: the message of a parsing error can quote a cell, and a cell can be a NIK.
        logger.warning("unreadable XLSX upload: %s", type(exc).__name__)
        raise UploadRejected(
            _("Berkas XLSX tidak dapat dibaca; buka di Excel lalu simpan ulang sebagai XLSX.")
        ) from None


# --- Exports --------------------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection, OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
