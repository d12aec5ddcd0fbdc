"""The official Kemendagri region list shipped with the app (``sejagad/data/wilayah``)."""

import csv
import gzip
from collections.abc import Iterator
from functools import cache
from pathlib import Path

WILAYAH_FILE = Path(__file__).resolve().parent / "data" / "wilayah" / "wilayah.csv.gz"


def read_regions(path: Path = WILAYAH_FILE) -> Iterator[dict[str, str]]:
    """Rows of the list: code, name, level, parent_code, postal_code."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        yield from csv.DictReader(f)


@cache
def kecamatan_codes() -> frozenset[str]:
    """Every kecamatan code of Indonesia, undotted (``732203``), as the first six digits of a NIK."""
    return frozenset(r["code"].replace(".", "") for r in read_regions() if r["level"] == "kecamatan")


def dotted(code: str) -> str:
    """``7322032004`` or ``73.22.03.2004`` -> ``73.22.03.2004``."""
    digits = code.strip().replace(".", "")
    parts = [digits[:2], digits[2:4], digits[4:6], digits[6:]]
    return ".".join(p for p in parts if p)
