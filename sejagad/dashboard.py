"""The home dashboard: composes the apps' selectors for one region and period (ARCHITECTURE.md).

A fixed number of queries whatever the data: each figure is one aggregate or one GROUP BY, and coverage
comes from the precomputed snapshots."""

import datetime
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.utils import timezone
from django.utils.translation import gettext as _

from coverage import selectors as coverage
from enrollment import selectors as enrollment
from sejagad.models import Region, RegionLevel
from sejagad.roles import Capability, can


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date

    @classmethod
    def from_months(cls, start: str | None, end: str | None, today: datetime.date) -> "Period":
        """Births from the first day of ``start`` to the last of ``end`` (YYYY-MM); the last 12 months by default."""
        last = _month(end) or today.replace(day=1)
        first = _month(start) or last - relativedelta(months=11)
        if first > last:
            first, last = last, first
        return cls(first, min(last + relativedelta(months=1, days=-1), today))


def _month(value: str | None) -> datetime.date | None:
    try:
        year, month = (int(p) for p in (value or "").split("-"))
        return datetime.date(year, month, 1)
    except ValueError:
        return None


def _children(region: Region) -> list[Region]:
    return (
        list(Region.objects.filter(parent=region).order_by("name"))
        if region.level != RegionLevel.DESA_KELURAHAN
        else []
    )


def dashboard(user, *, region: Region, period: Period) -> dict:
    today = timezone.localdate()
    scope = dict(region_code=region.code, start=period.start, end=period.end)
    figures = enrollment.dashboard_figures(user, today=today, **scope)
    context = {
        "region": region,
        "period": period,
        "figures": figures,
        "funnel": [
            (_("Lahir"), figures["births"]),
            (_("Terdaftar JKN"), figures["registered"]),
            (_("Masuk KK"), figures["in_kk"]),
            (_("NIK terbit"), figures["with_nik"]),
            (_("NIK di BPJS"), figures["bpjs_updated"]),
        ],
        "series": [
            {"month": row["month"].strftime("%Y-%m"), "births": row["births"], "nik_in_time": row["nik_in_time"]}
            for row in enrollment.monthly_series(user, **scope)
        ],
        "at_risk": list(enrollment.worklist(user, kind="risiko", **_region_filter(region))[:10]),
        "coverage": None,
    }
    children = _children(region)
    per_child = (
        enrollment.at_risk_by_child_region(user, parent_code=region.code, start=period.start, end=period.end)
        if children
        else {}
    )
    snapshots = {}
    if can(user, Capability.VIEW_COVERAGE):
        table = coverage.coverage_table(user=user, region=region)
        context["coverage"] = table
        snapshots = {row.region.code: row.snapshot for row in table.rows}
    context["chart_coverage"] = [
        {"name": child.name, "coverage": float(snap.coverage_pct) if snap and snap.coverage_pct is not None else None}
        for child in children
        for snap in [snapshots.get(child.code)]
    ]
    context["coverage_chart_has_data"] = any(row["coverage"] is not None for row in context["chart_coverage"])
    context["chart_labels"] = {
        "coverage": _("Cakupan (%)"),
        "target": _("Target 95 %"),
        "births": _("Kelahiran"),
        "nik_in_time": _("NIK di BPJS tepat waktu"),
        "babies": _("Bayi"),
    }
    context["chart_funnel"] = [{"label": label, "n": n} for label, n in context["funnel"]]
    context["children"] = [
        {
            "region": child,
            "births": per_child.get(child.code, {}).get("births", 0),
            "at_risk": per_child.get(child.code, {}).get("at_risk", 0),
            "snapshot": snapshots.get(child.code),
        }
        for child in children
    ]
    return context


def _region_filter(region: Region) -> dict:
    if region.level == RegionLevel.KECAMATAN:
        return {"kecamatan": region}
    if region.level == RegionLevel.DESA_KELURAHAN:
        return {"desa": region}
    return {}
