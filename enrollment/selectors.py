"""Read paths for the worklists, the exports, the API and the dashboard."""

from django.db.models import Case, Count, F, Q, QuerySet, When
from django.db.models.functions import Greatest

from enrollment.models import AT_RISK, NIK_UPDATED, REGISTERED, Enrollment

WORKLISTS = ("risiko", "bpjs", "dinsos")


def open_deadline_expression():
    """The date of the nearer deadline still to meet (registration first), for sorting by days left."""
    return Case(
        When(~Q(status__in=REGISTERED), then=F("registration_deadline")),
        When(~Q(status__in=NIK_UPDATED), then=F("nik_deadline")),
        default=None,
    )


def worklist(
    user,
    *,
    kind: str = "risiko",
    kecamatan=None,
    desa=None,
    facility=None,
    segment: str = "",
    level: int | None = None,
    status: str = "",
) -> QuerySet:
    """Enrollments in the user's scope for one worklist, with the list filters applied:
    risiko (every baby at risk, fewest days left first), bpjs (NIK issued, BPJS not yet updated),
    dinsos (babies of poor families to propose as PBI)."""
    rows = (
        Enrollment.objects.in_scope_of(user)
        .for_lists()
        .annotate(
            due_on=open_deadline_expression(),
            worst=Greatest("registration_level", "nik_level"),
        )
    )
    if kind == "bpjs":
        rows = rows.nik_ready_for_bpjs().order_by("newborn__nik_issued_on", "newborn_id")
    elif kind == "dinsos":
        rows = rows.pbi_candidates().order_by("registration_deadline", "newborn_id")
    else:
        rows = rows.at_risk().order_by(F("due_on").asc(nulls_last=True), "newborn_id")
    if desa:
        rows = rows.filter(newborn__desa=desa)
    elif kecamatan:
        rows = rows.filter(newborn__desa__parent=kecamatan)
    if facility:
        rows = rows.filter(newborn__facility=facility)
    if segment:
        rows = rows.filter(segment=segment)
    if level is not None:
        rows = rows.filter(worst=level)
    if status:
        rows = rows.filter(status=status)
    return rows


def level_tabs(user) -> list[tuple[int, str, int]]:
    """(level, label, babies in scope whose worst level it is) for each at-risk level, in one query."""
    rows = (
        Enrollment.objects.in_scope_of(user)
        .at_risk()
        .annotate(worst=Greatest("registration_level", "nik_level"))
        .values("worst")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts = {r["worst"]: r["n"] for r in rows}
    return [(level.value, level.label, counts.get(level.value, 0)) for level in AT_RISK]


def dashboard_figures(user, *, region_code: str | None, start, end, today) -> dict:
    """The headline numbers and the funnel for babies born in [start, end] within a region, in one query."""
    rows = Enrollment.objects.in_scope_of(user).filter(newborn__birth_date__gte=start, newborn__birth_date__lte=end)
    if region_code:
        rows = rows.in_region(region_code)
    registered, nik_updated = Q(status__in=REGISTERED), Q(status__in=NIK_UPDATED)
    figures = rows.aggregate(
        births=Count("id"),
        registration_due=Count("id", filter=Q(registration_deadline__lt=today) | registered),
        registered_in_time=Count("id", filter=registered & Q(registered_on__lte=F("registration_deadline"))),
        nik_due=Count("id", filter=Q(nik_deadline__lt=today) | nik_updated),
        nik_in_time=Count("id", filter=nik_updated & Q(nik_updated_on__lte=F("nik_deadline"))),
        registered=Count("id", filter=registered),
        in_kk=Count("id", filter=Q(newborn__kk_added_on__isnull=False)),
        with_nik=Count("id", filter=Q(newborn__nik_issued_on__isnull=False)),
        bpjs_updated=Count("id", filter=nik_updated),
        deactivated_this_month=Count(
            "id", filter=Q(status="NONAKTIF", deactivated_on__year=today.year, deactivated_on__month=today.month)
        ),
        **{
            f"level_{level.value}": Count("id", filter=Q(registration_level=level) | Q(nik_level=level))
            for level in AT_RISK
        },
    )
    figures["registered_in_time_pct"] = _share(figures["registered_in_time"], figures["registration_due"])
    figures["nik_in_time_pct"] = _share(figures["nik_in_time"], figures["nik_due"])
    return figures


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def monthly_series(user, *, region_code: str | None, start, end) -> list[dict]:
    """Births and NIK updates on time per birth month, one GROUP BY."""
    from django.db.models.functions import TruncMonth

    rows = Enrollment.objects.in_scope_of(user).filter(newborn__birth_date__gte=start, newborn__birth_date__lte=end)
    if region_code:
        rows = rows.in_region(region_code)
    return list(
        rows.annotate(month=TruncMonth("newborn__birth_date"))
        .values("month")
        .annotate(
            births=Count("id"),
            nik_in_time=Count("id", filter=Q(status__in=NIK_UPDATED, nik_updated_on__lte=F("nik_deadline"))),
        )
        .order_by("month")
    )


def at_risk_by_child_region(user, *, parent_code: str, start, end) -> dict[str, dict]:
    """Births and babies at risk per child region of ``parent_code`` (kecamatan of a kabupaten, desa of a
    kecamatan), one GROUP BY whatever the number of children."""
    rows = (
        Enrollment.objects.in_scope_of(user)
        .in_region(parent_code)
        .filter(newborn__birth_date__gte=start, newborn__birth_date__lte=end)
    )
    depth = parent_code.count(".")
    key = "newborn__desa__parent_id" if depth == 1 else "newborn__desa_id"
    grouped = rows.values(key).annotate(
        births=Count("id"), at_risk=Count("id", filter=Q(registration_level__in=AT_RISK) | Q(nik_level__in=AT_RISK))
    )
    return {r[key]: r for r in grouped.order_by()}
