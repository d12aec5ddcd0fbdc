"""Benchmarks of the daily deadline job on PostgreSQL, outside the test suite (issue #12's goals).

Synthetic data: 5 M newborns of Luwu Utara (20,000 with --quick), birth dates spread over the past 400 days,
nobody registered yet, generated in SQL; the same recipients every run (a Dinkes officer for the
kabupaten and one per kecamatan). Each figure is printed beside its floor measured in the same run:
- first run against one UPDATE of both levels on the whole table;
- a daily run against one UPDATE of only the rows whose level changes, found through the deadline indexes;
- a re-run the same day against an absolute goal.
Run with `make bench` (or `make bench BENCH_ARGS="enrollment.bench --quick"`)."""

import datetime
import time

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrollment import flagging
from enrollment.models import NIK_UPDATED, REGISTERED, Deadline, Enrollment, FlagRun
from sejagad.benchmarks import generate_newborns, report_goal, report_ratio, reset_database
from sejagad.models import Region, User
from sejagad.roles import Role
from sejagad.services import load_regions

FULL, QUICK = 5_000_000, 20_000
NAIVE_SAMPLE = 2_000


def _recipients() -> int:
    """The officers told of Kritis babies and sent a digest: the same every run, whatever was left before."""
    kecamatan = Region.objects.filter(parent_id="73.22").values_list("code", flat=True)
    users = [User(username="bench-kabupaten", role=Role.STAF_DINKES, region_id="73.22")]
    users += [User(username=f"bench-{code}", role=Role.STAF_DINKES, region_id=code) for code in kecamatan]
    User.objects.bulk_create(users)
    return len(users)


def _timed(fn):
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        result = fn()
    return time.perf_counter() - started, len(queries), result


def _vacuum() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {Enrollment._meta.db_table}")


def _floor(update) -> float:
    """The time of one bare UPDATE, rolled back and vacuumed away so the job then starts from the same rows."""
    started = time.perf_counter()
    with transaction.atomic():
        flagging.use_batch_memory()  # as the job does
        update()
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    _vacuum()
    return elapsed


def _levels_for(today: datetime.date) -> dict:
    return {flagging.LEVEL_FIELD[d]: flagging.level_case(d, today) for d in Deadline}


def _moves(result) -> int:
    return sum(sum(levels.values()) for levels in result.moved.values())


def run(out, quick: bool = False) -> None:
    n = QUICK if quick else FULL
    today = timezone.localdate()
    started = time.perf_counter()
    load_regions(code="73.22")
    reset_database()
    generate_newborns(n)
    recipients = _recipients()
    out.write(
        f"Data: {n:,} synthetic newborns, {recipients} Dinkes officers, generated in "
        f"{time.perf_counter() - started:.1f} s\n"
    )

    create_s, _, created = _timed(flagging.create_missing_enrollments)
    out.write(f"create enrollments (INSERT ... SELECT): {created:,} rows in {create_s:.2f} s\n")
    _vacuum()

    whole_table = _floor(lambda: Enrollment.objects.update(**_levels_for(today)))
    first_s, first_q, first = _timed(lambda: flagging.flag_deadlines(today=today))
    out.write(f"first run: {first_q} statements, {_moves(first):,} level changes\n")
    report_ratio(
        out,
        "daily job, first run",
        first_s,
        against="one UPDATE of the whole table",
        against_value=whole_table,
        goal=1.3,
    )
    _vacuum()

    again_s, again_q, _ = _timed(lambda: flagging.flag_deadlines(today=today))
    report_goal(out, f"daily job, re-run the same day ({again_q} statements)", again_s, goal=0.2)

    tomorrow = today + datetime.timedelta(days=1)
    for label, day, since in (
        ("next day", tomorrow, today),
        ("after two missed days", tomorrow + datetime.timedelta(days=3), tomorrow),
    ):
        changing = Enrollment.objects.filter(flagging.calendar_moves(since, day))
        floor = _floor(lambda changing=changing, day=day: changing.update(**_levels_for(day)))
        seconds, statements, result = _timed(lambda day=day: flagging.flag_deadlines(today=day))
        digests = FlagRun.objects.get(day=day).digests
        out.write(
            f"{label}: {statements} statements, {_moves(result):,} level changes, {result.examined:,} rows "
            f"examined, {result.notifications:,} notices, {digests} digests\n"
        )
        report_ratio(
            out,
            f"daily job, {label}",
            seconds,
            against="one indexed UPDATE of the changing rows",
            against_value=floor,
            goal=1.5,
        )

    naive_s = _naive(today)
    per_million = naive_s / NAIVE_SAMPLE * 1_000_000
    out.write(
        f"naive per-row ORM loop: {NAIVE_SAMPLE:,} rows in {naive_s:.2f} s "
        f"({NAIVE_SAMPLE / naive_s:,.0f} rows/s; 1,000,000 rows ≈ {per_million / 60:.1f} min)\n"
    )


def _naive(today: datetime.date) -> float:
    """The per-row loop the job replaces, over a sample: read each row, compute in Python, write it back."""
    started = time.perf_counter()
    for e in Enrollment.objects.all()[:NAIVE_SAMPLE]:
        Enrollment.objects.filter(pk=e.pk).update(
            registration_level=flagging.level_of(e.registration_deadline, done=e.status in REGISTERED, today=today),
            nik_level=flagging.level_of(e.nik_deadline, done=e.status in NIK_UPDATED, today=today),
        )
    return time.perf_counter() - started
