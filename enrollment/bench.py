"""Benchmarks of the daily deadline job (and the BPJS export) on PostgreSQL, outside the test suite.

Synthetic data: N newborns of Luwu Utara, birth dates spread over the past year, generated in SQL.
Run with `make bench` (or `make bench BENCH_ARGS="enrollment.bench --quick"`)."""

import datetime
import time
import tracemalloc

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrollment import flagging
from enrollment.models import NIK_UPDATED, REGISTERED, Enrollment, FlagRun, Notification
from newborns.models import Mother, Newborn
from sejagad.models import Region
from sejagad.services import load_regions

FULL, QUICK = 1_000_000, 20_000
NAIVE_SAMPLE = 10_000


def reset_and_generate(n: int, desa_prefix: str = "73.22.") -> None:
    """Empty the bench database's newborn tables and fill them with ``n`` babies born over the past 400
    days in the desa whose code starts with ``desa_prefix`` (all loaded desa when empty), in SQL."""
    if "bench" not in connection.settings_dict["NAME"]:
        raise RuntimeError("the benchmark only runs on a database whose name contains 'bench'")
    tables = [
        Notification,
        FlagRun,
        Enrollment,
        Enrollment.history.model,
        Newborn,
        Newborn.history.model,
        Mother,
        Mother.history.model,
    ]
    today = timezone.localdate()
    with connection.cursor() as c:
        c.execute("TRUNCATE " + ", ".join(m._meta.db_table for m in tables) + " RESTART IDENTITY CASCADE")
        if n == 0:
            return
        # Desa numbered 0..k-1 in a temporary table, so row i lives in desa i mod k (a join, not an
        # array subscript, which costs O(k) per row for 83,762 desa).
        c.execute(
            "CREATE TEMP TABLE bench_desa AS SELECT code, (row_number() OVER (ORDER BY code)) - 1 AS k"
            f" FROM {Region._meta.db_table} WHERE level = 'desa_kelurahan' AND code LIKE %s",
            [desa_prefix + "%"],
        )
        c.execute("CREATE INDEX ON bench_desa (k)")
        c.execute("SELECT count(*) FROM bench_desa")
        (k,) = c.fetchone()
        numbered = f"FROM generate_series(1, %s) i JOIN bench_desa d ON d.k = i %% {k:d}"
        c.execute(
            f"INSERT INTO {Mother._meta.db_table} (id, nik, name, kk_number, phone, desa_id, jkn_number, jkn_segment,"
            " created_at, updated_at)"
            " SELECT i, '732203' || lpad(i::text, 10, '0'), 'IBU ' || i, '', '', d.code, '', '', now(), now()"
            f" {numbered}",
            [n],
        )
        c.execute(
            f"INSERT INTO {Newborn._meta.db_table} (id, mother_id, birth_date, sex, birth_order, weight_grams, desa_id,"
            " temporary_name, given_name, akta_number, submission_key, created_at, updated_at)"
            " SELECT i, i, %s::date - (i %% 400), CASE WHEN i %% 2 = 0 THEN 'L' ELSE 'P' END, 1, 3000, d.code,"
            f" 'By. Ny. IBU ' || i, '', '', md5(i::text)::uuid, now(), now() {numbered}",
            [today, n],
        )
        c.execute("DROP TABLE bench_desa")
        c.execute("ANALYZE")


def _timed(fn):
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        result = fn()
    return time.perf_counter() - started, len(queries), result


def _naive(today: datetime.date) -> float:
    """The per-row loop the job replaces, over a sample: read each row, compute in Python, write it back."""
    started = time.perf_counter()
    for e in Enrollment.objects.all()[:NAIVE_SAMPLE]:
        Enrollment.objects.filter(pk=e.pk).update(
            registration_level=flagging.level_of(e.registration_deadline, done=e.status in REGISTERED, today=today),
            nik_level=flagging.level_of(e.nik_deadline, done=e.status in NIK_UPDATED, today=today),
        )
    return time.perf_counter() - started


def run(out, quick: bool = False) -> None:
    n = QUICK if quick else FULL
    today = timezone.localdate()
    started = time.perf_counter()
    load_regions(code="73.22")
    reset_and_generate(n)
    out.write(f"Data: {n:,} synthetic newborns generated in {time.perf_counter() - started:.1f} s")

    create_s, create_q, created = _timed(flagging.create_missing_enrollments)
    out.write(f"create enrollments (INSERT ... SELECT): {created:,} rows in {create_s:.2f} s, {create_q} statement(s)")
    first_s, first_q, first = _timed(lambda: flagging.flag_deadlines(today=today))
    moved = sum(sum(levels.values()) for levels in first.moved.values())
    out.write(f"flag_deadlines, first run: {first_s:.2f} s, {first_q} statements, {moved:,} level changes")
    again_s, again_q, _ = _timed(lambda: flagging.flag_deadlines(today=today))
    out.write(f"flag_deadlines, re-run (nothing changes): {again_s:.2f} s, {again_q} statements")
    next_s, next_q, nxt = _timed(lambda: flagging.flag_deadlines(today=today + datetime.timedelta(days=1)))
    moved = sum(sum(levels.values()) for levels in nxt.moved.values())
    out.write(f"flag_deadlines, next day: {next_s:.2f} s, {next_q} statements, {moved:,} level changes")

    naive_s = _naive(today)
    per_million = naive_s / NAIVE_SAMPLE * 1_000_000
    out.write(
        f"naive per-row ORM loop: {NAIVE_SAMPLE:,} rows in {naive_s:.2f} s "
        f"({NAIVE_SAMPLE / naive_s:,.0f} rows/s; 1,000,000 rows ≈ {per_million / 60:.1f} min)"
    )
    out.write(f"ratio, set-based first run vs naive per million rows: {per_million / first_s * n / 1_000_000:,.0f}x")
    _bench_export(out, n)


def _bench_export(out, n: int) -> None:
    try:
        from enrollment.exports import bench_rows
    except ImportError:
        out.write("export: not available")
        return
    tracemalloc.start()
    started = time.perf_counter()
    rows = bench_rows()
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out.write(
        f"CSV export: {rows:,} rows in {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s), "
        f"peak Python memory {peak / 2**20:.1f} MiB"
    )
