"""Benchmark of the worklist CSV export on PostgreSQL, outside the test suite (``manage.py bench
enrollment.bench_exports``).

Synthetic data from the benchmarks' generator (``sejagad.benchmarks.generate_newborns``), every baby
born in the past 85 days so that the whole table is on the at-risk list. The export
(``exports.csv_stream``, COPY with every cell computed in
SQL) is measured beside the floor measured in the same run: ``COPY`` of the same list's plain columns
(no masking, labels, escaping or chunking), read the same way. Then the time to the first chunk of rows,
the peak Python memory of the export (tracemalloc), and the plain Python path over a sample."""

import statistics
import time
import tracemalloc

from django.db import connection
from django.utils import timezone

from enrollment import exports, flagging, selectors
from enrollment.models import Enrollment
from newborns.models import Newborn
from sejagad.benchmarks import generate_newborns, report_goal, report_ratio
from sejagad.models import User
from sejagad.services import load_regions
from sejagad.writers import Tally, copy_to_stdout

FULL, QUICK = 1_000_000, 100_000
PLAIN_SAMPLE = 50_000
REPEATS = 3


def _prepare(n: int) -> None:
    load_regions(code="73.22")
    generate_newborns(n)
    with connection.cursor() as cursor:
        # Everyone younger than the 3-month deadline: the at-risk list holds the whole table.
        cursor.execute(
            f"UPDATE {Newborn._meta.db_table} SET birth_date = %s::date - (id %% 85)::int", [timezone.localdate()]
        )
    flagging.create_missing_enrollments()
    flagging.flag_deadlines(today=timezone.localdate(), full=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _reader() -> User:
    # A district-wide reader who sees whole numbers: the heaviest export (no masking saved).
    return User(username="bench", is_superuser=True, is_active=True)


def _floor(rows) -> tuple[float, int]:
    """``COPY (the same list's plain columns) TO STDOUT``, each message read and dropped."""
    sql, params = rows.values_list(*exports.SOURCES).query.sql_with_params()
    started = time.perf_counter()
    count = 0
    with connection.cursor() as cursor:
        with cursor.copy(copy_to_stdout(connection, sql, params)) as copy:
            for _data in copy:
                count += 1
    return time.perf_counter() - started, count


def _export(rows, user) -> tuple[float, float, int]:
    """The export as the view streams it: seconds in all, seconds to the first chunk of rows, rows."""
    tally = Tally()
    started = time.perf_counter()
    stream = exports.csv_stream(rows, user, tally=tally, copy=True)
    next(stream)  # BOM and header
    next(stream)
    first = time.perf_counter() - started
    for _chunk in stream:
        pass
    return time.perf_counter() - started, first, tally.rows


def _peak_memory(rows, user) -> int:
    tracemalloc.start()
    try:
        for _chunk in exports.csv_stream(rows, user, copy=True):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _plain(rows, user) -> tuple[float, int]:
    """Today's Python path (the embedded SQLite default's), over a sample of the list."""
    tally = Tally()
    started = time.perf_counter()
    for _chunk in exports.csv_stream(rows[:PLAIN_SAMPLE], user, tally=tally, copy=False):
        pass
    return time.perf_counter() - started, tally.rows


def run(out, quick: bool = False) -> None:
    n = QUICK if quick else FULL
    started = time.perf_counter()
    _prepare(n)
    user = _reader()
    rows = selectors.worklist(user, kind="risiko")
    out.write(
        f"Data: {n:,} synthetic newborns, {Enrollment.objects.count():,} enrollments, prepared in"
        f" {time.perf_counter() - started:.1f} s\n"
    )
    floors, exports_, firsts = [], [], []
    for _ in range(REPEATS):  # alternated, so that a cache warmed by one helps the other as much
        seconds, floor_rows = _floor(rows)
        floors.append(floor_rows / seconds)
        seconds, first, export_rows = _export(rows, user)
        exports_.append(export_rows / seconds)
        firsts.append(first)
    if export_rows != floor_rows:
        out.write(f"WARNING: the export wrote {export_rows:,} rows, the floor {floor_rows:,}\n")
    export_rate, floor_rate = statistics.median(exports_), statistics.median(floors)
    out.write(f"worklist CSV export (risiko), {export_rows:,} rows, median of {REPEATS}:\n")
    report_ratio(
        out,
        "COPY export (masking, labels, escaping in SQL)",
        export_rate,
        against="COPY (same plain query) TO STDOUT",
        against_value=floor_rate,
        goal=0.75,
        unit="rows/s",
        higher_is_better=True,
    )
    report_goal(out, "COPY export rows/s", export_rate, goal=200_000, unit="rows/s", higher_is_better=True)
    report_goal(out, "time to the first chunk of rows", statistics.median(firsts), goal=0.5)
    peak = _peak_memory(rows, user)
    out.write(f"peak Python memory during the export (tracemalloc): {peak / 1_048_576:.1f} MB\n")
    seconds, sample = _plain(rows, user)
    report_ratio(
        out,
        f"plain Python path (SQLite's), first {sample:,} rows",
        sample / seconds,
        against="COPY export",
        against_value=export_rate,
        unit="rows/s",
    )
