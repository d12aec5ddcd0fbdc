"""Reading and checking Dukcapil population and BPJS participant files (CSV or XLSX) with pandas.

Pure functions over a file: no database writes. ``services`` calls them for the preview and again for the
commit. Every check is vectorised, so a million rows cost seconds, and every error keeps its line number
(the header is line 1, the first data row line 2, as a spreadsheet shows it).
"""

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings
from django.utils.translation import gettext as _

from coverage.models import PERIOD_RE, ImportKind, Segment
from sejagad import spreadsheets
from sejagad.text import CONTROL_RE, DIGITS_TO_ASCII, ascii_digits, cap, shown, shown_list

MAX_STORED_ERRORS = 500
DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
DEFAULT_MAX_XLSX_UNPACKED_BYTES = 250 * 1024 * 1024

# Header as written in the file (normalised: lower case, words joined by "_") -> our column.
COLUMN_ALIASES = {
    "region": ("kode_wilayah", "kode", "kode_kemendagri", "kode_desa", "kode_kecamatan", "kode_wilayah_kemendagri"),
    "name": ("nama_wilayah", "nama", "nama_desa", "nama_kecamatan", "wilayah"),
    "period": ("periode", "semester"),
    "population": ("jumlah_penduduk", "penduduk", "jumlah"),
    "male": ("laki_laki", "lk", "penduduk_laki_laki"),
    "female": ("perempuan", "pr", "penduduk_perempuan"),
    "source": ("sumber", "sumber_data"),
    "segment": ("segmen", "segmen_peserta", "segmen_kepesertaan"),
    "participants": ("jumlah_peserta", "peserta"),
    "active": ("peserta_aktif", "jumlah_peserta_aktif", "aktif"),
}
REQUIRED = {
    ImportKind.POPULATION: ("region", "population"),
    ImportKind.PARTICIPANTS: ("region", "segment", "participants"),
}
OPTIONAL = {
    ImportKind.POPULATION: ("name", "period", "male", "female", "source"),
    ImportKind.PARTICIPANTS: ("name", "period", "active"),
}
KEY = {
    ImportKind.POPULATION: ["region_id", "period"],
    ImportKind.PARTICIPANTS: ["region_id", "period", "segment"],
}
# The columns each kind stores, beyond its key.
VALUES = {
    ImportKind.POPULATION: ["total", "male", "female", "source"],
    ImportKind.PARTICIPANTS: ["total", "active"],
}
SEGMENT_ALIASES = {
    "PBI-APBN": Segment.PBI_APBN,
    "PBI-JK": Segment.PBI_APBN,
    "PBI": Segment.PBI_APBN,
    "PBI-APBD": Segment.PBI_APBD,
    "PBPU-PEMDA": Segment.PBI_APBD,
    "JAMKESDA": Segment.PBI_APBD,
    "PPU": Segment.PPU,
    "PBPU": Segment.PBPU,
    "BP": Segment.BP,
}
# A count written plainly (244956) or with Indonesian thousands dots (244.956), in ASCII digits (cells are
# made ASCII on reading; "\d" would also take other scripts' digits).
COUNT_RE = r"[0-9]+|[0-9]{1,3}(?:\.[0-9]{3})+"
MAX_COUNT_DIGITS = 12  # a trillion people: anything longer is a typo, and would overflow the column
MAX_HEADER_NAME_CHARS = 100
REGION_DIGITS = (2, 4, 6, 10)


# The file as a whole cannot be read: wrong type, too large, a zip bomb, a missing column.
FileRejected = spreadsheets.UploadRejected


@dataclass
class ParsedFile:
    kind: str
    rows: pd.DataFrame  # the valid rows, in our columns (KEY + VALUES)
    total_rows: int
    error_count: int = 0
    errors: list[dict] = field(default_factory=list)

    @property
    def periods(self) -> list[str]:
        return sorted(self.rows["period"].unique().tolist()) if len(self.rows) else []


def max_upload_bytes() -> int:
    return getattr(settings, "COVERAGE_IMPORT_MAX_BYTES", DEFAULT_MAX_UPLOAD_BYTES)


def check_upload(name: str, size: int, head: bytes, opener: Callable[[], object]) -> None:
    """Refuse what we should not even open: unknown types, oversize files, XLSX that unpack too large."""
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise FileRejected(_("Hanya berkas CSV atau XLSX yang dapat diimpor."))
    limit = max_upload_bytes()
    if size > limit:
        raise FileRejected(
            _("Berkas terlalu besar (%(size)s MB); batasnya %(limit)s MB.")
            % {"size": round(size / 1024 / 1024, 1), "limit": limit // 1024 // 1024}
        )
    if suffix == ".xlsx":
        if not head.startswith(b"PK"):
            raise FileRejected(_("Berkas XLSX ini rusak atau bukan XLSX."))
        check_xlsx_unpacked_size(opener())


def check_xlsx_unpacked_size(fileobj) -> None:
    limit = getattr(settings, "COVERAGE_IMPORT_MAX_XLSX_UNPACKED_BYTES", DEFAULT_MAX_XLSX_UNPACKED_BYTES)
    spreadsheets.check_xlsx_unpacked_size(fileobj, limit=limit)


def _normalise_header(name) -> str:
    text = "".join(ch if ch.isalnum() else " " for ch in str(name).strip().lower())
    return "_".join(text.split())


def _cell_to_text(value) -> str:
    """Spreadsheet cells arrive typed; a count typed as 1.5 must fail, not become 15."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return str(int(value)) if float(value).is_integer() else str(value).replace(".", ",")
    return str(value)


def read_table(path: Path, name: str) -> pd.DataFrame:
    """The file's cells as text, headers normalised; the index is the spreadsheet line number."""
    suffix = Path(name).suffix.lower()
    if suffix == ".xlsx":
        with path.open("rb") as f:
            check_xlsx_unpacked_size(f)
        frame = spreadsheets.read_xlsx(path, dtype=object)
        frame = frame.map(_cell_to_text)
    else:
        text = spreadsheets.decode_text(path.read_bytes())
        frame = spreadsheets.parse_csv(
            io.StringIO(text),
            sep=spreadsheets.sniff_separator(text),
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            quoting=csv.QUOTE_MINIMAL,
        )
    if len(frame.columns) > spreadsheets.MAX_COLUMNS:
        raise FileRejected(
            _("Baris 1 (judul kolom) memiliki %(n)s kolom; paling banyak %(limit)s.")
            % {"n": len(frame.columns), "limit": spreadsheets.MAX_COLUMNS}
        )
    # A header name is matched against names of some 20 characters; a longer one is only ever quoted back.
    frame.columns = [_normalise_header(c)[:MAX_HEADER_NAME_CHARS] for c in frame.columns]
    frame = frame.loc[:, [c for c in frame.columns if c and not c.startswith("unnamed")]]
    frame = frame.fillna("").astype(str)
    # Digits of any script become ASCII here, before any check: a code or count is one string everywhere.
    frame = frame.apply(
        lambda column: _by_value(column, lambda values: values.str.translate(DIGITS_TO_ASCII).str.strip())
    )
    frame.index = np.arange(2, len(frame) + 2)
    # Blank lines at the end of a spreadsheet are not rows.
    return frame.loc[(frame != "").any(axis=1)]


def _pick_columns(frame: pd.DataFrame, kind: str) -> dict[str, str]:
    found = {}
    for column in REQUIRED[kind] + OPTIONAL[kind]:
        for alias in COLUMN_ALIASES[column]:
            if alias in frame.columns:
                found[column] = alias
                break
    missing = [COLUMN_ALIASES[c][0] for c in REQUIRED[kind] if c not in found]
    if missing:
        raise FileRejected(
            _("Kolom wajib tidak ada: %(missing)s. Kolom yang terbaca: %(seen)s.")
            % {"missing": ", ".join(missing), "seen": shown_list(frame.columns)}
        )
    for header in found.values():
        # "Kode Wilayah" and "kode_wilayah" are the same column once normalised: which one to read?
        if (frame.columns == header).sum() > 1:
            raise FileRejected(_("Kolom %(name)s ada lebih dari sekali; sisakan satu.") % {"name": header})
    return found


class _Errors:
    """Collects errors per check without formatting a message for each of a million bad rows."""

    def __init__(self):
        self.count = 0
        self.items: list[dict] = []

    def add(self, mask: pd.Series, column: str, message: Callable[[int], str]) -> None:
        lines = mask.index[mask.to_numpy()]
        self.count += len(lines)
        self.items.extend(
            {"line": int(line), "column": column, "message": cap(message(line))} for line in lines[:MAX_STORED_ERRORS]
        )

    def sorted(self) -> list[dict]:
        return sorted(self.items, key=lambda e: (e["line"], e["column"]))[:MAX_STORED_ERRORS]


def _by_value(series: pd.Series, compute: Callable[[pd.Series], pd.Series | pd.DataFrame]):
    """Do string work once per distinct value: a million rows hold some thousands of codes and counts."""
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    result = compute(pd.Series(uniques, dtype=object).fillna("").astype(str))
    taken = result.iloc[codes]
    taken.index = series.index
    return taken


def _parse_counts(text: pd.Series) -> pd.DataFrame:
    text = text.str.replace(" ", "", regex=False).str.replace("\u00a0", "", regex=False)
    valid = text.str.fullmatch(COUNT_RE).fillna(False).astype(bool)
    digits = text.where(valid, "").str.replace(".", "", regex=False)
    too_large = digits.str.len() > MAX_COUNT_DIGITS
    digits = digits.where(~too_large, "")
    return pd.DataFrame(
        {
            "blank": text == "",
            "valid": valid & ~too_large,
            "too_large": too_large,
            "negative": text.str.match(r"-\s*[0-9.,]+$").fillna(False).astype(bool),
            "value": pd.to_numeric(digits.where(digits != "", None), errors="coerce").astype("Int64"),
        }
    )


def _counts(
    frame: pd.DataFrame, column: str | None, header: str, errors: _Errors, *, required: bool
) -> tuple[pd.Series, pd.Series]:
    """Parse a count column; returns (values as nullable integers, mask of rows that failed)."""
    if column is None:
        return pd.Series(pd.NA, index=frame.index, dtype="Int64"), pd.Series(False, index=frame.index)
    raw = frame[column]
    parsed = _by_value(raw, _parse_counts)
    blank, negative, too_large = parsed["blank"], parsed["negative"], parsed["too_large"]
    bad = ~parsed["valid"] & ~blank
    errors.add(
        negative,
        header,
        lambda line: _("%(col)s tidak boleh negatif: %(value)s.") % {"col": header, "value": shown(raw[line])},
    )
    errors.add(
        too_large,
        header,
        lambda line: _("%(col)s terlalu besar: %(value)s.") % {"col": header, "value": shown(raw[line])},
    )
    errors.add(
        bad & ~negative & ~too_large,
        header,
        lambda line: _("%(col)s bukan bilangan bulat: “%(value)s”.") % {"col": header, "value": shown(raw[line])},
    )
    failed = bad
    if required:
        errors.add(blank, header, lambda line: _("%(col)s kosong.") % {"col": header})
        failed = failed | blank
    return parsed["value"], failed


def _control_characters(frame: pd.DataFrame, errors: _Errors) -> pd.Series:
    """Rows with a NUL or another control character in any cell fail, naming the character; the cells are
    then checked without it, so one bad byte gives one error, not one per check."""
    failed = pd.Series(False, index=frame.index)
    for position, column in enumerate(frame.columns):
        cells = frame.iloc[:, position]
        found = _by_value(cells, lambda values: values.str.extract(f"({CONTROL_RE.pattern})", expand=False))
        bad = found.notna()
        if not bad.any():
            continue
        errors.add(
            bad,
            column,
            lambda line, found=found: (
                _("Sel berisi karakter tidak sah (%(char)s).")
                % {"char": "NUL" if found[line] == "\x00" else f"U+{ord(found[line]):04X}"}
            ),
        )
        frame.iloc[:, position] = cells.str.replace(CONTROL_RE, "", regex=True)
        failed |= bad
    return failed


def _parse_regions(raw: pd.Series, known: frozenset[str]) -> pd.DataFrame:
    digits = raw.str.replace(".", "", regex=False).str.replace(" ", "", regex=False)
    length = digits.str.len()
    well_formed = digits.str.fullmatch(r"[0-9]+").fillna(False).astype(bool) & length.isin(REGION_DIGITS)
    dotted = (
        digits.str[:2]
        + np.where(length > 2, "." + digits.str[2:4], "")
        + np.where(length > 4, "." + digits.str[4:6], "")
        + np.where(length > 6, "." + digits.str[6:], "")
    )
    return pd.DataFrame(
        {
            "dotted": dotted,
            "blank": digits == "",
            "well_formed": well_formed,
            "unknown": well_formed & ~dotted.isin(known),
        }
    )


def _regions(frame: pd.DataFrame, column: str, known: frozenset[str], errors: _Errors) -> tuple[pd.Series, pd.Series]:
    header = column
    raw = frame[column]
    parsed = _by_value(raw, lambda values: _parse_regions(values, known))
    dotted, blank, well_formed, unknown = parsed["dotted"], parsed["blank"], parsed["well_formed"], parsed["unknown"]
    errors.add(blank, header, lambda line: _("Kode wilayah kosong."))
    errors.add(
        ~blank & ~well_formed,
        header,
        lambda line: (
            _("Kode wilayah “%(value)s” tidak berbentuk kode Kemendagri (mis. 73.22.03.2004).")
            % {"value": shown(raw[line])}
        ),
    )
    errors.add(
        unknown,
        header,
        lambda line: _("Kode wilayah %(code)s tidak ada dalam daftar wilayah yang dimuat.") % {"code": dotted[line]},
    )
    return dotted, blank | ~well_formed | unknown


def _periods(frame: pd.DataFrame, column: str | None, default: str, errors: _Errors) -> tuple[pd.Series, pd.Series]:
    if column is None:
        if not default:
            raise FileRejected(_("Berkas tidak memiliki kolom periode; isi periode bawaan (mis. 2021-S2)."))
        return pd.Series(default, index=frame.index), pd.Series(False, index=frame.index)
    raw = frame[column]

    def parse(values: pd.Series) -> pd.DataFrame:
        period = values.str.upper().str.replace(" ", "", regex=False).where(values != "", default or "")
        bad = ~period.str.fullmatch(PERIOD_RE.pattern.strip("^$")).fillna(False).astype(bool)
        return pd.DataFrame({"period": period, "bad": bad})

    parsed = _by_value(raw, parse)
    errors.add(
        parsed["bad"],
        column,
        lambda line: (
            _("Periode “%(value)s” tidak dikenal; tulis TAHUN-S1 atau TAHUN-S2, mis. 2021-S2.")
            % {"value": shown(raw[line])}
        ),
    )
    return parsed["period"], parsed["bad"]


def _duplicates(key: pd.DataFrame, ok: pd.Series, errors: _Errors, describe: Callable[[int], str]) -> pd.Series:
    candidates = key[ok]
    first_line = candidates.reset_index().groupby(list(key.columns), sort=False)["index"].transform("min")
    first_line.index = candidates.index
    duplicate = pd.Series(False, index=key.index)
    duplicate.loc[candidates.index] = candidates.duplicated(keep="first").to_numpy()
    errors.add(
        duplicate,
        "",
        lambda line: (
            _("Baris ganda: %(what)s sudah ada di baris %(first)s.")
            % {"what": describe(line), "first": int(first_line[line])}
        ),
    )
    return duplicate


def parse_file(
    path: Path,
    *,
    name: str,
    kind: str,
    known_regions: Iterable[str],
    default_period: str = "",
    progress: Callable[[int], None] = lambda pct: None,
) -> ParsedFile:
    """Read a population or participant file and check every row; the valid rows come back in our columns."""
    frame = read_table(path, name)
    progress(30)
    columns = _pick_columns(frame, kind)
    known = known_regions if isinstance(known_regions, frozenset) else frozenset(known_regions)
    errors = _Errors()
    bad_text = _control_characters(frame, errors)
    region, bad_region = _regions(frame, columns["region"], known, errors)
    period, bad_period = _periods(frame, columns.get("period"), ascii_digits(default_period), errors)
    progress(40)
    out = pd.DataFrame({"region_id": region, "period": period}, index=frame.index)
    failed = bad_text | bad_region | bad_period
    if kind == ImportKind.POPULATION:
        header = columns["population"]
        out["total"], bad_total = _counts(frame, header, header, errors, required=True)
        male_col, female_col = columns.get("male"), columns.get("female")
        out["male"], bad_male = _counts(frame, male_col, male_col or "", errors, required=False)
        out["female"], bad_female = _counts(frame, female_col, female_col or "", errors, required=False)
        out["source"] = frame[columns["source"]].str.slice(0, 200) if "source" in columns else ""
        both = out["male"].notna() & out["female"].notna() & out["total"].notna()
        mismatch = (both & ((out["male"] + out["female"]) != out["total"])).fillna(False).astype(bool)
        errors.add(
            mismatch,
            header,
            lambda line: (
                _("Laki-laki (%(m)s) + perempuan (%(f)s) tidak sama dengan jumlah penduduk (%(t)s).")
                % {"m": out["male"][line], "f": out["female"][line], "t": out["total"][line]}
            ),
        )
        failed = failed | bad_total | bad_male | bad_female | mismatch
        key_ok = ~(bad_region | bad_period)

        def describe(line):
            return _("wilayah %(code)s periode %(period)s") % {
                "code": region[line],
                "period": period[line],
            }
    else:
        raw_segment = frame[columns["segment"]]
        segment = _by_value(
            raw_segment, lambda values: values.str.upper().str.replace(r"[\s_]+", "-", regex=True).map(SEGMENT_ALIASES)
        )
        bad_segment = segment.isna()
        errors.add(
            bad_segment,
            columns["segment"],
            lambda line: (
                _("Segmen “%(value)s” tidak dikenal; pakai salah satu: %(choices)s.")
                % {"value": shown(raw_segment[line]), "choices": ", ".join(Segment.values)}
            ),
        )
        out["segment"] = segment.fillna("").astype(str)
        header = columns["participants"]
        out["total"], bad_total = _counts(frame, header, header, errors, required=True)
        active_col = columns.get("active")
        out["active"], bad_active = _counts(frame, active_col, active_col or "", errors, required=False)
        over = (out["active"].notna() & out["total"].notna() & (out["active"] > out["total"])).fillna(False)
        over = over.astype(bool)
        errors.add(
            over,
            active_col or "",
            lambda line: (
                _("Peserta aktif (%(a)s) melebihi jumlah peserta (%(t)s).")
                % {"a": out["active"][line], "t": out["total"][line]}
            ),
        )
        failed = failed | bad_segment | bad_total | bad_active | over
        key_ok = ~(bad_region | bad_period | bad_segment)

        def describe(line):
            return _("wilayah %(code)s periode %(period)s segmen %(segment)s") % {
                "code": region[line],
                "period": period[line],
                "segment": out["segment"][line],
            }

    progress(55)
    # A duplicate is judged on well-formed keys only; a bad code is reported once, as a bad code.
    duplicate = _duplicates(out[KEY[kind]], key_ok, errors, describe)
    failed = failed | duplicate
    valid = out.loc[~failed.to_numpy(), KEY[kind] + VALUES[kind]].reset_index(drop=True)
    progress(60)
    return ParsedFile(kind=kind, rows=valid, total_rows=len(frame), error_count=errors.count, errors=errors.sorted())


def diff_against(parsed: ParsedFile, existing: pd.DataFrame) -> tuple[pd.DataFrame, int, int, int]:
    """Split the file's valid rows into new, changed and unchanged against what is stored.

    Returns the rows to write (new and changed) and the three counts.
    """
    kind = parsed.kind
    key, values = KEY[kind], VALUES[kind]
    rows = parsed.rows
    if existing.empty:
        return rows, len(rows), 0, 0
    merged = rows.merge(existing, on=key, how="left", suffixes=("", "_old"), indicator=True)
    is_new = (merged["_merge"] == "left_only").to_numpy()
    same = ~is_new
    for column in values:
        new, old = merged[column], merged[f"{column}_old"]
        if column == "source":
            equal = new.fillna("").astype(str) == old.fillna("").astype(str)
        else:
            new, old = new.astype("Int64"), old.astype("Int64")
            equal = ((new == old) | (new.isna() & old.isna())).fillna(False).astype(bool)
        same &= equal.to_numpy()
    changed = ~is_new & ~same
    to_write = merged.loc[is_new | changed, key + values].reset_index(drop=True)
    return to_write, int(is_new.sum()), int(changed.sum()), int(same.sum())
