"""Coverage benchmarks (``make bench`` / ``manage.py bench coverage.bench``), on PostgreSQL, outside the tests.

1. Population file for every desa of Indonesia (83,762 rows), 2. a 1,000,000-row participant file: each through
the bulk path (preview, then commit: COPY into staging, one upsert), then again unchanged (the idempotent
re-import), with time and peak Python memory (tracemalloc, a separate run). Beside them, django-import-export's
default import (``Resource.import_data``, row by row) of a sample of the same rows, and the ratio.
3. The roll-up of all of Indonesia. ``--quick`` does the same on one province with small files.
"""

import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import tablib
from django.db import connection, transaction

from coverage import services
from coverage.models import CoverageImport, CoverageSnapshot, ImportKind, ParticipantCount, PopulationCount, Segment
from coverage.resources import ParticipantResource, PopulationResource
from sejagad.models import Region
from sejagad.services import load_regions

PARTICIPANT_ROWS = 1_000_000
PERIODS = ["2024-S2", "2024-S1", "2023-S2"]


def _truncate():
    with connection.cursor() as cursor:
        for model in (CoverageSnapshot, ParticipantCount, PopulationCount, CoverageImport):
            cursor.execute(f"TRUNCATE {model._meta.db_table} RESTART IDENTITY CASCADE")


def _files(folder: Path, desa: list[str], participant_rows: int) -> tuple[Path, Path]:
    rng = np.random.default_rng(2024)
    population = rng.integers(300, 9_000, size=len(desa))
    pop_path = folder / "penduduk_desa.csv"
    pd.DataFrame(
        {"kode_wilayah": desa, "periode": "2024-S2", "jumlah_penduduk": population, "sumber": "DKB 2024-S2"}
    ).to_csv(pop_path, index=False)
    segments = list(Segment.values)
    codes = np.repeat(np.array(desa, dtype=object), len(segments))
    segment_column = np.tile(np.array(segments, dtype=object), len(desa))
    blocks = []
    for period in PERIODS:
        blocks.append(pd.DataFrame({"kode_wilayah": codes, "periode": period, "segmen": segment_column}))
        if sum(len(b) for b in blocks) >= participant_rows:
            break
    frame = pd.concat(blocks, ignore_index=True).iloc[:participant_rows]
    total = rng.integers(50, 2_000, size=len(frame))
    frame["jumlah_peserta"] = total
    frame["peserta_aktif"] = (total * rng.uniform(0.5, 1.0, size=len(frame))).astype(int)
    part_path = folder / "peserta.csv"
    frame.to_csv(part_path, index=False)
    return pop_path, part_path


def _bulk_import(kind: str, path: Path) -> dict:
    started = time.perf_counter()
    record = services.start_import_from_path(kind=kind, path=path)
    record = services.preview_import(import_id=record.pk)
    previewed = time.perf_counter()
    assert record.error_count == 0, record.errors[:3]
    outcome = services.commit_import(import_id=record.pk, schedule_rollup=False)
    finished = time.perf_counter()
    return {
        "rows": record.total_rows,
        "new": outcome.record.rows_new,
        "written": outcome.written,
        "preview_s": previewed - started,
        "commit_s": finished - previewed,
        "total_s": finished - started,
    }


def _peak_memory_mb(kind: str, path: Path, model) -> float:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {model._meta.db_table} RESTART IDENTITY CASCADE")
    tracemalloc.start()
    _bulk_import(kind, path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1024 / 1024


def _import_export_sample(resource_class, path: Path, rows: int, period: str) -> tuple[int, float, int]:
    frame = pd.read_csv(path, dtype=str, nrows=rows)
    frame["periode"] = period  # fresh keys: the sample creates rows, as a first import does
    dataset = tablib.Dataset(*frame.itertuples(index=False, name=None), headers=list(frame.columns))
    started = time.perf_counter()
    with transaction.atomic():
        result = resource_class().import_data(dataset, dry_run=False, raise_errors=True)
    seconds = time.perf_counter() - started
    return len(frame), seconds, result.totals.get("new", 0)


def _line(out, label: str, value: str) -> None:
    out.write(f"  {label:<58} {value}")


def run(out, quick: bool = False) -> None:
    started = time.perf_counter()
    if quick:
        load_regions(code="73")  # Sulawesi Selatan
        desa = list(Region.objects.filter(code__startswith="73.").desa().values_list("code", flat=True))
        participant_rows, sample_rows = 20_000, 300
    else:
        load_regions()
        desa = list(Region.objects.desa().values_list("code", flat=True))
        participant_rows, sample_rows = PARTICIPANT_ROWS, 2_000
    out.write(
        f"Wilayah dimuat: {Region.objects.count():,} ({len(desa):,} desa) dalam {time.perf_counter() - started:.1f} s"
    )
    _truncate()
    with tempfile.TemporaryDirectory() as folder:
        pop_path, part_path = _files(Path(folder), desa, participant_rows)
        out.write(
            f"Berkas: penduduk {len(desa):,} baris ({pop_path.stat().st_size / 1e6:.1f} MB), "
            f"peserta {participant_rows:,} baris ({part_path.stat().st_size / 1e6:.1f} MB)"
        )
        figures = {}
        for label, kind, path, model in (
            ("penduduk", ImportKind.POPULATION, pop_path, PopulationCount),
            ("peserta", ImportKind.PARTICIPANTS, part_path, ParticipantCount),
        ):
            first = _bulk_import(kind, path)
            again = _bulk_import(kind, path)
            memory = _peak_memory_mb(kind, path, model)
            figures[label] = first
            out.write(f"\nImpor {label}: {first['rows']:,} baris")
            _line(out, "jalur bulk, pratinjau (baca + periksa + banding)", f"{first['preview_s']:.2f} s")
            _line(out, "jalur bulk, simpan (periksa ulang + COPY + upsert)", f"{first['commit_s']:.2f} s")
            _line(
                out,
                "jalur bulk, total",
                f"{first['total_s']:.2f} s = {first['rows'] / first['total_s']:,.0f} baris/s",
            )
            _line(
                out,
                "impor ulang berkas yang sama (tidak ada yang berubah)",
                f"{again['total_s']:.2f} s, ditulis {again['written']}",
            )
            _line(out, "memori puncak Python (tracemalloc), impor pertama", f"{memory:,.0f} MB")

        out.write(f"\ndjango-import-export, import_data bawaan (baris per baris), sampel {sample_rows:,} baris")
        for label, resource, path, period in (
            ("penduduk", PopulationResource, pop_path, "2019-S1"),
            ("peserta", ParticipantResource, part_path, "2019-S2"),
        ):
            rows, seconds, new = _import_export_sample(resource, path, sample_rows, period)
            rate = rows / seconds
            bulk_rate = figures[label]["rows"] / figures[label]["total_s"]
            _line(
                out,
                f"{label}: {rows:,} baris ({new:,} baru)",
                f"{seconds:.2f} s = {rate:,.0f} baris/s; jalur bulk {bulk_rate / rate:,.0f}x lebih cepat",
            )
            full_minutes = figures[label]["rows"] / rate / 60
            _line(out, f"  perkiraan untuk {figures[label]['rows']:,} baris", f"{full_minutes:,.1f} menit")

    # The roll-up: every region of the loaded area, every period.
    PopulationCount.objects.filter(period__in=["2019-S1"]).delete()
    ParticipantCount.objects.filter(period__in=["2019-S2"]).delete()
    CoverageSnapshot.objects.all().delete()
    out.write("\nRoll-up desa > kecamatan > kabupaten > provinsi")
    one = services.compute_coverage(periods=["2024-S2"])
    _line(out, f"1 periode (2024-S2), {one.regions:,} wilayah, pertama kali", f"{one.seconds:.2f} s")
    full = services.compute_coverage()
    _line(out, f"semua periode ({', '.join(full.periods)}), {full.regions:,} baris", f"{full.seconds:.2f} s")
    again = services.compute_coverage()
    _line(out, "semua periode lagi, tanpa data baru (ditulis 0)", f"{again.seconds:.2f} s, ditulis {again.written}")
    national = CoverageSnapshot.objects.filter(period="2024-S2", level="provinsi").count()
    out.write(f"  provinsi dengan cakupan 2024-S2: {national}")
