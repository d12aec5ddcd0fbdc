"""Spreadsheet safety both ways: one reader for every uploaded spreadsheet (coverage imports, BPJS
reconciliation), checked before it is opened and read into clear Indonesian refusals; exported cells that
cannot run as formulas (worklist and coverage exports)."""

import codecs
import csv
import datetime
import io
import logging
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from sejagad.text import cap, shown_list

logger = logging.getLogger(__name__)

SUFFIXES = (".csv", ".xlsx")
MAX_COLUMNS = 200
MAX_HEADER_CHARS = 20_000
MAX_HEADER_NAME_CHARS = 100
DECODE_CHUNK_BYTES = 1024 * 1024


class UploadRejected(Exception):
    """The file as a whole is refused; the message says why, in Indonesian, and is short enough to store.

    ``errors`` (one line each, capped) and ``error_count`` are set when the refusal lists bad rows."""

    def __init__(self, message: str, errors: Iterable[str] | None = None, error_count: int = 0):
        super().__init__(cap(message))
        self.message = str(self)
        self.errors = [cap(e) for e in errors or []]
        self.error_count = error_count or len(self.errors)


@dataclass(frozen=True)
class Limits:
    """What an upload may weigh: as sent, and (XLSX, a zip archive) once unpacked."""

    max_bytes: int
    max_unpacked_bytes: int


def check_upload(*, name: str, size: int, head: bytes, opener: Callable[[], object], limits: Limits) -> None:
    """Refuse what we should not even open: unknown types, oversize files, XLSX that unpack too large."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise UploadRejected(_("Hanya berkas CSV atau XLSX yang dapat diunggah."))
    if size > limits.max_bytes:
        raise UploadRejected(
            _("Berkas terlalu besar (%(size)s MB); batasnya %(limit)s MB.")
            % {"size": round(size / 1024 / 1024, 1), "limit": limits.max_bytes // 1024 // 1024}
        )
    if suffix == ".xlsx":
        if not head.startswith(b"PK"):
            raise UploadRejected(_("Berkas XLSX ini rusak atau bukan XLSX."))
        check_xlsx_unpacked_size(opener(), limit=limits.max_unpacked_bytes)


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


HeaderCheck = Callable[[list[str]], None]


def read_upload(upload, *, limits: Limits, check_header: HeaderCheck | None = None) -> pd.DataFrame:
    """An uploaded file (Django's ``UploadedFile``) checked, then read by ``read_table``."""
    name = getattr(upload, "name", "") or ""
    upload.seek(0)
    head = upload.read(4)
    upload.seek(0)
    check_upload(name=name, size=upload.size, head=head, opener=lambda: upload, limits=limits)
    upload.seek(0)
    return read_table(upload, name=name, max_unpacked_bytes=limits.max_unpacked_bytes, check_header=check_header)


def read_table(source, *, name: str, max_unpacked_bytes: int, check_header: HeaderCheck | None = None) -> pd.DataFrame:
    """Every cell of a CSV or XLSX file (a path or an open binary file) as stripped text.

    The columns are the header as written (stripped, each name capped; duplicates kept, not renamed), each a
    categorical of strings: a million rows of a few thousand distinct codes cost a few megabytes, and a
    check runs once per distinct value. Typed XLSX cells become text (``cell_text``); a CSV is never typed,
    so identity numbers keep their leading zeros. The index is the spreadsheet line number (the header is
    line 1); blank rows are left out, keeping the numbers of the others. ``check_header`` (missing columns,
    say) runs on the header before the rows are read: a file without its columns is refused as such, not
    for a short row further down."""
    checked = check_header or (lambda header: None)
    if Path(name).suffix.lower() == ".xlsx":
        with _opened(source) as fileobj:
            check_xlsx_unpacked_size(fileobj, limit=max_unpacked_bytes)
            fileobj.seek(0)
            raw = read_xlsx(fileobj, header=None, dtype=object)
        columns = [_categorical_text(raw.iloc[:, i].map(cell_text).to_numpy(dtype=object)) for i in range(raw.shape[1])]
    else:
        columns = _read_csv_columns(source, checked)
    if not columns or len(columns[0]) == 0:
        raise UploadRejected(_("Berkas kosong: tidak ada baris judul kolom."))
    if len(columns) > MAX_COLUMNS:
        raise UploadRejected(
            _("Baris 1 (judul kolom) memiliki %(n)s kolom; paling banyak %(limit)s.")
            % {"n": len(columns), "limit": MAX_COLUMNS}
        )
    header = [str(column[0])[:MAX_HEADER_NAME_CHARS] for column in columns]
    _check_header_size(header)
    checked(header)
    lines = np.arange(1, len(columns[0]) + 1)
    frame = pd.DataFrame({i: column for i, column in enumerate(columns)}, index=lines, copy=False)
    frame = frame.iloc[1:]
    filled = np.zeros(len(frame), dtype=bool)
    for column in columns:
        blank = np.flatnonzero(column.categories == "")
        codes = column.codes[1:]
        filled |= codes != blank[0] if len(blank) else True
    frame = frame.loc[filled]
    frame.columns = header
    return frame


class _opened:
    """A path opened for reading, or an open file used as it is (not closed: the caller owns it)."""

    def __init__(self, source):
        self.source, self.owned = source, isinstance(source, str | Path)

    def __enter__(self):
        self.file = open(self.source, "rb") if self.owned else self.source  # noqa: SIM115
        return self.file

    def __exit__(self, *exc):
        if self.owned:
            self.file.close()


def cell_text(value) -> str:
    """A typed spreadsheet cell as text: a number cell its digits (a count typed 1.5 must fail, not become
    15, so a fraction keeps the Indonesian comma), a date cell its ISO date."""
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, datetime.datetime):  # pandas' Timestamp too
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return str(int(value)) if float(value).is_integer() else str(value).replace(".", ",")
    return str(value).strip()


def _categorical_text(values: np.ndarray) -> pd.Categorical:
    """Cells (text, or NaN where a short row ended) as a categorical of stripped strings, "" for empty."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return _recode(codes, pd.Index(uniques, dtype=object), lambda texts: texts)


def _recode(codes: np.ndarray, categories: pd.Index, change: Callable[[pd.Series], pd.Series]) -> pd.Categorical:
    """Apply ``change`` to each distinct text once, strip it, and merge texts that became equal."""
    texts = pd.Series(np.append(categories.to_numpy(dtype=object), ""), dtype=object).fillna("")
    texts = change(texts.astype(str)).astype(object).str.strip().fillna("")
    missing = codes < 0
    if not missing.any() and texts.iloc[:-1].tolist() == categories.tolist() and texts.iloc[:-1].is_unique:
        # Nothing to change (the usual case): keep the codes, no million-row copy.
        return pd.Categorical.from_codes(codes, categories=pd.Index(texts.iloc[:-1].to_numpy(), dtype=object))
    codes = np.where(missing, len(categories), codes)
    merged, uniques = pd.factorize(texts.to_numpy(dtype=object))
    return pd.Categorical.from_codes(merged[codes], categories=pd.Index(uniques, dtype=object))


def recode_text(column: pd.Series, change: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """A column from ``read_table`` with ``change`` applied to its text, once per distinct value."""
    recoded = _recode(column.cat.codes.to_numpy(), column.cat.categories, change)
    return pd.Series(recoded, index=column.index, name=column.name)


# UTF-32 before UTF-16: the UTF-32 LE mark begins with the UTF-16 LE one.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (codecs.BOM_UTF8, "utf-8-sig"),
)


def text_encoding(raw: bytes) -> str:
    """A CSV file's encoding. UTF-8 (with or without a byte order mark) and UTF-16/UTF-32 with a mark are
    read as such; a file that is not UTF-8 is read as Windows-1252, what Excel on an Indonesian Windows
    writes for "CSV (Comma delimited)" (the checked columns are digits and codes, the same bytes in both).
    Anything else is refused: guessing would turn names and headers into garbage."""
    return _encoding_of(io.BytesIO(raw))


def _encoding_of(fileobj) -> str:
    """``text_encoding`` of an open binary file, read in chunks: a large file is never held whole."""
    head = fileobj.read(4096)
    for mark, encoding in BYTE_ORDER_MARKS:
        if head.startswith(mark) and _decodes(fileobj, encoding):
            return encoding
    # UTF-16 without a mark (or a binary file) is full of NUL bytes; a stray NUL in a cell is refused per row.
    if head.count(b"\x00") > len(head) // 4:
        raise UploadRejected(
            _("Berkas ini bukan teks CSV biasa (mungkin UTF-16 tanpa penanda BOM); simpan ulang sebagai CSV UTF-8.")
        )
    for encoding in ("utf-8", "cp1252"):
        if _decodes(fileobj, encoding):
            return encoding
    raise UploadRejected(_("Berkas bukan teks UTF-8; simpan ulang sebagai CSV UTF-8."))


def _decodes(fileobj, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    fileobj.seek(0)
    try:
        while chunk := fileobj.read(DECODE_CHUNK_BYTES):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def decode_text(raw: bytes) -> str:
    """A CSV file's text, decoded as ``text_encoding`` finds it."""
    return raw.decode(text_encoding(raw))


def sniff_separator(text: str) -> str:
    """The separator of the header line (comma, semicolon as Excel writes in Indonesian, or tab); refuses a
    header no real file has, before pandas spends memory on it. ``text`` is the file's beginning."""
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


def _check_header_size(header: list[str]) -> None:
    if not any(header):
        raise UploadRejected(_("Berkas kosong: tidak ada baris judul kolom."))
    if len(header) > MAX_COLUMNS:
        raise UploadRejected(
            _("Baris 1 (judul kolom) memiliki %(n)s kolom; paling banyak %(limit)s.")
            % {"n": len(header), "limit": MAX_COLUMNS}
        )


def _read_csv_columns(source, check_header: HeaderCheck) -> list[pd.Categorical]:
    with _opened(source) as fileobj:
        return _read_csv_file(fileobj, check_header)


def _read_csv_file(fileobj, check_header: HeaderCheck) -> list[pd.Categorical]:
    # pandas reads the file itself, in chunks: a million-row file is never in memory as one block.
    fileobj.seek(0)
    encoding = _encoding_of(fileobj)
    fileobj.seek(0)
    # Enough of the beginning to hold a header of MAX_HEADER_CHARS characters in any encoding.
    head = fileobj.read((MAX_HEADER_CHARS + 1) * 4 + 4).decode(encoding, errors="ignore")
    fileobj.seek(0)
    if encoding not in ("utf-8", "utf-8-sig"):
        # UTF-16/32 and Windows files (rare, from Excel) go to pandas as UTF-8, as its C parser reads best.
        fileobj, encoding = io.BytesIO(fileobj.read().decode(encoding).encode()), "utf-8"
    separator = sniff_separator(head)
    try:
        first = next(csv.reader(io.StringIO(head), delimiter=separator, skipinitialspace=True), [])
    except csv.Error:
        first = []  # pandas names the broken line below
    header = [cell.strip()[:MAX_HEADER_NAME_CHARS] for cell in first]
    _check_header_size(header)
    check_header(header)
    frame = parse_csv(
        fileobj,
        encoding=encoding,
        sep=separator,
        header=None,
        # Categories are always read as strings: "0012" stays "0012".
        dtype="category",
        keep_default_na=False,
        skip_blank_lines=False,
        skipinitialspace=True,
        quoting=csv.QUOTE_MINIMAL,
    )
    return [_recode(frame[c].cat.codes.to_numpy(), frame[c].cat.categories, lambda texts: texts) for c in frame.columns]


FIELD_COUNT_RE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
OPEN_QUOTE_RE = re.compile(r"EOF inside string starting at row (\d+)")


def parse_csv(text_io, **options) -> pd.DataFrame:
    """``pandas.read_csv`` whose failures are Indonesian sentences with the line number, never pandas' own."""
    try:
        return pd.read_csv(text_io, **options)
    except pd.errors.EmptyDataError:
        raise UploadRejected(_("Berkas kosong: tidak ada baris judul kolom.")) from None
    except (pd.errors.ParserError, csv.Error, ValueError, OverflowError, UnicodeError) as exc:
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


def normalise_header(name) -> str:
    """``Kode Wilayah``, ``KODE-WILAYAH`` and ``kode_wilayah`` are one column: ``kode_wilayah``."""
    return "_".join("".join(ch if ch.isalnum() else " " for ch in str(name).strip().lower()).split())


def find_columns(header: list[str], wanted: Mapping[str, Iterable[str]], *, required: Iterable[str]) -> dict[str, int]:
    """Where each wanted column is (its position), by the first of its names (normalised) the header has.

    Refuses a file without a required column (naming the first name of each) and one that holds a wanted
    column twice (which would we read?)."""
    normalised = [normalise_header(h) for h in header]
    found: dict[str, int] = {}
    for column, names in wanted.items():
        for name in names:
            if name in normalised:
                found[column] = normalised.index(name)
                break
    missing = [next(iter(wanted[c])) for c in required if c not in found]
    if missing:
        raise UploadRejected(
            _("Kolom wajib tidak ada: %(missing)s. Kolom yang terbaca: %(seen)s.")
            % {"missing": ", ".join(missing), "seen": shown_list(header)}
        )
    for position in found.values():
        if normalised.count(normalised[position]) > 1:
            raise UploadRejected(
                _("Kolom %(name)s ada lebih dari sekali; sisakan satu.") % {"name": normalised[position]}
            )
    return found


# --- Exports --------------------------------------------------------------------------------------

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection, OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
