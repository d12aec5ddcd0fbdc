"""The daily deadline job, set-based: a handful of statements whatever the number of babies.

1. every newborn without an enrollment gets one, deadlines computed in SQL (INSERT ... SELECT);
2. for each deadline, the level every row should have today is one CASE expression; one GROUP BY counts
   the moves and one INSERT ... SELECT ... ON CONFLICT DO NOTHING notifies the midwife and the Dinkes staff
   of babies moving to a worse at-risk level (once per level, ever);
3. one UPDATE moves both levels of the rows where either differs.
All in one transaction: a worker killed halfway leaves nothing half-done, and a re-run changes nothing.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Count, F, PositiveSmallIntegerField, Q, Value, When
from django.utils import timezone

from enrollment.models import NIK_UPDATED, REGISTERED, Deadline, Enrollment, FlagLevel, FlagRun, Notification
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
    """One INSERT ... SELECT: an enrollment for every newborn that has none, deadlines computed in SQL."""
    newborns = (newborns if newborns is not None else Newborn.objects.all()).filter(enrollment__isnull=True)
    select = newborns.order_by().values_list(
        "id",
        AddDays("birth_date", REGISTRATION_DAYS),
        AddMonths("birth_date", NIK_UPDATE_MONTHS),
    )
    sql, params = _sql(select)
    table = Enrollment._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (newborn_id, registration_deadline, nik_deadline, segment, jkn_number, status,"
            f" registration_level, nik_level, updated_at)"
            f" SELECT sub.*, '', '', %s, %s, %s, %s FROM ({sql}) sub",
            ["BELUM_TERDAFTAR", FlagLevel.AMAN, FlagLevel.AMAN, timezone.now(), *params],
        )
        return cursor.rowcount


def level_case(deadline: Deadline, today: datetime.date) -> Case:
    """The level each row should have today, as one SQL CASE."""
    return Case(
        *[When(condition, then=Value(level)) for level, condition in level_conditions(deadline, today).items()],
        output_field=PositiveSmallIntegerField(),
    )


def _notify_worsening(deadline: Deadline, worsening) -> int:
    """Notify the midwife and the Dinkes staff of each baby about to move to a worse at-risk level;
    ``worsening`` yields (enrollment id, new level)."""
    sql, params = _sql(worsening)
    newborn, user = Newborn._meta.db_table, _user_table()
    # A bidan hears of the babies she attended or born at her facility; a Dinkes officer of every baby
    # in her region (or the whole district when she has none).
    recipients = f"""
        SELECT u.id, e.id, w.new_level FROM ({sql}) w
        JOIN {Enrollment._meta.db_table} e ON e.id = w.id
        JOIN {newborn} n ON n.id = e.newborn_id
        JOIN {user} u ON u.is_active AND (
            (u.role = %s AND (u.id = n.attending_midwife_id OR u.facility_id = n.facility_id))
            OR (u.role = %s AND (u.region_id IS NULL OR n.desa_id LIKE u.region_id || '.%%')))"""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Notification._meta.db_table} (recipient_id, enrollment_id, level, deadline, created_at)"
            f" SELECT r.*, %s, %s FROM ({recipients}) r WHERE true ON CONFLICT DO NOTHING",
            [deadline.value, timezone.now(), *params, Role.BIDAN, Role.STAF_DINKES],
        )
        return cursor.rowcount


def _user_table() -> str:
    from django.contrib.auth import get_user_model

    return get_user_model()._meta.db_table


@dataclass(frozen=True)
class FlagResult:
    run: FlagRun
    moved: dict[str, dict[str, int]]
    notifications: int


@transaction.atomic
def flag_deadlines(*, today: datetime.date | None = None, enrollments=None) -> FlagResult:
    """Recompute both deadline levels of every enrollment (or of ``enrollments``) for ``today``."""
    today = today or timezone.localdate()
    run = FlagRun.objects.create(day=today) if enrollments is None else None
    created = create_missing_enrollments() if enrollments is None else 0
    scope = enrollments if enrollments is not None else Enrollment.objects.all()
    moved: dict[str, dict[str, int]] = {}
    notified = 0
    new_levels = {LEVEL_FIELD[deadline]: level_case(deadline, today) for deadline in Deadline}
    for deadline in Deadline:
        field, new_level = LEVEL_FIELD[deadline], new_levels[LEVEL_FIELD[deadline]]
        changing = scope.exclude(**{field: new_level}).annotate(new_level=new_level).order_by()
        moves = changing.values("new_level").annotate(n=Count("id"))
        moved[deadline.value] = {FlagLevel(m["new_level"]).name: m["n"] for m in moves}
        worsening = changing.filter(new_level__gt=F(field), new_level__gte=FlagLevel.PERHATIAN)
        notified += _notify_worsening(deadline, worsening.values("id", "new_level"))
    # One UPDATE for both levels, touching only the rows where either differs.
    differs = Q()
    for field, new_level in new_levels.items():
        differs |= ~Q(**{field: new_level})
    scope.filter(differs).update(**new_levels)
    if run:
        run.finished_at = timezone.now()
        run.created_enrollments, run.moved, run.notifications = created, moved, notified
        run.save()
    return FlagResult(run=run, moved=moved, notifications=notified)
