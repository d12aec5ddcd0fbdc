"""Coverage benchmarks (``make bench`` / ``manage.py bench coverage.bench``), on PostgreSQL, outside the tests.

1. Population file for every desa of Indonesia (83,762 rows), 2. a 1,000,000-row participant file: each through
the bulk path (preview, then commit: COPY into staging, one upsert), then again unchanged (the idempotent
re-import). Beside each, in the same run: the floor (the same rows ``COPY``'d straight into the table, with its
indexes and foreign key, committed) and the ratio; the same first import in a fresh Python process, with its
peak resident memory (``ru_maxrss``) and that of the process before reading anything; django-import-export's
default import (``Resource.import_data``, row by row) of a sample of the same rows, and the ratio.
3. The roll-up of all of Indonesia. ``--quick`` does the same on one province with small files.
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import tablib
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from coverage import imports, services
from coverage.models import CoverageImport, CoverageSnapshot, ImportKind, ParticipantCount, PopulationCount, Segment
from coverage.resources import ParticipantResource, PopulationResource
from sejagad.models import Region
from sejagad.services import load_regions

PARTICIPANT_ROWS = 1_000_000
PERIODS = ["2024-S2", "2024-S1", "2023-S2"]
GOAL_RATIO = 1.5  # issue #12: an import within 1.5x of COPY
GOAL_ROWS_PER_S = 60_000
GOAL_RSS_MB = 300
COPY_CHUNK_BYTES = 8 * 1024 * 1024


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


def _copy_floor(kind: str, path: Path, model) -> float:
    """Seconds to COPY the file's rows, already in our columns, straight into the table and commit (its
    deferred foreign key is checked then): what no import of this file can beat."""
    parsed = imports.parse_file(
        path, name=path.name, kind=kind, known_regions=Region.objects.values_list("code", flat=True)
    )
    Path(f"{path}{imports.CHECKED_SUFFIX}").unlink(missing_ok=True)
    columns = imports.KEY[kind] + imports.VALUES[kind]
    frame = parsed.rows[columns].copy()
    frame["updated_at"] = timezone.now().isoformat()
    text = frame.to_csv(index=False, header=False)
    del parsed, frame
    _empty(model)
    table = model._meta.db_table
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}, updated_at) FROM STDIN WITH (FORMAT csv)") as copy:
            for start in range(0, len(text), COPY_CHUNK_BYTES):
                copy.write(text[start : start + COPY_CHUNK_BYTES])
    seconds = time.perf_counter() - started
    _empty(model)
    return seconds


def _empty(model) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {model._meta.db_table} RESTART IDENTITY CASCADE")


# Peak RSS is VmHWM, the high-water mark of this process image: on Linux ru_maxrss also keeps the RSS of the
# forked parent (here the bench, with the whole region list loaded) across exec.
FRESH_PROCESS = """
import json, sys
from pathlib import Path
import django
django.setup()
from coverage import bench
before = bench.peak_rss_mb()
figures = bench._bulk_import(sys.argv[1], Path(sys.argv[2]))
figures["baseline_mb"] = before
figures["peak_mb"] = bench.peak_rss_mb()
print(json.dumps(figures))
"""


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fresh_import(kind: str, path: Path, model) -> dict:
    """A first import in a new Python process (nothing read before it): its times and its peak RSS."""
    _empty(model)
    env = os.environ | {"DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "sejagad.settings")}
    done = subprocess.run(
        [sys.executable, "-c", FRESH_PROCESS, kind, str(path)],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


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
            floor = _copy_floor(kind, path, model)
            first = _bulk_import(kind, path)
            again = _bulk_import(kind, path)
            fresh = _fresh_import(kind, path, model)
            figures[label] = first
            rows = first["rows"]
            out.write(f"\nImpor {label}: {rows:,} baris")
            _line(out, "jalur bulk, pratinjau (baca + periksa + banding)", f"{first['preview_s']:.2f} s")
            _line(out, "jalur bulk, simpan (COPY ke staging + upsert)", f"{first['commit_s']:.2f} s")
            _line(out, "jalur bulk, total", f"{first['total_s']:.2f} s = {rows / first['total_s']:,.0f} baris/s")
            _line(
                out,
                "batas bawah: COPY langsung ke tabel (indeks + FK, commit)",
                f"{floor:.2f} s = {rows / floor:,.0f} baris/s",
            )
            _line(
                out,
                f"rasio total / COPY (sasaran <= {GOAL_RATIO}x)",
                f"{first['total_s'] / floor:.2f}x",
            )
            _line(
                out,
                "impor ulang berkas yang sama (tidak ada yang berubah)",
                f"{again['total_s']:.2f} s, ditulis {again['written']}",
            )
            _line(
                out,
                "proses baru: total",
                f"{fresh['total_s']:.2f} s = {rows / fresh['total_s']:,.0f} baris/s "
                f"(sasaran >= {GOAL_ROWS_PER_S:,}); rasio COPY {fresh['total_s'] / floor:.2f}x",
            )
            _line(
                out,
                f"proses baru: RSS puncak, VmHWM (sasaran < {GOAL_RSS_MB} MB)",
                f"{fresh['peak_mb']:,.0f} MB (sebelum membaca berkas {fresh['baseline_mb']:,.0f} MB)",
            )

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
