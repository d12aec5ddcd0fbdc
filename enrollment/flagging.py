"""Deadline levels, set-based: a handful of statements whatever the number of babies.

Every write that can move a baby's levels (a birth registered or corrected, documents, a BPJS status)
recomputes that baby at once through ``flag_deadlines(enrollments=...)``. The daily job then only moves what
the calendar moves:

1. a safety net: babies changed since the last run get any missing enrollment and fresh deadlines;
2. the rows to look at (``changed_since``): those whose open deadline crossed a window boundary (30/14/7/0
   days) on any day since the last run, plus rows and birth records written since it, each branch read
   through its own index; the first run, a change of windows or ``full=True`` looks at every row;
3. on PostgreSQL ONE statement gives each of those rows its levels for today (a CASE per deadline), UPDATEs
   the rows where either differs, tells the midwife and the Dinkes staff of the RETURNING rows that enter
   Kritis (once per baby and deadline, ever; at most ``KRITIS_NOTICES_PER_DAY`` each a day; none on a full
   run, which finds every baby "new") and returns the run's counts; SQLite does the same in a few statements,
   and so does a full run on PostgreSQL (counts, then one plain UPDATE of the table);
4. on the day's first run, one GROUP BY writes each recipient's digest: her babies at risk per deadline and
   level.
All in one transaction: a worker killed halfway leaves nothing half-done, and a re-run changes nothing.
"""

import datetime
import functools
import operator
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Count, F, PositiveSmallIntegerField, Q, Value, When
from django.utils import timezone

from enrollment.models import (
    AT_RISK,
    NEEDS_REACTIVATION,
    NIK_UPDATED,
    REGISTERED,
    Deadline,
    Digest,
    Enrollment,
    FlagLevel,
    FlagRun,
    Notification,
)
from newborns.deadlines import NIK_UPDATE_MONTHS, REGISTRATION_DAYS
from newborns.models import Newborn
from sejagad.db import AddDays, AddMonths
from sejagad.roles import Role

LEVEL_FIELD = {Deadline.REGISTRATION: "registration_level", Deadline.NIK: "nik_level"}
DEADLINE_FIELD = {Deadline.REGISTRATION: "registration_deadline", Deadline.NIK: "nik_deadline"}
DONE_STATUSES = {Deadline.REGISTRATION: REGISTERED, Deadline.NIK: NIK_UPDATED}


def warning_windows() -> tuple[int, int, int]:
    """Days before a deadline for PERHATIAN, MENDESAK, KRITIS (settings; default 30, 14, 7)."""
    return tuple(settings.DEADLINE_WARNING_DAYS)


def level_conditions(deadline: Deadline, today: datetime.date) -> dict[int, Q]:
    """For one deadline, the condition of each level on a given day; together they cover every row once."""
    attention, urgent, critical = warning_windows()
    field = DEADLINE_FIELD[deadline]
    done = Q(status__in=DONE_STATUSES[deadline])
    day = datetime.timedelta
    return {
        FlagLevel.SELESAI: done,
        FlagLevel.TERLAMBAT: ~done & Q(**{f"{field}__lt": today}),
        FlagLevel.KRITIS: ~done & Q(**{f"{field}__gte": today, f"{field}__lte": today + day(critical)}),
        FlagLevel.MENDESAK: ~done & Q(**{f"{field}__gt": today + day(critical), f"{field}__lte": today + day(urgent)}),
        FlagLevel.PERHATIAN: ~done
        & Q(**{f"{field}__gt": today + day(urgent), f"{field}__lte": today + day(attention)}),
        FlagLevel.AMAN: ~done & Q(**{f"{field}__gt": today + day(attention)}),
    }


def level_of(deadline_date: datetime.date, *, done: bool, today: datetime.date) -> FlagLevel:
    """The same rule for one date, for pages and tests."""
    if done:
        return FlagLevel.SELESAI
    attention, urgent, critical = warning_windows()
    left = (deadline_date - today).days
    if left < 0:
        return FlagLevel.TERLAMBAT
    if left <= critical:
        return FlagLevel.KRITIS
    if left <= urgent:
        return FlagLevel.MENDESAK
    if left <= attention:
        return FlagLevel.PERHATIAN
    return FlagLevel.AMAN


def _sql(queryset) -> tuple[str, list]:
    sql, params = queryset.query.sql_with_params()
    return sql, list(params)


def create_missing_enrollments(newborns=None) -> int:
    """One INSERT ... SELECT: an enrollment for every live newborn that has none, deadlines computed in SQL;
    the baby starts in its mother's segment (a PBI mother's baby is PBI, a PPU child follows the parent)."""
    newborns = (newborns if newborns is not None else Newborn.objects.all()).live().filter(enrollment__isnull=True)
    select = newborns.order_by().values_list(
        "id",
        AddDays("birth_date", REGISTRATION_DAYS),
        AddMonths("birth_date", NIK_UPDATE_MONTHS),
        "mother__jkn_segment",
        # The birth's copies (Enrollment.desa_code ...), written here so the database's check finds them right.
        "desa_id",
        "birth_date",
        "facility_id",
        "attending_midwife_id",
    )
    sql, params = _sql(select)
    table = Enrollment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (newborn_id, registration_deadline, nik_deadline, segment, desa_code, birth_date,"
            f" facility_id, attending_midwife_id, jkn_number, status, registration_level, nik_level, updated_at, live)"
            f" SELECT sub.*, '', %s, %s, %s, %s, %s FROM ({sql}) sub",
            ["BELUM_TERDAFTAR", FlagLevel.AMAN, FlagLevel.AMAN, timezone.now(), True, *params],
        )
        return cursor.rowcount


def refresh_deadlines(newborns) -> int:
    """One UPDATE joined to the birth records: the deadlines follow the birth date, so a corrected birth date
    moves them; only rows whose deadlines differ are written."""
    follow = newborns.order_by().values(
        "id",
        due_registration=AddDays("birth_date", REGISTRATION_DAYS),
        due_nik=AddMonths("birth_date", NIK_UPDATE_MONTHS),
    )
    sql, params = _sql(follow)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Enrollment._meta.db_table} AS e"
            " SET registration_deadline = f.due_registration, nik_deadline = f.due_nik"
            f" FROM ({sql}) f WHERE e.newborn_id = f.id"
            " AND (e.registration_deadline <> f.due_registration OR e.nik_deadline <> f.due_nik)",
            params,
        )
        return cursor.rowcount


def follow_births(newborns) -> int:
    """Memberships that follow these birth records: any missing one created, deadlines refreshed from the
    birth date. Returns how many were created."""
    created = create_missing_enrollments(newborns)
    refresh_deadlines(newborns)
    return created


def calendar_moves(since: datetime.date, today: datetime.date) -> Q:
    """The rows whose level can change between day ``since`` and ``today`` with nothing written: an open
    deadline that crossed a window boundary (30, 14 or 7 days before it, or the day after it) in between."""
    return functools.reduce(operator.or_, (_crossed(deadline, since, today) for deadline in Deadline))


def _crossed(deadline: Deadline, since: datetime.date, today: datetime.date) -> Q:
    day = datetime.timedelta
    field = DEADLINE_FIELD[deadline]
    ranges = [Q(**{f"{field}__gt": since + day(k), f"{field}__lte": today + day(k)}) for k in (*warning_windows(), -1)]
    return ~Q(status__in=DONE_STATUSES[deadline]) & functools.reduce(operator.or_, ranges)


def changed_since(last: FlagRun, today: datetime.date) -> list:
    """The rows whose level may differ from what the last run left, as querysets each read through its own
    index: an open deadline that crossed a window boundary on any day since the last run (so missed days
    are caught up), a membership or a birth record written since it started. Together, a UNION."""
    branches = [Enrollment.objects.filter(_crossed(deadline, last.day, today)) for deadline in Deadline]
    branches.append(Enrollment.objects.filter(updated_at__gte=last.started_at))
    branches.append(Enrollment.objects.filter(newborn__updated_at__gte=last.started_at))
    return branches


def level_case(deadline: Deadline, today: datetime.date) -> Case:
    """The level each row should have today, as one SQL CASE."""
    return Case(
        *[When(condition, then=Value(level)) for level, condition in level_conditions(deadline, today).items()],
        output_field=PositiveSmallIntegerField(),
    )


# What the recipients' join needs of a baby, carried by every row given to ``_recipients_sql``: the
# enrollment's copies of its birth record (Enrollment.desa_code ...).
BABY_COLUMNS = ("desa_code", "attending_midwife_id", "facility_id")


def _recipients_sql(rows_sql: str) -> str:
    """Each (recipient, row) pair for the rows of ``rows_sql`` (a SELECT carrying the baby's ``BABY_COLUMNS``):
    the bidan of the baby's attendance or facility, and every Dinkes officer whose region holds the baby at
    any level down to her own desa (every loaded region when she has none), as
    ``Newborn.objects.in_scope_of`` sees them. Takes the parameters BIDAN, STAF_DINKES after the SELECT's."""
    return f"""
        SELECT u.id AS recipient_id, w.* FROM ({rows_sql}) w
        JOIN {_user_table()} u ON u.is_active AND (
            (u.role = %s AND (u.id = w.attending_midwife_id OR u.facility_id = w.facility_id))
            OR (u.role = %s AND (u.region_id IS NULL OR w.desa_code = u.region_id
                OR w.desa_code LIKE u.region_id || '.%%')))"""


def notices_per_day() -> int:
    """At most this many immediate notices per recipient a day (settings; default 10); the rest are in
    the digest. A big import of births must not bury the bidan's phone."""
    return settings.KRITIS_NOTICES_PER_DAY


def _notice_insert_sql(entering_sql: str) -> tuple[str, list]:
    """The INSERT that tells the midwife and the Dinkes officers of each baby entering Kritis (once per baby
    and deadline, ever), at most ``notices_per_day()`` each a calendar day, writes and the daily job
    together. ``entering_sql`` yields (id, deadline, due, ``BABY_COLUMNS``): enrollment, deadline kind, its
    date and what the recipients' join needs. Returns the statement and its parameters after
    ``entering_sql``'s own."""
    table = Notification._meta.db_table
    # The day she receives them on, whatever day the levels were computed for.
    start_of_day = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time.min))
    # Numbered per recipient, nearest deadline first, after the babies she was already told of: those few
    # notices are read once and looked up in a hash. On PostgreSQL the babies entering are given to that read
    # as an array, found once: the planner cannot size rows that come from the UPDATE, and would otherwise
    # pass over them once for every notice.
    babies = "= ANY(ARRAY(SELECT id FROM pairs))" if connection.vendor == "postgresql" else "IN (SELECT id FROM pairs)"
    sql = f"""
        INSERT INTO {table} (recipient_id, enrollment_id, level, deadline, created_at)
        WITH pairs AS ({_recipients_sql(entering_sql)}),
        ranked AS (
            SELECT r.recipient_id, r.id, r.deadline,
                   ROW_NUMBER() OVER (PARTITION BY r.recipient_id ORDER BY r.due, r.id, r.deadline) AS rn
            FROM pairs r
            WHERE (r.recipient_id, r.id, r.deadline) NOT IN (
                SELECT x.recipient_id, x.enrollment_id, x.deadline FROM {table} x
                WHERE x.level = %s AND x.enrollment_id {babies}))
        SELECT k.recipient_id, k.id, %s, k.deadline, %s FROM ranked k
        -- Her notices sent today are counted for her first rows only (the cheaper test goes first), not
        -- once for each of thousands of babies entering Kritis together.
        WHERE k.rn <= %s AND k.rn + (SELECT COUNT(*) FROM {table} t WHERE t.recipient_id = k.recipient_id
              AND t.created_at >= %s) <= %s
        ON CONFLICT DO NOTHING"""
    cap = notices_per_day()
    return sql, [
        Role.BIDAN,
        Role.STAF_DINKES,
        FlagLevel.KRITIS,
        FlagLevel.KRITIS,
        timezone.now(),
        cap,
        start_of_day,
        cap,
    ]


def open_deadline_case() -> Case:
    """Which deadline a baby is working on: registration until registered, then the NIK update."""
    return Case(
        When(~Q(status__in=REGISTERED), then=Value(Deadline.REGISTRATION.value)),
        default=Value(Deadline.NIK.value),
    )


def _expression_sql(expression) -> tuple[str, list]:
    """An expression over the enrollment's columns, as SQL naming them ``"enrollment_enrollment"."<column>"``."""
    query = Enrollment.objects.all().query
    return query.get_compiler(connection=connection).compile(expression.resolve_expression(query))


def write_digests(today: datetime.date) -> int:
    """One digest per recipient for ``today``: her babies at risk counted per open deadline and level, written
    once (the unique day makes a re-run a no-op). The babies are first counted per desa, midwife and facility,
    so the recipients' join reads a few thousand groups, not every baby at risk."""
    # Grouped by plain columns of the enrollment table, which the planner has statistics for (migration 0019):
    # it then counts them in one hash table.
    rows = (
        Enrollment.objects.live()
        .filter(worst_level__in=AT_RISK)
        .order_by()
        .values("status", "nik_level", "worst_level", *BABY_COLUMNS)
        .annotate(n=Count("*"))
    )
    sql, params = _sql(rows)
    # The list and the open deadline depend on the status and the NIK level alone: the lists' own rules are
    # evaluated once per group, whose columns are named as the enrollment's (a CASE per baby cost 0.3 s at 5 M).
    list_sql, list_params = _expression_sql(
        Case(When(NEEDS_REACTIVATION, then=Value("aktivasi")), default=Value("risiko"))
    )
    deadline_sql, deadline_params = _expression_sql(open_deadline_case())
    table = connection.ops.quote_name(Enrollment._meta.db_table)
    # MATERIALIZED: counted once, then joined to the recipients (else the count may run once per recipient).
    grouped = (
        f"WITH groups AS MATERIALIZED ({sql})"
        f" SELECT g.recipient_id, g.list_kind, g.open_deadline, g.worst_level, SUM(g.n) FROM ("
        + _recipients_sql(
            f"SELECT {table}.*, {list_sql} AS list_kind, {deadline_sql} AS open_deadline FROM groups {table}"
        )
        + ") g GROUP BY g.recipient_id, g.list_kind, g.open_deadline, g.worst_level"
    )
    with connection.cursor() as cursor:
        cursor.execute(grouped, [*params, *list_params, *deadline_params, Role.BIDAN, Role.STAF_DINKES])
        found = cursor.fetchall()
    counts: dict[int, list[dict]] = {}
    for recipient_id, kind, deadline, level, n in found:
        counts.setdefault(recipient_id, []).append({"list": kind, "deadline": deadline, "level": level, "n": int(n)})
    from django.contrib.auth import get_user_model

    # Her area for the list links; a bidan's list is already hers (attended or at her facility).
    regions = dict(get_user_model().objects.filter(pk__in=counts, role=Role.STAF_DINKES).values_list("pk", "region_id"))
    order = {d.value: i for i, d in enumerate(Deadline)}
    digests = [
        Digest(
            recipient_id=recipient_id,
            day=today,
            counts=sorted(lines, key=lambda c: (c["list"] == "aktivasi", order[c["deadline"]], -c["level"])),
            total=sum(c["n"] for c in lines),
            region_code=regions.get(recipient_id) or "",
        )
        for recipient_id, lines in counts.items()
    ]
    # The digests already written today stay as they were: one a day, never repeated.
    done = set(Digest.objects.filter(day=today).values_list("recipient_id", flat=True))
    fresh = [d for d in digests if d.recipient_id not in done]
    Digest.objects.bulk_create(fresh, ignore_conflicts=True)
    return len(fresh)


def _user_table() -> str:
    from django.contrib.auth import get_user_model

    return get_user_model()._meta.db_table


@dataclass(frozen=True)
class FlagResult:
    run: FlagRun | None
    moved: dict[str, dict[str, int]]
    notifications: int
    examined: int = 0


def last_run() -> FlagRun | None:
    # The run that ran last, not the latest day: after a clock put right, "since" is that run's day.
    return FlagRun.objects.filter(finished_at__isnull=False).order_by("-started_at").first()


def daily_run_due(now: datetime.datetime | None = None) -> bool:
    """Today's run should have finished by now: DEADLINE_FLAG_HOUR plus the job's time limit has passed."""
    now = timezone.localtime(now)
    limit = datetime.timedelta(seconds=settings.JOB_TIME_LIMITS["enrollment.tasks.flag_deadlines"])
    return now >= now.replace(hour=settings.DEADLINE_FLAG_HOUR, minute=0, second=0, microsecond=0) + limit


def daily_run_missed(now: datetime.datetime | None = None) -> bool:
    """Today's run is due and has not finished. A run is one transaction, so a run whose worker died left no
    FlagRun behind."""
    today = timezone.localdate(now)
    return daily_run_due(now) and not FlagRun.objects.filter(day=today, finished_at__isnull=False).exists()


def use_batch_memory() -> None:
    """On PostgreSQL, the rest of the transaction sorts and hashes in ``settings.FLAG_JOB_WORK_MEM``: after
    missed days at 5 M enrollments, the job's statement spilled its rows to disk (10.9 s; 7.8 s in memory)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.FLAG_JOB_WORK_MEM])


@transaction.atomic
def flag_deadlines(*, today: datetime.date | None = None, enrollments=None, full: bool = False) -> FlagResult:
    """With ``enrollments``: recompute those rows now, as every write does. Without: the daily job, which
    looks only at the rows that may have moved since the last run (every row on a first or ``full`` run)."""
    today = today or timezone.localdate()
    if enrollments is not None:
        return _recompute([enrollments], today)
    use_batch_memory()
    windows = list(warning_windows())
    last = last_run()
    full = full or last is None or last.windows != windows or last.day > today
    run = FlagRun.objects.create(day=today, full=full, windows=windows)
    births = Newborn.objects.all() if full else Newborn.objects.filter(updated_at__gte=last.started_at)
    created = follow_births(births)
    branches = None if full else changed_since(last, today)
    # A full run (the first after an install, new windows) finds every baby "new": it tells nobody baby by
    # baby, the digest says it all at once.
    result = _recompute(branches, today, run=run, notify=not full)
    # The digest is the day's first run's: a re-run the same day does not count every baby again.
    run.digests = write_digests(today) if last is None or last.day != today else 0
    run.finished_at = timezone.now()
    run.examined, run.created_enrollments = result.examined, created
    run.moved, run.notifications = result.moved, result.notifications
    run.save()
    return result


def _recompute(
    branches: list | None, today: datetime.date, run: FlagRun | None = None, notify: bool = True
) -> FlagResult:
    """Both levels of every live row of ``branches`` (querysets whose union is the rows to look at; None for
    every row) for ``today``; with ``notify``, notices for the rows that enter Kritis. PostgreSQL does it in
    one statement; the embedded SQLite, without data-modifying WITH, in a few."""
    if branches is None:
        # A full run moves nearly every row: one plain UPDATE of the table, after its counts, costs what the
        # UPDATE alone does; finding millions of rows again by id would not.
        examined, moved, notified = _recompute_step_by_step(Enrollment.objects.live(), today, notify)
    elif connection.vendor == "postgresql":
        examined, moved, notified = _recompute_in_one_statement(branches, today, notify)
    else:
        ids = functools.reduce(operator.or_, (Q(id__in=branch.values("id")) for branch in branches))
        examined, moved, notified = _recompute_step_by_step(Enrollment.objects.live().filter(ids), today, notify)
    return FlagResult(run=run, moved=moved, notifications=notified, examined=examined)


def _recompute_in_one_statement(branches: list, today: datetime.date, notify: bool) -> tuple[int, dict, int]:
    """One statement: the rows of ``branches`` with their new levels (each branch reads whole rows through
    its index, never a join back to the table), the UPDATE of those that differ, the notices from the
    UPDATE's RETURNING rows that enter Kritis, and the run's counts from the same rows."""
    new_levels = {
        "new_registration": level_case(Deadline.REGISTRATION, today),
        "new_nik": level_case(Deadline.NIK, today),
    }
    # Voided babies left out by the row's own copy (Enrollment.live), not by joining every birth record.
    rows = [
        branch.live()
        .annotate(**new_levels)
        .order_by()
        .values("id", "newborn_id", "registration_level", "nik_level", *new_levels)
        for branch in branches
    ]
    # In id order, which is the table's order: the UPDATE then writes page after page, not at random.
    sql, params = _sql((rows[0].union(*rows[1:]) if len(rows) > 1 else rows[0]).order_by("id"))
    statement = f"""
        WITH candidates AS MATERIALIZED ({sql}),
        moved AS (
            UPDATE {Enrollment._meta.db_table} e SET registration_level = c.new_registration, nik_level = c.new_nik
            FROM candidates c
            -- the ids as an array too: the rows are found through the primary key, not a scan of the table
            WHERE e.id = c.id AND e.id = ANY(ARRAY(SELECT id FROM candidates
                  WHERE new_registration <> registration_level OR new_nik <> nik_level))
            RETURNING e.id, e.newborn_id, c.registration_level AS old_registration, c.new_registration,
                      c.nik_level AS old_nik, c.new_nik, e.registration_deadline, e.nik_deadline,
                      {", ".join(f"e.{column}" for column in BABY_COLUMNS)})"""
    counts = [
        "SELECT 'examined', 0, COUNT(*) FROM candidates",
        "SELECT 'registration', new_registration, COUNT(*) FROM moved WHERE new_registration <> old_registration"
        " GROUP BY new_registration",
        "SELECT 'nik', new_nik, COUNT(*) FROM moved WHERE new_nik <> old_nik GROUP BY new_nik",
    ]
    if notify:
        baby = ", ".join(f"m.{column}" for column in BABY_COLUMNS)
        entering = (
            f"SELECT m.id, %s AS deadline, m.registration_deadline AS due, {baby} FROM moved m"
            " WHERE m.new_registration = %s AND m.old_registration < %s"
            f" UNION ALL SELECT m.id, %s, m.nik_deadline, {baby} FROM moved m"
            " WHERE m.new_nik = %s AND m.old_nik < %s"
        )
        kritis = FlagLevel.KRITIS
        # MATERIALIZED: the babies entering Kritis are read once, then joined to their recipients.
        insert, after = _notice_insert_sql("SELECT * FROM entering")
        statement += f", entering AS MATERIALIZED ({entering}), notified AS ({insert} RETURNING 1)"
        params += [Deadline.REGISTRATION.value, kritis, kritis, Deadline.NIK.value, kritis, kritis, *after]
        counts.append("SELECT 'notified', 0, COUNT(*) FROM notified")
    with connection.cursor() as cursor:
        cursor.execute(statement + " " + " UNION ALL ".join(counts), params)
        found = cursor.fetchall()
    moved = {deadline.value: {} for deadline in Deadline}
    totals = {"examined": 0, "notified": 0}
    for what, level, n in found:
        if what in moved:
            moved[what][FlagLevel(level).name] = n
        else:
            totals[what] = n
    return totals["examined"], moved, totals["notified"]


def _recompute_step_by_step(scope, today: datetime.date, notify: bool) -> tuple[int, dict, int]:
    """The same in a few statements (SQLite, and a full run): a GROUP BY per deadline for the counts, one
    INSERT for the notices, one UPDATE."""
    moved: dict[str, dict[str, int]] = {}
    entering = []
    new_levels = {LEVEL_FIELD[deadline]: level_case(deadline, today) for deadline in Deadline}
    for deadline in Deadline:
        field, new_level = LEVEL_FIELD[deadline], new_levels[LEVEL_FIELD[deadline]]
        changing = scope.exclude(**{field: new_level}).annotate(new_level=new_level).order_by()
        moves = changing.values("new_level").annotate(n=Count("id"))
        moved[deadline.value] = {FlagLevel(m["new_level"]).name: m["n"] for m in moves}
        to_kritis = changing.filter(new_level=FlagLevel.KRITIS, **{f"{field}__lt": FlagLevel.KRITIS})
        due = F(DEADLINE_FIELD[deadline])
        entering.append(
            to_kritis.annotate(deadline=Value(deadline.value), due=due).values("id", "deadline", "due", *BABY_COLUMNS)
        )
    notified = 0
    if notify:
        sql, params = _sql(entering[0].union(*entering[1:], all=True))
        insert, after = _notice_insert_sql(sql)
        with connection.cursor() as cursor:
            cursor.execute(insert, [*params, *after])
            notified = cursor.rowcount
    examined = scope.count()
    differs = functools.reduce(operator.or_, (~Q(**{field: level}) for field, level in new_levels.items()))
    scope.filter(differs).update(**new_levels)
    return examined, moved, notified
