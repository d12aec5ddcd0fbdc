from django.conf import settings
from django.db.models import Count, Q

from sejagad.models import Facility, Region, RegionLevel


def district() -> Region | None:
    """The kabupaten/kota this installation serves, when its regions are loaded."""
    return Region.objects.filter(code=settings.DISTRICT_CODE).first()


def region_in_scope(user, code: str | None) -> Region | None:
    """The region asked for (by dotted code) if the user may see it, else None; without a code, where the
    user's pages start: her own region, else the district this installation serves."""
    if not code:
        return user.region or district()
    if "\x00" in code:  # PostgreSQL refuses NUL in a query; no code holds one
        return None
    region = Region.objects.filter(code=code).first()
    if region is None or (user.region_id and not user.region.contains(region)):
        return None
    return region


def work_area(user):
    """The regions a user works in: her own region, else the district this installation serves. Her region by
    its code alone (the key): every page that lists babies asks, and reading the region cost a query."""
    code = user.region_id or getattr(district(), "code", None)
    return Region.objects.within(code) if code else Region.objects.all()


def region_summary(region: Region) -> dict:
    """Counts of kecamatan, desa/kelurahan and active facilities within a region, in two queries."""
    counts = Region.objects.within(region).aggregate(
        kecamatan=Count("code", filter=Q(level=RegionLevel.KECAMATAN)),
        desa=Count("code", filter=Q(level=RegionLevel.DESA_KELURAHAN)),
    )
    counts["facilities"] = Facility.objects.filter(is_active=True, region__in=Region.objects.within(region)).count()
    return counts
