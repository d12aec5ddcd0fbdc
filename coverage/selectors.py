"""Read paths for the coverage pages, the export, the API and the dashboard; a fixed number of queries each."""

from dataclasses import dataclass

from django.db import connection
from django.db.models import Q

from coverage.models import CoverageImport, CoverageSnapshot, UhcCriterion, UhcStatus, period_year
from sejagad.models import Region

SORTS = {
    "kode": lambda row: row.region.code,
    "nama": lambda row: row.region.name.lower(),
    "penduduk": lambda row: _number(row.snapshot, "population"),
    "peserta": lambda row: _number(row.snapshot, "participants"),
    "cakupan": lambda row: _number(row.snapshot, "coverage_pct"),
    "keaktifan": lambda row: _number(row.snapshot, "active_pct"),
    "kekurangan": lambda row: _number(row.snapshot, "gap"),
}


def _number(snapshot, field):
    return getattr(snapshot, field, None) if snapshot else None


@dataclass(frozen=True)
class CoverageRow:
    region: Region
    snapshot: CoverageSnapshot | None
    status: UhcStatus | None

    @property
    def has_data(self) -> bool:
        return bool(self.snapshot and self.snapshot.has_data)


@dataclass(frozen=True)
class CoverageTable:
    region: Region | None
    period: str | None
    periods: list[str]
    ancestors: list[Region]
    total: CoverageRow | None
    rows: list[CoverageRow]
    tiers: list[UhcCriterion]
    sort: str


def periods() -> list[str]:
    """Semesters with computed coverage, newest first."""
    return list(CoverageSnapshot.objects.order_by("-period").values_list("period", flat=True).distinct())


def tiers_for(period: str | None) -> list[UhcCriterion]:
    return list(UhcCriterion.objects.for_year(period_year(period))) if period else []


def coverage_stamp(region: Region) -> str:
    """What ``coverage_table(region=region)`` shows depends on, in one query, for a cache key: the latest
    computation and the number of the region's and its children's snapshots, the newest period anywhere (the
    table's default) and the UHC criteria (how many, the latest). An import, a roll-up or a new criterion
    changes it."""
    snapshots, criteria = CoverageSnapshot._meta.db_table, UhcCriterion._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT MAX(computed_at), COUNT(*), (SELECT MAX(period) FROM {snapshots}),"
            f" (SELECT COUNT(*) FROM {criteria}), (SELECT MAX(id) FROM {criteria})"
            f" FROM {snapshots} WHERE region_id IN"
            f" (SELECT code FROM {Region._meta.db_table} WHERE code = %s OR parent_id = %s)",
            [region.code] * 2,
        )
        return "|".join(str(part) for part in cursor.fetchone())


def coverage_table(*, user, region: Region, period: str | None = None, sort: str = "kode") -> CoverageTable:
    """The region's own coverage and one row per child region (desa under a kecamatan, ...), in six queries
    whatever the number of children; children without data are listed too."""
    available = periods()
    period = period if period in available else (available[0] if available else None)
    ancestors = _ancestors(user, region)
    tiers = tiers_for(period)
    children = list(Region.objects.filter(parent=region).order_by("code"))
    snapshots = {}
    if period:
        snapshots = {
            s.region_id: s
            for s in CoverageSnapshot.objects.filter(period=period).filter(
                Q(region_id=region.code) | Q(region__parent=region)
            )
        }
    rows = [_row(child, snapshots.get(child.code), tiers) for child in children]
    descending = sort.startswith("-")
    key = SORTS.get(sort.lstrip("-"))
    if key is None:
        sort, key, descending = "kode", SORTS["kode"], False
    with_value = [r for r in rows if key(r) is not None]
    without = [r for r in rows if key(r) is None]
    rows = sorted(with_value, key=key, reverse=descending) + without
    total = _row(region, snapshots.get(region.code), tiers)
    return CoverageTable(
        region=region,
        period=period,
        periods=available,
        ancestors=ancestors,
        total=total,
        rows=rows,
        tiers=tiers,
        sort=sort,
    )


def _row(region: Region, snapshot: CoverageSnapshot | None, tiers) -> CoverageRow:
    return CoverageRow(region=region, snapshot=snapshot, status=snapshot.status(tiers) if snapshot else None)


def _ancestors(user, region: Region) -> list[Region]:
    """The regions above, down from the user's own region (the breadcrumb), in one query."""
    parts = region.code.split(".")
    codes = [".".join(parts[:i]) for i in range(1, len(parts))]
    top = user.region.code if user.region_id else None
    if top:
        codes = [c for c in codes if c == top or c.startswith(top + ".")]
    return list(Region.objects.filter(code__in=codes).order_by("code")) if codes else []


@dataclass(frozen=True)
class TrendPoint:
    period: str
    snapshot: CoverageSnapshot
    status: UhcStatus
    change_points: object  # Decimal | None: coverage change since the previous semester with data


def trend(*, region: Region) -> list[TrendPoint]:
    """The region's coverage in every semester, oldest first, with the change from one to the next."""
    snapshots = list(CoverageSnapshot.objects.filter(region=region).order_by("period"))
    years = {period_year(s.period) for s in snapshots}
    criteria = list(UhcCriterion.objects.filter(year__lte=max(years)).order_by("year", "rank")) if years else []
    points, previous = [], None
    for snapshot in snapshots:
        year = period_year(snapshot.period)
        in_force = [c for c in criteria if c.year == max((c.year for c in criteria if c.year <= year), default=None)]
        change = None
        if snapshot.coverage_pct is not None and previous is not None:
            change = snapshot.coverage_pct - previous
        points.append(TrendPoint(snapshot.period, snapshot, snapshot.status(in_force), change))
        if snapshot.coverage_pct is not None:
            previous = snapshot.coverage_pct
    return points


def recent_imports(*, user, limit: int = 20):
    """The latest imports uploaded within the user's region."""
    return CoverageImport.objects.visible_to(user).select_related("uploaded_by").order_by("-created_at", "-id")[:limit]


def export_rows(table: CoverageTable) -> list[CoverageRow]:
    """What the CSV/XLSX export holds: the region itself, then its children in the table's order."""
    return ([table.total] if table.total else []) + table.rows
