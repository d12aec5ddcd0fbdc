import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from coverage.demo import seed_demo_coverage
from sejagad.models import Region
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory

pytestmark = pytest.mark.django_db
URL = "/api/coverage/"


@pytest.fixture
def api(district):
    seed_demo_coverage()
    client = APIClient()
    client.force_authenticate(UserFactory(role=Role.PETUGAS_BPJS))
    return client


def test_the_endpoint_is_at_api_coverage():
    assert reverse("coverage-list") == URL


def test_filter_by_region_code_dotted_or_not_and_period(api):
    for code in ("73.22", "7322"):
        body = api.get(URL, {"region": code, "period": "2021-S2"}).json()
        assert body["count"] == 1
        luwu = body["results"][0]
        assert luwu["region"] == "73.22" and luwu["region_name"] == "Kabupaten Luwu Utara"
        assert (luwu["population"], luwu["participants"]) == (329_934, 244_956)
        assert luwu["coverage_pct"] == "74.24" and luwu["gap"] == 68_482 and luwu["is_uhc"] is False


def test_children_of_a_region_and_everything_within_it(api):
    kecamatan = api.get(URL, {"parent": "73.22", "period": "2024-S2"}).json()
    assert kecamatan["count"] == 15 and {r["level"] for r in kecamatan["results"]} == {"kecamatan"}
    masamba = api.get(URL, {"within": "732203", "period": "2024-S2"}).json()
    assert masamba["count"] == 1 + Region.objects.filter(parent_id="73.22.03").count()


def test_a_region_without_population_reports_no_coverage(api, district):
    from coverage.models import ParticipantCount
    from coverage.services import compute_coverage

    ParticipantCount.objects.create(region_id="73.22.03.2004", period="2025-S1", segment="PPU", total=10, active=10)
    compute_coverage(periods=["2025-S1"])
    row = api.get(URL, {"region": "73.22.03.2004", "period": "2025-S1"}).json()["results"][0]
    assert row["has_data"] is False and row["coverage_pct"] is None and row["population"] is None


def test_a_user_sees_only_her_region(api, district):
    client = APIClient()
    client.force_authenticate(UserFactory(role=Role.STAF_DINKES, region=Region.objects.get(code="73.22.03")))
    codes = {r["region"] for r in client.get(URL, {"period": "2024-S2", "page_size": 1000}).json()["results"]}
    assert "73.22.03" in codes and "73.22" not in codes and "73.22.04" not in codes


def test_the_api_needs_the_coverage_capability(district):
    client = APIClient()
    assert client.get(URL).status_code == 401
    client.force_authenticate(BidanFactory())
    assert client.get(URL).status_code == 403


def test_the_endpoint_and_its_filters_are_in_the_openapi_schema(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    parameters = {p["name"] for p in schema["paths"][URL]["get"]["parameters"]}
    assert {"region", "period", "parent", "within"} <= parameters
    assert "coverage_pct" in str(schema["components"]["schemas"]["CoverageSnapshot"])
