"""Reading and checking Dukcapil population and BPJS participant files (CSV or XLSX) with pandas.

Pure functions over a file: no database writes but a cache beside it. ``services`` calls them for the
preview and again for the commit; the commit reuses what the preview found (``CHECKED_SUFFIX``) when the
file and the regions it was checked against are the same. Every check runs once per distinct value of a
column (the reader gives categoricals), so a million rows cost seconds, and every error keeps its line
number (the header is line 1, the first data row line 2, as a spreadsheet shows it).
"""

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings
from django.utils.translation import gettext as _

from coverage.models import PERIOD_RE, ImportKind, Segment
from sejagad import spreadsheets
from sejagad.text import CONTROL_RE, DIGITS_TO_ASCII, ascii_digits, cap, shown

logger = logging.getLogger(__name__)

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
REGION_DIGITS = (2, 4, 6, 10)


# The file as a whole cannot be read: wrong type, too large, a zip bomb, a missing column. The one
# refusal of every upload (the reconciliation's too).
FileRejected = spreadsheets.UploadRejected
# The preview's result, kept beside the file for the commit.
CHECKED_SUFFIX = ".checked.npz"
CHECKED_VERSION = "1"


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


def limits() -> spreadsheets.Limits:
    return spreadsheets.Limits(
        max_bytes=max_upload_bytes(),
        max_unpacked_bytes=getattr(
            settings, "COVERAGE_IMPORT_MAX_XLSX_UNPACKED_BYTES", DEFAULT_MAX_XLSX_UNPACKED_BYTES
        ),
    )


def check_upload(name: str, size: int, head: bytes, opener: Callable[[], object]) -> None:
    """Refuse what we should not even open: unknown types, oversize files, XLSX that unpack too large."""
    spreadsheets.check_upload(name=name, size=size, head=head, opener=opener, limits=limits())


def read_table(path: Path, name: str, kind: str | None = None) -> pd.DataFrame:
    """The file's cells as text (categoricals), headers normalised, digits in ASCII; the index is the
    spreadsheet line number. With ``kind``, a file without that kind's columns is refused before its rows
    are read."""
    frame = spreadsheets.read_table(
        path,
        name=name,
        max_unpacked_bytes=limits().max_unpacked_bytes,
        check_header=kind and (lambda header: _find_columns([spreadsheets.normalise_header(h) for h in header], kind)),
    )
    header = [spreadsheets.normalise_header(c) for c in frame.columns]
    keep = [i for i, c in enumerate(header) if c and not c.startswith("unnamed")]
    # Digits of any script become ASCII here, before any check: a code or count is one string everywhere.
    columns = {
        i: spreadsheets.recode_text(frame.iloc[:, i], lambda values: values.str.translate(DIGITS_TO_ASCII))
        for i in keep
    }
    out = pd.DataFrame(columns, index=frame.index, copy=False)
    out.columns = [header[i] for i in keep]
    return out


def _find_columns(header: list[str], kind: str) -> dict[str, int]:
    wanted = {column: COLUMN_ALIASES[column] for column in REQUIRED[kind] + OPTIONAL[kind]}
    return spreadsheets.find_columns(header, wanted, required=REQUIRED[kind])


def _pick_columns(frame: pd.DataFrame, kind: str) -> dict[str, str]:
    return {column: frame.columns[position] for column, position in _find_columns(list(frame.columns), kind).items()}


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


def _distinct(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy(), series.cat.categories.to_numpy(dtype=object)
    return pd.factorize(series, use_na_sentinel=False)


def _by_value(series: pd.Series, compute: Callable[[pd.Series], pd.Series | pd.DataFrame]):
    """Do string work once per distinct value: a million rows hold some thousands of codes and counts."""
    codes, uniques = _distinct(series)
    result = compute(pd.Series(uniques, dtype=object).fillna("").astype(str))
    if isinstance(result, pd.DataFrame):
        return pd.DataFrame({c: _take(result[c], codes, series.index) for c in result.columns}, index=series.index)
    return _take(result, codes, series.index)


def _take(values: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """Per-value results spread over the rows; text stays a categorical (a million pointers cost 8 MB and a
    million-row comparison or factorize later, a categorical costs neither)."""
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        merged, uniques = pd.factorize(values.to_numpy(dtype=object))
        return pd.Series(
            pd.Categorical.from_codes(merged[codes], categories=pd.Index(uniques, dtype=object)), index=index
        )
    # Taken from the array, not the Series: a Series take would first build a million-label index.
    return pd.Series(values.array.take(codes), index=index, name=values.name)


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
        if not pd.Series(_distinct(cells)[1], dtype=object).astype(str).str.contains(CONTROL_RE).any():
            continue
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
        frame.isetitem(position, spreadsheets.recode_text(cells, lambda v: v.str.replace(CONTROL_RE, "", regex=True)))
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
        period = pd.Categorical.from_codes(np.zeros(len(frame), dtype=np.int8), categories=[default])
        return pd.Series(period, index=frame.index), pd.Series(False, index=frame.index)
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
    # One integer per key, from the columns' category codes (every key column is a categorical): far
    # cheaper to compare than tuples of text. A key column's codes are equal exactly when its texts are.
    rows = np.flatnonzero(ok.to_numpy())
    combined = np.zeros(len(rows), dtype=np.int64)
    bound = 1
    for column in key.columns:
        values = key[column]
        if not isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype("category")
        width = len(values.cat.categories) + 1
        combined *= width
        combined += values.cat.codes.to_numpy()[rows]
        combined += 1  # missing (code -1) is a value too
        bound *= width
    if bound > 4 * len(rows) + 1024:
        combined, _uniques = pd.factorize(combined)
        bound = len(_uniques)
    # The first row of each key: written from the last row to the first, so the first one stays. An array
    # as long as the number of possible keys, not a sort or a hash table of a million rows.
    order = np.arange(len(rows), dtype=np.int32)
    first = np.zeros(max(bound, 1), dtype=np.int32)
    first[combined[::-1]] = order[::-1]
    first_of_row = first[combined]
    repeated = first_of_row != order
    duplicate = pd.Series(False, index=key.index)
    duplicate.iloc[rows[repeated]] = True
    lines = key.index.to_numpy()
    first_line = {}
    if repeated.any():
        first_line = dict(
            zip(lines[rows[repeated]].tolist(), lines[rows[first_of_row[repeated]]].tolist(), strict=True)
        )
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
    """Read a population or participant file and check every row; the valid rows come back in our columns.

    The result is kept beside the file; the next call with the same file, kind, default period and regions
    (the commit after the preview) takes it instead of reading the file again, once."""
    known = known_regions if isinstance(known_regions, frozenset) else frozenset(known_regions)
    default_period = ascii_digits(default_period)
    key = _checked_key(path, kind, default_period, known)
    if (parsed := _take_checked(path, key)) is not None:
        progress(60)
        return parsed
    parsed = _check(path, name=name, kind=kind, known=known, default_period=default_period, progress=progress)
    _keep_checked(path, key, parsed)
    return parsed


def _check(
    path: Path, *, name: str, kind: str, known: frozenset[str], default_period: str, progress: Callable[[int], None]
) -> ParsedFile:
    frame = read_table(path, name, kind)
    progress(30)
    columns = _pick_columns(frame, kind)
    errors = _Errors()
    bad_text = _control_characters(frame, errors)
    region, bad_region = _regions(frame, columns["region"], known, errors)
    period, bad_period = _periods(frame, columns.get("period"), default_period, errors)
    progress(40)
    out = pd.DataFrame({"region_id": region, "period": period}, index=frame.index)
    failed = bad_text | bad_region | bad_period
    if kind == ImportKind.POPULATION:
        header = columns["population"]
        out["total"], bad_total = _counts(frame, header, header, errors, required=True)
        male_col, female_col = columns.get("male"), columns.get("female")
        out["male"], bad_male = _counts(frame, male_col, male_col or "", errors, required=False)
        out["female"], bad_female = _counts(frame, female_col, female_col or "", errors, required=False)
        out["source"] = (
            _by_value(frame[columns["source"]], lambda v: v.str.slice(0, 200)) if "source" in columns else ""
        )
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
        out["segment"] = segment  # NaN only on rows that failed
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
    for column in valid.columns:
        if valid[column].dtype != "Int64":
            valid[column] = valid[column].astype("category")
    progress(60)
    return ParsedFile(kind=kind, rows=valid, total_rows=len(frame), error_count=errors.count, errors=errors.sorted())


def _checked_path(path: Path) -> Path:
    return Path(f"{path}{CHECKED_SUFFIX}")


def _checked_key(path: Path, kind: str, default_period: str, known: frozenset[str]) -> str:
    """Names what a check depended on: the file as stored, the kind, the default period and the regions."""
    stat = path.stat()
    digest = hashlib.blake2b(digest_size=16)
    for part in (CHECKED_VERSION, kind, default_period, str(stat.st_size), str(stat.st_mtime_ns)):
        digest.update(part.encode() + b"\0")
    digest.update("\n".join(sorted(known)).encode())
    return digest.hexdigest()


def _keep_checked(path: Path, key: str, parsed: ParsedFile) -> None:
    """Arrays only (``allow_pickle=False`` on reading): the cache can never run code."""
    rows = parsed.rows
    meta = {
        "key": key,
        "kind": parsed.kind,
        "total_rows": parsed.total_rows,
        "error_count": parsed.error_count,
        "errors": parsed.errors,
        "columns": list(rows.columns),
    }
    arrays = {"meta": np.array(json.dumps(meta))}
    for n, column in enumerate(rows.columns):
        values = rows[column]
        if values.dtype == "Int64":
            arrays[f"int{n}"] = values.to_numpy(dtype="int64", na_value=0)
            arrays[f"na{n}"] = values.isna().to_numpy()
        else:
            values = values.astype("category")
            arrays[f"codes{n}"] = values.cat.codes.to_numpy()
            arrays[f"text{n}"] = np.array(values.cat.categories.tolist(), dtype=str)
    target, partial = _checked_path(path), Path(f"{path}.partial.npz")
    try:
        np.savez(partial, **arrays)
        os.replace(partial, target)
    except OSError:
        logger.warning("could not keep the checked rows of an import", exc_info=True)


def _take_checked(path: Path, key: str) -> ParsedFile | None:
    """The kept result if it was made for this key; taken once (a later check reads the file again)."""
    kept = _checked_path(path)
    try:
        with np.load(kept, allow_pickle=False) as arrays:
            meta = json.loads(str(arrays["meta"]))
            if meta["key"] != key:
                return None
            columns = {}
            for n, column in enumerate(meta["columns"]):
                if f"int{n}" in arrays:
                    columns[column] = pd.array(arrays[f"int{n}"], dtype="Int64")
                    columns[column][arrays[f"na{n}"]] = pd.NA
                else:
                    categories = pd.Index(arrays[f"text{n}"].astype(object), dtype=object)
                    columns[column] = pd.Categorical.from_codes(arrays[f"codes{n}"], categories=categories)
    except (OSError, ValueError, KeyError):
        return None
    finally:
        with contextlib.suppress(OSError):
            kept.unlink()
    return ParsedFile(
        kind=meta["kind"],
        rows=pd.DataFrame(columns, columns=meta["columns"]),
        total_rows=meta["total_rows"],
        error_count=meta["error_count"],
        errors=meta["errors"],
    )


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
