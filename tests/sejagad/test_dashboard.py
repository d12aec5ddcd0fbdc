import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coverage.models import ParticipantCount, PopulationCount
from coverage.services import compute_coverage
from enrollment.flagging import flag_deadlines
from enrollment.models import Enrollment, EnrollmentStatus
from sejagad.dashboard import Period
from sejagad.models import Facility
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory, mother_nik, register

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def born(days_ago, serial, **kw):
    return register(birth_date=TODAY() - datetime.timedelta(days=days_ago), mother_nik=mother_nik(serial), **kw)


@pytest.fixture
def staf(district):
    return UserFactory(role=Role.STAF_DINKES)


def test_period_defaults_to_the_last_twelve_months():
    period = Period.from_months(None, None, datetime.date(2026, 11, 24))
    assert (period.start, period.end) == (datetime.date(2025, 12, 1), datetime.date(2026, 11, 24))
    chosen = Period.from_months("2026-01", "2026-03", datetime.date(2026, 11, 24))
    assert (chosen.start, chosen.end) == (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))


def test_headline_figures(client, staf):
    late = born(40, 1)
    on_time = born(40, 2)
    born(2, 3)
    flag_deadlines()
    Enrollment.objects.filter(newborn=on_time).update(
        status=EnrollmentStatus.TERDAFTAR_SEMENTARA, registered_on=on_time.birth_date, jkn_number="0001234567890"
    )
    flag_deadlines()
    client.force_login(staf)
    figures = client.get(reverse("home")).context["figures"]
    assert figures["births"] == 3
    assert (figures["registered_in_time"], figures["registration_due"]) == (1, 2)
    assert figures["registered_in_time_pct"] == 50.0
    assert figures["level_5"] == 1
    assert [e.newborn for e in client.get(reverse("home")).context["at_risk"]][0] == late


def test_coverage_and_gap_come_from_the_snapshots(client, staf):
    PopulationCount.objects.create(region_id="73.22.03.2004", period="2021-S2", total=329_934)
    ParticipantCount.objects.create(region_id="73.22.03.2004", period="2021-S2", segment="PBI-APBN", total=244_956)
    compute_coverage()
    client.force_login(staf)
    response = client.get(reverse("home"))
    assert "74,24 %" in response.text
    assert "kurang 68.482 jiwa" in response.text
    masamba = next(row for row in response.context["children"] if row["region"].code == "73.22.03")
    assert str(masamba["snapshot"].coverage_pct) == "74.24"


def test_drill_down_from_kabupaten_to_kecamatan_keeps_the_filters_in_the_url(client, staf):
    born(10, 1)
    flag_deadlines()
    client.force_login(staf)
    kabupaten = client.get(reverse("home"), {"dari": "2026-01", "sampai": "2026-12"})
    assert "?wilayah=73.22.03&amp;dari=2026-01&amp;sampai=" in kabupaten.text
    kecamatan = client.get(reverse("home"), {"wilayah": "73.22.03", "dari": "2026-01"})
    assert "Dasbor Masamba" in kecamatan.text
    assert len(kecamatan.context["children"]) == 19  # the desa of Masamba
    assert sum(row["births"] for row in kecamatan.context["children"]) == kecamatan.context["figures"]["births"]


def test_htmx_filter_change_returns_only_the_dashboard(client, staf):
    client.force_login(staf)
    response = client.get(reverse("home"), {"wilayah": "73.22.03"}, headers={"HX-Request": "true"})
    assert "Dasbor Masamba" in response.text
    assert "<html" not in response.text


def test_a_region_outside_the_users_scope_is_not_found(client, district):
    from sejagad.models import Region

    client.force_login(UserFactory(role=Role.STAF_DINKES, region=Region.objects.get(code="73.22.11")))
    assert client.get(reverse("home"), {"wilayah": "73.22.03"}).status_code == 404


def test_bidan_dashboard_counts_only_her_babies(client, district):
    born(10, 1)
    born(10, 2, facility=Facility.objects.get(code="PKM-732211"))
    flag_deadlines()
    client.force_login(BidanFactory())
    response = client.get(reverse("home"))
    assert response.context["figures"]["births"] == 1
    assert response.context["coverage"] is None  # no coverage capability


def test_fresh_district_is_told_what_to_do_first(client, staf):
    client.force_login(staf)
    response = client.get(reverse("home"))
    assert "Belum ada data untuk wilayah dan periode ini" in response.text


def test_dashboard_query_count_does_not_grow_with_the_data(client, staf):
    client.force_login(staf)
    born(10, 1)
    flag_deadlines()
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("home"))
    for i in range(2, 25):
        born(i * 7, i, facility=Facility.objects.order_by("?").first())
    flag_deadlines()
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("home"))
    assert len(many) == len(few) <= 15
