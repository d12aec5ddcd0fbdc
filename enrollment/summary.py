"""The dashboard's summary: live babies counted per desa and birth month (``BirthSummary``), and per kabupaten
and month from those, so that a dashboard adds up a few hundred rows instead of re-reading every baby in scope.

It stays equal to the lists without trusting any write path to tell it: database triggers (migration 0012)
mark the desa of every birth or membership written, whatever wrote it, and ``refresh`` recounts the marked
desa before anything is read. The deadline figures of the last months also move with the calendar alone, so
those months are recounted once a day (the flag job does it; otherwise the day's first reader)."""

import copy
import datetime
import hashlib
import uuid

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count, Exists, F, Q, QuerySet, Sum
from django.db.models.functions import Substr, TruncMonth
from django.utils import timezone

from enrollment import selectors
from enrollment.models import (
    AT_RISK,
    NEEDS_REACTIVATION,
    NIK_READY_FOR_BPJS,
    NIK_UPDATED,
    PBI_CANDIDATE,
    REGISTERED,
    BirthSummary,
    BirthSummaryMark,
    BirthSummaryState,
    EnrollmentStatus,
)
from enrollment.selectors import LISTS
from newborns.models import Newborn
from sejagad.models import RegionLevel, code_within
from sejagad.roles import Capability, Role, bound_to_facility, can

# The column counting each worklist's babies (its tab); the at-risk list's is the sum of its levels.
WORKLIST_COUNTS = {"risiko": None, "aktivasi": "reactivation", "bpjs": "bpjs_ready", "dinsos": "pbi_candidates"}


def level_column(kind: str, level: int) -> str:
    """The column counting a list's babies at one level (``worklist(kind=..., level=...)``, its badge):
    ``level_5`` for the at-risk list, ``reactivation_level_5`` for the reactivation list's."""
    prefix = WORKLIST_COUNTS[kind]
    return f"{prefix}_level_{int(level)}" if prefix else f"level_{int(level)}"


COUNTS = (
    "births",
    "registered",
    "in_kk",
    "with_nik",
    "bpjs_updated",
    "registration_due",
    "registered_in_time",
    "nik_due",
    "nik_in_time",
    "reactivation",
    "bpjs_ready",
    "pbi_candidates",
    "deactivated_this_month",
    *(level_column(kind, level) for kind in WORKLIST_COUNTS for level in AT_RISK),
)
KABUPATEN_CODE = len("73.22")
# Children of a region, by the length of their code: a province's kabupaten, a kabupaten's kecamatan, a
# kecamatan's desa.
CHILD_CODE = {RegionLevel.PROVINSI: 5, RegionLevel.KABUPATEN_KOTA: 8, RegionLevel.KECAMATAN: 13}
# The 28-day and 3-month deadlines of babies born this month or in the four before it are not all past: their
# months' deadline figures change from one day to the next without any write.
OPEN_MONTHS = 4
LOCK = 7_322_0012  # PostgreSQL advisory lock: one refresh at a time


def _from_newborn(lookup: str) -> str:
    return lookup.removeprefix("newborn__") if lookup.startswith("newborn__") else f"enrollment__{lookup}"


def _through_enrollment(q: Q) -> Q:
    """A filter written on ``Enrollment`` (the lists' own), applied to a baby through its membership."""
    out = copy.copy(q)
    out.children = [
        _through_enrollment(child)
        if isinstance(child, Q)
        else (_from_newborn(child[0]), F(_from_newborn(child[1].name)) if isinstance(child[1], F) else child[1])
        for child in q.children
    ]
    return out


def _counts(today: datetime.date) -> dict:
    """Each figure as a filtered COUNT over babies, written as the list or figure it stands for counts it."""
    registered, nik_updated = Q(status__in=REGISTERED), Q(status__in=NIK_UPDATED)
    this_month = today.replace(day=1)
    on_enrollment = {
        "registered": registered,
        "in_kk": Q(newborn__kk_added_on__isnull=False),
        "with_nik": Q(newborn__nik_issued_on__isnull=False),
        "bpjs_updated": nik_updated,
        "registration_due": Q(registration_deadline__lt=today) | registered,
        "registered_in_time": registered & Q(registered_on__lte=F("registration_deadline")),
        "nik_due": Q(nik_deadline__lt=today) | nik_updated,
        "nik_in_time": nik_updated & Q(nik_updated_on__lte=F("nik_deadline")),
        # worklist(kind=...) of "aktivasi", "bpjs" and "dinsos"
        "reactivation": NEEDS_REACTIVATION,
        "bpjs_ready": NIK_READY_FOR_BPJS,
        "pbi_candidates": PBI_CANDIDATE,
        "deactivated_this_month": Q(
            status=EnrollmentStatus.NONAKTIF,
            deactivated_on__gte=this_month,
            deactivated_on__lt=this_month + relativedelta(months=1),
        ),
        # worklist(kind=..., level=...): each list's babies at the worse of their two levels
        **{level_column(kind, level): LISTS[kind] & Q(worst_level=level) for kind in LISTS for level in AT_RISK},
    }
    return {"births": Count("id")} | {
        name: Count("id", filter=_through_enrollment(q)) for name, q in on_enrollment.items()
    }


def _insert(rows: QuerySet, day: datetime.date, kabupaten: str, desa: str) -> None:
    """INSERT ... SELECT of grouped rows carrying every count, in one statement on either database."""
    sql, params = rows.query.sql_with_params()
    columns = ", ".join(COUNTS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {BirthSummary._meta.db_table} (kabupaten, desa, month, day, {columns}) "
            f"SELECT {kabupaten}, {desa}, month, %s, {columns} FROM ({sql}) AS grouped",
            (day, *params),
        )


def _recount(day: datetime.date, *, marked: QuerySet | None = None, since: datetime.date | None = None) -> None:
    """Recount the desa rows of the ``marked`` desa, or of the months ``since``, or all of them; then the
    kabupaten rows they add up to."""
    babies, rows = Newborn.objects.live(), BirthSummary.objects.all()
    if marked is not None:
        # A few hundred codes at most: as a list they let the kabupaten rows be found by index.
        kabupaten = set(marked.annotate(code=Substr("desa", 1, KABUPATEN_CODE)).values_list("code", flat=True))
        marked = marked.values("desa")
        babies, rows = babies.filter(desa_id__in=marked), rows.filter(kabupaten__in=kabupaten)
    if since is not None:
        babies, rows = babies.filter(birth_date__gte=since), rows.filter(month__gte=since)
    (rows.filter(desa__in=marked) if marked is not None else rows.exclude(desa="")).delete()
    _insert(
        babies.annotate(kab=Substr("desa_id", 1, KABUPATEN_CODE), month=TruncMonth("birth_date"))
        .values("kab", "desa_id", "month")
        .annotate(**_counts(day))
        .order_by(),
        day,
        kabupaten="kab",
        desa="desa_id",
    )
    rows.filter(desa="").delete()
    _insert(
        rows.exclude(desa="").values("kabupaten", "month").annotate(**{n: Sum(n) for n in COUNTS}).order_by(),
        day,
        kabupaten="kabupaten",
        desa="''",
    )


def refresh(today: datetime.date | None = None) -> uuid.UUID:
    """Bring the summary up to date, in one transaction: all of it the first time; once a day the months
    whose deadline figures move with the calendar (and, on a new month, the desa counting last month's
    deactivations); then the desa marked since the last refresh, each recounted whole. Returns the version,
    new whenever anything was recounted."""
    today = today or timezone.localdate()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK])
        state = BirthSummaryState.objects.first()
        changed = True
        if state is None:
            _recount(today)
        elif state.day != today:
            if state.day.replace(day=1) != today.replace(day=1):
                last_months = BirthSummary.objects.filter(deactivated_this_month__gt=0).exclude(desa="")
                BirthSummaryMark.objects.bulk_create(
                    BirthSummaryMark(desa=desa) for desa in last_months.values_list("desa", flat=True)
                )
            _recount(today, since=today.replace(day=1) - relativedelta(months=OPEN_MONTHS))
        else:
            changed = False
        claim = uuid.uuid4()
        if BirthSummaryMark.objects.filter(claim__isnull=True).update(claim=claim):
            marked = BirthSummaryMark.objects.filter(claim=claim)
            _recount(today, marked=marked)
            marked.delete()
            changed = True
        if changed:
            BirthSummaryState.objects.all().delete()
            return BirthSummaryState.objects.create(day=today).version
        return state.version


def current_version(today: datetime.date) -> uuid.UUID:
    """The version of a summary that is current for ``today``, refreshed first if it is not: one small query
    when nothing was written since the last refresh."""
    state = (
        BirthSummaryState.objects.filter(day=today)
        .annotate(marked=Exists(BirthSummaryMark.objects.all()))
        .values_list("version", "marked")
        .first()
    )
    if state is None or state[1]:
        return refresh(today)
    return state[0]


def rows_in(user, code: str | None) -> QuerySet:
    """The summary rows of a region (a dotted code; none: the user's whole scope): a province's or the
    country's kabupaten rows, any smaller region's desa rows; none for a user who may not see the region's
    babies. Every role with the dashboard sees babies by region; a bidan sees her facility's, which a
    summary by desa cannot tell, and is given nothing here."""
    scope = user.region_id
    code = code or scope or ""
    in_scope = not scope or code_within(code, scope)
    if not in_scope or user.role == Role.BIDAN or not can(user, Capability.VIEW_NEWBORNS):
        return BirthSummary.objects.none()
    if len(code) < KABUPATEN_CODE:
        return BirthSummary.objects.filter(desa="", kabupaten__startswith=code)
    rows = BirthSummary.objects.filter(kabupaten=code[:KABUPATEN_CODE]).exclude(desa="")
    if len(code) == KABUPATEN_CODE:
        return rows
    return rows.filter(Q(desa=code) | Q(desa__startswith=code + "."))


def dashboard_counts(user, *, region, months_from: datetime.date, born_to: datetime.date) -> dict:
    """Every count of the dashboard for babies born from the first day of ``months_from`` to ``born_to``:
    ``totals``, ``months`` (one dict per birth month, oldest first) and ``children`` (births and babies at
    risk per kecamatan of a kabupaten, desa of a kecamatan, or kabupaten of a province). Two queries after a
    summary made current by ``current_version``; the lists they open count the same babies
    (tests/sejagad/test_dashboard.py)."""
    rows = rows_in(user, region.code).filter(month__gte=months_from.replace(day=1), month__lte=born_to)
    months = list(rows.values("month").annotate(**{n: Sum(n) for n in COUNTS}).order_by("month"))
    children = {}
    if length := CHILD_CODE.get(region.level):
        key = "kabupaten" if region.level == RegionLevel.PROVINSI else "desa"
        at_risk = sum((F(f"level_{level.value}") for level in AT_RISK[1:]), F(f"level_{AT_RISK[0].value}"))
        children = {
            row["child"]: row
            for row in rows.annotate(child=Substr(key, 1, length))
            .values("child")
            .annotate(births=Sum("births"), at_risk=Sum(at_risk))
            .order_by()
        }
    return {"totals": {n: sum(m[n] for m in months) for n in COUNTS}, "months": months, "children": children}


# The filters the summary answers: an area and whole birth months. Any other (a name, a facility, a segment)
# needs the list itself.
AREA_FILTERS = ("region", "kecamatan", "desa")
MISSING = object()  # a cached value may be None


def cached_under_version(today: datetime.date, key: tuple, compute):
    """``compute()``, cached as the dashboard is: under the version of the summary current for ``today``, which
    any write to a birth, a membership or a mother replaces (the triggers mark its desa), whatever it changed.
    ``key`` holds all the value depends on besides the data; hashed, since it may hold a searched number."""
    parts = ":".join(str(part) for part in (current_version(today), today, *key))
    name = "summary:" + hashlib.sha256(parts.encode()).hexdigest()
    if (value := cache.get(name, MISSING)) is MISSING:
        value = compute()
        cache.set(name, value, settings.DASHBOARD_CACHE_SECONDS)
    return value


def facility_counts(user, filters: dict, today: datetime.date) -> dict | None:
    """For a bidan, ``selectors.counted_in_one_pass`` (her few thousand babies, joined to their births and
    mothers for the BPJS and PBI lists), cached under the summary's version; None for other users."""
    if not bound_to_facility(user):
        return None
    given = sorted((name, getattr(value, "pk", value)) for name, value in filters.items())
    key = ("facility_counts", user.pk, user.role, user.facility_id, given)
    return cached_under_version(today, key, lambda: selectors.counted_in_one_pass(user, filters))


def worklist_counts(user, filters: dict, today: datetime.date) -> dict | None:
    """The babies on each worklist (``lists``) and, for the at-risk list without a status filter, at each
    level (``levels``), for ``filters`` of ``enrollment.selectors.worklist``; ``None`` when a filter other
    than an area and whole birth months is set, or the areas do not nest. One query after a current summary, and
    none while its version stays the same (``cached_under_version``)."""
    other = set(filters) - {*AREA_FILTERS, "born_from", "born_to", "kind", "level", "status"}
    born_from, born_to = filters.get("born_from"), filters.get("born_to")
    whole_months = (not born_from or born_from.day == 1) and (
        not born_to or born_to >= today or (born_to + datetime.timedelta(days=1)).day == 1
    )
    areas = sorted((filters[key].code for key in AREA_FILTERS if filters.get(key)), key=len)
    nested = all(code_within(areas[-1], code) for code in areas)
    if other or not whole_months or not nested or user.role == Role.BIDAN:
        return None
    code, kind = areas[-1] if areas else None, filters.get("kind", "risiko")
    leveled = {"risiko", kind}

    def count():
        rows = rows_in(user, code)
        if born_from:
            rows = rows.filter(month__gte=born_from)
        if born_to:
            rows = rows.filter(month__lte=born_to)
        # The lists' lengths (the at-risk list's: its levels) and the shown list's levels: no other column.
        columns = {name for name in WORKLIST_COUNTS.values() if name} | {
            level_column(shown, level) for shown in leveled for level in AT_RISK
        }
        return rows.aggregate(**{name: Sum(name, default=0) for name in columns})

    scope = (user.role, user.is_superuser, user.region_id, code, born_from, born_to, kind)
    total = cached_under_version(today, ("worklist_counts", *scope), count)
    levels = {shown: {level.value: total[level_column(shown, level)] for level in AT_RISK} for shown in leveled}
    return {
        "lists": {
            shown: sum(levels["risiko"].values()) if shown == "risiko" else total[name]
            for shown, name in WORKLIST_COUNTS.items()
        },
        "levels": None if filters.get("status") else levels[kind],
    }
