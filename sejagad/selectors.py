from django.conf import settings
from django.db.models import Count, Q

from sejagad.models import Facility, Region, RegionLevel


def district() -> Region | None:
    """The kabupaten/kota this installation serves, when its regions are loaded."""
    return Region.objects.filter(code=settings.DISTRICT_CODE).first()


def work_area(user):
    """The regions a user works in: her own region, else the district this installation serves."""
    region = user.region or district()
    return Region.objects.within(region) if region else Region.objects.all()


def region_summary(region: Region) -> dict:
    """Counts of kecamatan, desa/kelurahan and active facilities within a region, in two queries."""
    counts = Region.objects.within(region).aggregate(
        kecamatan=Count("code", filter=Q(level=RegionLevel.KECAMATAN)),
        desa=Count("code", filter=Q(level=RegionLevel.DESA_KELURAHAN)),
    )
    counts["facilities"] = Facility.objects.filter(is_active=True, region__in=Region.objects.within(region)).count()
    return counts
