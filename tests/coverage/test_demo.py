from decimal import Decimal

import pytest
from django.db.models import Sum

from coverage.demo import seed_demo_coverage
from coverage.models import CoverageSnapshot, ParticipantCount, PopulationCount

pytestmark = pytest.mark.django_db


def test_demo_desa_sum_to_the_published_luwu_utara_figures_and_reruns_change_nothing(district):
    first = seed_demo_coverage()
    assert first["population"] > 0 and len(first["periods"]) == 7
    desa_2021 = PopulationCount.objects.filter(period="2021-S2", region__level="desa_kelurahan")
    assert desa_2021.count() == 173
    assert desa_2021.aggregate(n=Sum("total"))["n"] == 329_934
    assert ParticipantCount.objects.filter(period="2021-S2").aggregate(n=Sum("total"))["n"] == 244_956
    assert PopulationCount.objects.filter(period="2024-S2").aggregate(n=Sum("total"))["n"] == 335_161

    luwu_2021 = CoverageSnapshot.objects.get(region_id="73.22", period="2021-S2")
    assert (luwu_2021.coverage_pct, luwu_2021.gap) == (Decimal("74.24"), 68_482)
    luwu_2024 = CoverageSnapshot.objects.get(region_id="73.22", period="2024-S2")
    assert Decimal("74.24") < luwu_2024.coverage_pct < Decimal("95")  # grown toward UHC, not there yet
    # Some desa already meet UHC and some lag far behind: the table has something to show.
    desa_2024 = CoverageSnapshot.objects.filter(period="2024-S2", level="desa_kelurahan")
    assert desa_2024.filter(is_uhc=True).exists() and desa_2024.filter(coverage_pct__lt=80).exists()

    again = seed_demo_coverage()
    assert (again["population"], again["participants"], again["snapshots"]) == (0, 0, 0)
