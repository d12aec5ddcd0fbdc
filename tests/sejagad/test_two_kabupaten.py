"""Two kabupaten loaded side by side and officers at kabupaten and kecamatan level: every list, export,
API and figure shows a user only the babies and regions of her own area (``two_kabupaten`` fixture)."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from coverage.models import ParticipantCount, PopulationCount
from coverage.services import compute_coverage
from newborns.services import void_birth
from sejagad.models import Region
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory

pytestmark = pytest.mark.django_db

MASAMBA, BAEBUNTA, TIMUR = "By. Ny. IBU MASAMBA", "By. Ny. IBU BAEBUNTA", "By. Ny. IBU LUWU TIMUR"
ALL = {MASAMBA, BAEBUNTA, TIMUR}
# What an officer whose region is the key sees.
SEES = {"73.22": {MASAMBA, BAEBUNTA}, "73.22.03": {MASAMBA}, "73.24": {TIMUR}}


def officer(role: str, code: str):
    return UserFactory(username=f"{role}-{code}", role=role, region=Region.objects.get(code=code))


def names_in(text: str) -> set[str]:
    return {name for name in ALL if name in text}


def raw(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def body(response) -> str:
    return raw(response).decode("utf-8-sig")


def xlsx_text(response) -> str:
    sheet = load_workbook(io.BytesIO(raw(response)), read_only=True).active
    return "\n".join(" ".join(str(c) for c in row if c is not None) for row in sheet.iter_rows(values_only=True))


PAGES = [
    ("newborns:list", {}, Role.STAF_DINKES),
    ("newborns:nik_worklist", {}, Role.PETUGAS_DUKCAPIL),
    ("enrollment:worklist", {}, Role.STAF_DINKES),
    ("enrollment:worklist", {"kind": "dinsos"}, Role.PETUGAS_DINSOS),
    ("enrollment:export_csv", {}, Role.PETUGAS_BPJS),
    ("enrollment:export_csv", {"kind": "dinsos"}, Role.STAF_DINKES),
]


@pytest.mark.parametrize("code", SEES)
@pytest.mark.parametrize(("url_name", "params", "role"), PAGES)
def test_every_list_and_export_shows_only_the_officers_own_area(client, two_kabupaten, code, url_name, params, role):
    client.force_login(officer(role, code))
    response = client.get(reverse(url_name), params)
    assert response.status_code == 200
    text = xlsx_text(response) if url_name.endswith("xlsx") else body(response)
    assert names_in(text) == SEES[code]


@pytest.mark.parametrize("code", SEES)
def test_voided_list_shows_only_the_officers_own_area(client, two_kabupaten, code):
    admin = UserFactory(role=Role.ADMIN_DINKES, region=None)
    for baby in (two_kabupaten.timur_baby, two_kabupaten.masamba_baby, two_kabupaten.baebunta_baby):
        void_birth(newborn=baby, by=admin, reason="Data uji")
    client.force_login(officer(Role.STAF_DINKES, code))
    assert names_in(client.get(reverse("newborns:voided")).text) == SEES[code]


def test_bidans_of_each_kabupaten_see_only_their_facility(client, two_kabupaten):
    client.force_login(two_kabupaten.timur_bidan)
    assert names_in(client.get(reverse("newborns:list")).text) == {TIMUR}
    assert names_in(client.get(reverse("home")).text) == {TIMUR}
    client.force_login(BidanFactory(username="bidan_masamba"))  # Puskesmas Masamba
    assert names_in(client.get(reverse("newborns:list")).text) == {MASAMBA}
    assert names_in(client.get(reverse("home")).text) == {MASAMBA}


@pytest.mark.parametrize("code", SEES)
def test_api_lists_show_only_the_officers_own_area(client, two_kabupaten, code):
    client.force_login(officer(Role.STAF_DINKES, code))
    for url in ("/api/newborns/", "/api/enrollments/"):
        body = client.get(url).json()
        assert {row["temporary_name"] for row in body["results"]} == SEES[code], url


@pytest.mark.parametrize("code", SEES)
def test_detail_and_timeline_of_a_baby_elsewhere_are_not_found(client, two_kabupaten, code):
    client.force_login(officer(Role.STAF_DINKES, code))
    for baby in (two_kabupaten.timur_baby, two_kabupaten.masamba_baby, two_kabupaten.baebunta_baby):
        expected = 200 if baby.temporary_name in SEES[code] else 404
        assert client.get(reverse("newborns:detail", args=[baby.pk])).status_code == expected
        assert client.get(f"/api/newborns/{baby.pk}/").status_code == expected


@pytest.mark.parametrize("code", SEES)
def test_dashboard_figures_count_only_the_officers_own_area(client, two_kabupaten, code):
    client.force_login(officer(Role.STAF_DINKES, code))
    response = client.get(reverse("home"))
    assert response.context["region"].code == code
    assert response.context["figures"]["births"] == len(SEES[code])
    assert response.context["figures"]["at_risk"] == len(SEES[code])
    assert names_in(response.text) == SEES[code]


def test_dashboard_of_another_kabupaten_or_kecamatan_is_not_found(client, two_kabupaten):
    client.force_login(two_kabupaten.staf)
    assert client.get(reverse("home"), {"wilayah": "73.24"}).status_code == 404
    client.force_login(two_kabupaten.kecamatan_staf)
    assert client.get(reverse("home"), {"wilayah": "73.22"}).status_code == 404
    assert client.get(reverse("home"), {"wilayah": "73.22.11"}).status_code == 404


@pytest.mark.parametrize("code", SEES)
def test_notifications_reach_only_the_officers_own_area(client, two_kabupaten, code):
    client.force_login(officer(Role.STAF_DINKES, code))
    # The officer exists before the daily job: the babies of her area (20 days old) enter Kritis the day
    # after the first run, and she is told of each.
    import datetime

    from django.utils import timezone

    from enrollment.flagging import flag_deadlines

    flag_deadlines(full=True)
    flag_deadlines(today=timezone.localdate() + datetime.timedelta(days=1))
    assert names_in(client.get(reverse("enrollment:notifications")).text) == SEES[code]


@pytest.fixture
def coverage_everywhere(two_kabupaten):
    for desa in ("73.22.03.2004", "73.22.11.1005", "73.24.01.2001"):
        PopulationCount.objects.create(region_id=desa, period="2025-S1", total=1000)
        ParticipantCount.objects.create(region_id=desa, period="2025-S1", segment="PBI-APBN", total=900)
    compute_coverage()
    return two_kabupaten


REGION_NAMES = {"Masamba", "Baebunta", "Kabupaten Luwu Timur", "Mangkutana"}
OUTSIDE = {"73.22": ["73.24"], "73.22.03": ["73.22", "73.22.11", "73.24"], "73.24": ["73.22", "73.22.03"]}
SEES_REGIONS = {
    "73.22": {"Masamba", "Baebunta"},
    "73.22.03": {"Masamba"},
    "73.24": {"Kabupaten Luwu Timur", "Mangkutana"},
}


@pytest.mark.parametrize("code", SEES)
def test_coverage_table_trend_and_export_stay_in_the_officers_area(client, coverage_everywhere, code):
    client.force_login(officer(Role.STAF_DINKES, code))
    for url_name, params in (("coverage:table", {}), ("coverage:export", {}), ("coverage:export", {"format": "xlsx"})):
        response = client.get(reverse(url_name), params)
        assert response.status_code == 200
        text = xlsx_text(response) if params else body(response)
        assert {name for name in REGION_NAMES if name in text} == SEES_REGIONS[code], url_name
    assert client.get(reverse("coverage:trend")).context["region"].code == code
    for other in OUTSIDE[code]:
        for url_name in ("coverage:table", "coverage:trend", "coverage:export"):
            assert client.get(reverse(url_name), {"wilayah": other}).status_code == 404, (url_name, other)


@pytest.mark.parametrize("code", SEES)
def test_coverage_api_stays_in_the_officers_area(client, coverage_everywhere, code):
    client.force_login(officer(Role.STAF_DINKES, code))
    codes = set()
    url = "/api/coverage/?page_size=1000"
    while url:
        body = client.get(url).json()
        codes |= {row["region"] for row in body["results"]}
        url = body.get("next")
    assert codes
    assert all(c == code or c.startswith(code + ".") for c in codes), codes
