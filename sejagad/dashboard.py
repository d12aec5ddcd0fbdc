"""The home dashboard: composes the apps' selectors for one region and period (ARCHITECTURE.md).

A fixed number of queries whatever the data: the figures add up the per-desa summary (``enrollment.summary``,
kept equal to the lists it links to) and coverage comes from the precomputed snapshots."""

import datetime
import hashlib
from dataclasses import dataclass
from urllib.parse import urlencode

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.cache import cache
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from coverage import selectors as coverage
from enrollment import selectors as enrollment
from enrollment import summary
from enrollment.models import AT_RISK
from newborns import selectors as newborns
from sejagad.forms import parse_month
from sejagad.models import Region, RegionLevel
from sejagad.pagination import rows_of
from sejagad.roles import Capability, can, capabilities_of


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
        return parse_month(value or "")
    except ValueError:
        return None


def _all_nik_deadlines_passed(month: datetime.date, today: datetime.date) -> bool:
    """Babies born in ``month`` have their NIK deadline up to 3 months after its last day: before that, the
    month's on-time count is not a result yet, and the chart leaves it out rather than draw a collapse."""
    return month + relativedelta(months=4) <= today


def _children(region: Region) -> list[Region]:
    return (
        list(Region.objects.filter(parent=region).order_by("name"))
        if region.level != RegionLevel.DESA_KELURAHAN
        else []
    )


def _list_url(name: str, region: Region, period: Period, **extra) -> str:
    """The list behind a figure, with the figure's region and birth months (``AreaPeriodFilterMixin``)."""
    query = {"wilayah": region.code, "dari": f"{period.start:%Y-%m}", "sampai": f"{period.end:%Y-%m}", **extra}
    return f"{reverse(name)}?{urlencode(query)}"


# What every view's context holds besides the HTML, all plain data (model rows only when it was rendered).
CACHED = ("region", "period", "figures", "levels", "links", "series", "satusehat", "reminder_reach")


def dashboard(user, *, region: Region, period: Period) -> dict:
    """Every figure is the count of the list its link opens, computed by that list's own selector.

    The figures and their rendered HTML are cached under the versions of the data they show: the summary's
    (any write to a birth, a membership, a mother or a reminder makes a new one, ``enrollment.summary``) and
    the coverage snapshots' (``coverage.selectors.coverage_stamp``), so a cached page is never stale. The key
    holds all a user's view depends on (role, region) and the language of the labels. Only the deadline check,
    with its form, is read and rendered on every view."""
    today = timezone.localdate()
    key = (
        "dashboard:"
        + hashlib.sha256(
            "|".join(
                str(part)
                for part in (
                    summary.current_version(today),
                    coverage.coverage_stamp(region),
                    today,
                    region.code,
                    period.start,
                    period.end,
                    user.role,
                    user.is_superuser,
                    user.region_id,
                    get_language(),
                )
            ).encode()
        ).hexdigest()
    )
    if (cached := cache.get(key)) is None:
        context = _figures(user, region, period, today)
        shown = {**context, "capabilities": capabilities_of(user)}
        html = {
            "top": mark_safe(render_to_string("sejagad/_dashboard_top.html", shown)),  # noqa: S308 - our templates
            "body": mark_safe(render_to_string("sejagad/_dashboard_body.html", shown)),  # noqa: S308
        }
        # The HTML and the figures behind it, as plain data: a hit unpickles no model rows.
        cached = {"html": html, **{name: context[name] for name in CACHED}}
        cache.set(key, cached, settings.DASHBOARD_CACHE_SECONDS)
    else:
        context = {}
    return {**context, **cached, "deadline_check": enrollment.deadline_check()}


def _figures(user, region: Region, period: Period, today: datetime.date) -> dict:
    area = dict(region=region, born_from=period.start, born_to=period.end)
    counts = summary.dashboard_counts(user, region=region, months_from=period.start, born_to=period.end)
    figures = counts["totals"]
    figures["registered_in_time_pct"] = enrollment.share(figures["registered_in_time"], figures["registration_due"])
    figures["nik_in_time_pct"] = enrollment.share(figures["nik_in_time"], figures["nik_due"])
    per_level = {level.value: figures[f"level_{level.value}"] for level in AT_RISK}
    figures["at_risk"] = sum(per_level.values())
    context = {
        "region": region,
        "period": period,
        "figures": figures,
        "links": {
            "births": _list_url("newborns:list", region, period),
            "at_risk": _list_url("enrollment:worklist", region, period),
            "reactivation": _list_url("enrollment:worklist_reactivation", region, period),
        },
        "levels": [
            {
                "level": level.value,
                "label": level.label,
                "n": per_level[level.value],
                "url": _list_url("enrollment:worklist", region, period, level=level.value),
            }
            for level in AT_RISK
        ],
        "funnel": [
            (_("Lahir"), figures["births"]),
            (_("Terdaftar JKN"), figures["registered"]),
            (_("Masuk KK"), figures["in_kk"]),
            (_("NIK terbit"), figures["with_nik"]),
            (_("NIK di BPJS"), figures["bpjs_updated"]),
        ],
        "series": [
            {
                "month": row["month"].strftime("%Y-%m"),
                "births": row["births"],
                "nik_in_time": row["nik_in_time"] if _all_nik_deadlines_passed(row["month"], today) else None,
            }
            for row in counts["months"]
        ],
        "at_risk": rows_of(enrollment.worklist(user, kind="risiko", **area), 0, 10),
        "coverage": None,
        # Reminders to families (issue 13): reach and deadlines met per puskesmas, one GROUP BY.
        "reminder_reach": enrollment.reminder_reach_by_facility(user, today=today, **area),
    }
    children = _children(region)
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
    # SATUSEHAT (issue #14): per place of birth, births and how many SATUSEHAT holds (one GROUP BY).
    context["satusehat"] = newborns.satusehat_by_facility(user, **area)
    context["children"] = [
        {
            "region": child,
            "births": counts["children"].get(child.code, {}).get("births", 0),
            "births_url": _list_url("newborns:list", child, period),
            "at_risk": counts["children"].get(child.code, {}).get("at_risk", 0),
            "at_risk_url": _list_url("enrollment:worklist", child, period),
            "snapshot": snapshots.get(child.code),
        }
        for child in children
    ]
    return context
