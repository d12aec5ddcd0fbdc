"""Benchmark of queueing the family reminders on PostgreSQL, outside the test suite (issue #13).

Synthetic data: 1 M newborns of Luwu Utara (20,000 with --quick) born over the past 400 days, every mother
agreeing to reminders with a number, nobody registered. The day's queue (one INSERT ... SELECT per step) is
printed beside the same work done per row in Python (each baby's steps checked and inserted one by one),
timed on a sample and scaled to the whole table; then a re-run the same day, which must queue nothing.
Run with `make bench BENCH_ARGS="enrollment.bench_reminders --quick"`."""

import time

from django.db import connection
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat, LPad
from django.utils import timezone

from enrollment import flagging, reminders
from enrollment.models import Enrollment, MessageStatus, ReminderMessage, ReminderStep
from newborns.models import Mother
from sejagad.benchmarks import generate_newborns, report_goal, report_ratio, reset_database
from sejagad.services import load_regions

FULL, QUICK = 1_000_000, 20_000
NAIVE_SAMPLE = 2_000


def _naive_queue(enrollments, steps, today) -> int:
    """What a per-row job would do: for each baby and step, decide in Python, then insert one row."""
    queued = 0
    for enrollment in enrollments:
        for step in steps:
            if reminders.due(step, today).filter(pk=enrollment.pk).exists():
                _, created = ReminderMessage.objects.get_or_create(
                    newborn_id=enrollment.newborn_id,
                    step=step,
                    defaults={"phone": enrollment.newborn.mother.phone, "status": MessageStatus.QUEUED},
                )
                queued += created
    return queued


def run(out, quick: bool = False) -> None:
    n = QUICK if quick else FULL
    today = timezone.localdate()
    started = time.perf_counter()
    load_regions(code="73.22")
    reset_database()
    generate_newborns(n)
    flagging.create_missing_enrollments()
    Mother.objects.update(
        phone=Concat(Value("+62812"), LPad(Cast("id", CharField()), 8, Value("0"))),
        reminder_consent_at=timezone.now(),
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    steps = list(ReminderStep.objects.filter(is_active=True))
    out.write(f"Data: {n:,} synthetic newborns, {len(steps)} steps, in {time.perf_counter() - started:.1f} s\n")

    sample = list(Enrollment.objects.select_related("newborn__mother").order_by("?")[:NAIVE_SAMPLE])
    naive_started = time.perf_counter()
    _naive_queue(sample, steps, today)
    naive = (time.perf_counter() - naive_started) / len(sample) * n
    ReminderMessage.objects.all().delete()

    queue_started = time.perf_counter()
    queued = reminders.queue_due_reminders(today=today)
    queue_s = time.perf_counter() - queue_started
    out.write(f"queued {queued:,} messages for today\n")
    report_ratio(
        out,
        "queue the day's reminders (INSERT ... SELECT per step)",
        queue_s,
        against=f"per-row Python loop, {NAIVE_SAMPLE:,} rows timed and scaled",
        against_value=naive,
        goal=0.05,
    )
    again_started = time.perf_counter()
    again = reminders.queue_due_reminders(today=today)
    report_goal(out, f"re-run the same day ({again} queued)", time.perf_counter() - again_started, goal=1.0)
