"""Read paths for the worklists, the exports, the API and the dashboard."""

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from enrollment import flagging
from enrollment.models import (
    AT_RISK,
    LEVEL_PRIORITY,
    NEEDS_REACTIVATION,
    NIK_READY_FOR_BPJS,
    PBI_CANDIDATE,
    REGISTERED,
    SAVABLE,
    Enrollment,
    MessageStatus,
    ReminderMessage,
)
from newborns.models import Newborn, as_identity_number
from sejagad.pagination import capped_count
from sejagad.roles import bound_to_facility

# Each worklist's rows and order (see ``worklist``).
LISTS = {
    "risiko": SAVABLE,
    "aktivasi": NEEDS_REACTIVATION,
    "bpjs": NIK_READY_FOR_BPJS,
    "dinsos": PBI_CANDIDATE,
}
WORKLISTS = tuple(LISTS)
ORDERS = {
    "risiko": ("priority", F("due_on").asc(nulls_last=True), "newborn_id"),
    "aktivasi": (F("nik_deadline").desc(), "newborn_id"),
    "bpjs": ("newborn__nik_issued_on", "newborn_id"),
    "dinsos": ("registration_deadline", "newborn_id"),
}


def worklist(user, *, kind: str = "risiko", **filters) -> QuerySet:
    """Enrollments in the user's scope for one worklist, with the list filters applied:
    risiko (babies at risk who can still be saved first, ``Enrollment.priority``), aktivasi (past the 3-month deadline,
    ``NEEDS_REACTIVATION``, the most recently lapsed first), bpjs (NIK issued, BPJS not yet updated),
    dinsos (babies of poor families to propose as PBI). ``q`` finds a name or a whole NIK, KK or JKN number.
    A baby's level is ``worst_level``, the worse of its two deadlines', so a baby counts once, at that
    level, on every page and figure. Lists sort on stored columns (``priority``, ``due_on``) through an
    index, never on an expression computed for every row."""
    kind = kind if kind in LISTS else "risiko"
    return filtered(user, **filters).for_lists().filter(LISTS[kind]).order_by(*ORDERS[kind])


def filtered(
    user,
    *,
    q: str = "",
    region=None,
    kecamatan=None,
    desa=None,
    facility=None,
    segment: str = "",
    level: int | None = None,
    status: str = "",
    born_from=None,
    born_to=None,
) -> QuerySet:
    """The enrollments in the user's scope that the worklists' filters keep, whatever the list."""
    rows = Enrollment.objects.in_scope_of(user).born_between(born_from, born_to)
    if q := q.strip():
        rows = _matching(rows, q)
    if region:
        rows = rows.in_region(region.code)
    if desa or kecamatan:
        rows = rows.in_region((desa or kecamatan).code)
    if facility:
        rows = rows.filter(facility=facility)
    if segment:
        rows = rows.filter(segment=segment)
    if level is not None:
        rows = rows.filter(worst_level=level)
        if level in LEVEL_PRIORITY:  # the same rows, named by the at-risk index's first key too
            rows = rows.filter(priority=LEVEL_PRIORITY[level])
    if status:
        rows = rows.filter(status=status)
    return rows


def _matching(rows: QuerySet, q: str) -> QuerySet:
    """A name or a whole NIK/KK (``Newborn.search``, the babies list's own rule), or the JKN number."""
    found = Q(newborn__in=Newborn.objects.search(q))
    if number := as_identity_number(q):
        found |= Q(jkn_number=number)
    return rows.filter(found)


def level_tabs(user, **filters) -> list[tuple[int, str, int]]:
    """(level, label, count) for each at-risk level, worst first, counted in the list shown, each up to
    ``count_limit() + 1`` (a badge says "10.000+", it does not count a national table)."""
    filters.pop("level", None)
    return [(level.value, level.label, capped_count(worklist(user, level=level, **filters))) for level in AT_RISK]


def worklist_counts(user, **filters) -> dict[str, int]:
    """The number of babies on each worklist for the same filters (any level or status aside), for the
    lists' tabs: one COUNT per list, each up to ``count_limit() + 1``, whatever the data."""
    filters = {k: v for k, v in filters.items() if k not in ("kind", "level", "status")}
    return {kind: capped_count(worklist(user, kind=kind, **filters)) for kind in WORKLISTS}


def counted_in_one_pass(user, filters: dict) -> dict | None:
    """For a bidan, whose scope is a facility's babies (thousands at most): every list's length and the shown
    list's levels in one aggregate, exact, in the shape of ``summary.worklist_counts``; None for other users,
    whose scope may be a national table, and with a status filter (the tabs count it, the lists do not)."""
    if not bound_to_facility(user) or filters.get("status"):
        return None
    rows = filtered(user, **{k: v for k, v in filters.items() if k not in ("kind", "level")})
    shown = LISTS.get(filters.get("kind"), LISTS["risiko"])
    totals = rows.aggregate(
        **{kind: Count("id", filter=rule) for kind, rule in LISTS.items()},
        **{f"level_{level}": Count("id", filter=shown & Q(worst_level=level)) for level in AT_RISK},
    )
    return {
        "lists": {kind: totals[kind] for kind in LISTS},
        "levels": {level.value: totals[f"level_{level}"] for level in AT_RISK},
    }


def deadline_check(now=None) -> dict:
    """The daily deadline job as Dinkes sees it: its last run, and whether today's is overdue (one query)."""
    last = flagging.last_run()
    today = timezone.localdate(now)
    return {"last": last, "overdue": flagging.daily_run_due(now) and not (last and last.day >= today)}


def reminder_reach_by_facility(user, *, region, born_from, born_to, today) -> list[dict]:
    """Per puskesmas (place of birth; "" for births at home), in one GROUP BY: families, families reachable
    (consent, not stopped, a number), and among babies whose 28-day deadline is due (``dashboard_figures``'
    rule) the share registered in time, for babies reminded (a message sent or delivered) against not."""
    rows = Enrollment.objects.in_scope_of(user).in_region(region.code).born_between(born_from, born_to)
    reminded = Exists(
        ReminderMessage.objects.filter(
            newborn_id=OuterRef("newborn_id"), status__in=[MessageStatus.SENT, MessageStatus.DELIVERED]
        )
    )
    registered = Q(status__in=REGISTERED)
    due = Q(registration_deadline__lt=today) | registered
    in_time = registered & Q(registered_on__lte=F("registration_deadline"))
    reachable = Q(
        newborn__mother__reminder_consent_at__isnull=False, newborn__mother__reminders_stopped_at__isnull=True
    ) & ~Q(newborn__mother__phone="")
    grouped = (
        rows.values("newborn__facility_id", "newborn__facility__name")
        .annotate(
            families=Count("newborn__mother", distinct=True),
            reachable=Count("newborn__mother", distinct=True, filter=reachable),
            reminded_due=Count("id", filter=due & Q(reminded)),
            reminded_in_time=Count("id", filter=due & in_time & Q(reminded)),
            others_due=Count("id", filter=due & ~Q(reminded)),
            others_in_time=Count("id", filter=due & in_time & ~Q(reminded)),
        )
        .order_by("newborn__facility__name", "newborn__facility_id")
    )
    return [
        {
            "facility": row["newborn__facility__name"] or "",
            "families": row["families"],
            "reachable": row["reachable"],
            "reminded_due": row["reminded_due"],
            "reminded_in_time_pct": share(row["reminded_in_time"], row["reminded_due"]),
            "others_due": row["others_due"],
            "others_in_time_pct": share(row["others_in_time"], row["others_due"]),
        }
        for row in grouped
    ]


def share(part: int, whole: int) -> float | None:
    """``part`` as a percentage of ``whole``, one decimal; None when there is no whole."""
    return round(100 * part / whole, 1) if whole else None
