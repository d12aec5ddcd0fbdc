import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from enrollment.flagging import flag_deadlines
from enrollment.models import Enrollment, EnrollmentStatus
from sejagad.models import Facility
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory, mother_nik, register

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def babies(district):
    today = timezone.localdate()
    critical = register(birth_date=today - datetime.timedelta(days=24), mother_nik=mother_nik(1))
    safe = register(
        birth_date=today - datetime.timedelta(days=1),
        mother_nik=mother_nik(2),
        facility=Facility.objects.get(code="PKM-732211"),
        desa=district.children.get(code="73.22.11").children.first(),
        mother_jkn_segment="PPU",
    )
    flag_deadlines()
    return critical, safe


def test_list_filters_by_level_status_segment_and_kecamatan(babies):
    critical, safe = babies
    api = client_for(UserFactory(role=Role.STAF_DINKES))

    def ids(**params):
        body = api.get("/api/enrollments/", params).json()
        return [row["newborn"] for row in body["results"]]

    assert ids() == [critical.pk, safe.pk]
    assert ids(level="KRITIS") == [critical.pk]
    assert ids(level="PERHATIAN") == [safe.pk]
    assert ids(kecamatan="73.22.11") == [safe.pk]
    assert ids(kecamatan="732211") == [safe.pk]
    assert ids(status="BELUM_TERDAFTAR") == [critical.pk, safe.pk]
    assert ids(status="DIPERBARUI") == []
    row = api.get("/api/enrollments/", {"level": "KRITIS"}).json()["results"][0]
    assert row["registration_level"] == "KRITIS"
    assert row["days_left"] == 4


def test_bpjs_records_a_registration_and_the_flag_clears(babies):
    critical, _ = babies
    enrollment = Enrollment.objects.get(newborn=critical)
    api = client_for(UserFactory(role=Role.PETUGAS_BPJS))
    response = api.patch(
        f"/api/enrollments/{enrollment.pk}/",
        {
            "status": EnrollmentStatus.TERDAFTAR_SEMENTARA,
            "jkn_number": "0001234567890",
            "registered_on": critical.birth_date.isoformat(),
            "segment": "PBPU",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["registration_level"] == "SELESAI"
    assert response.json()["status"] == "TERDAFTAR_SEMENTARA"


def test_update_errors_are_indonesian_per_field(babies):
    critical, _ = babies
    enrollment = Enrollment.objects.get(newborn=critical)
    api = client_for(UserFactory(role=Role.PETUGAS_BPJS))
    response = api.patch(
        f"/api/enrollments/{enrollment.pk}/", {"status": "TERDAFTAR_SEMENTARA", "jkn_number": "123"}, format="json"
    )
    assert response.status_code == 400
    assert "13 digit" in response.json()["jkn_number"][0]
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.BELUM_TERDAFTAR


def test_bidan_reads_her_own_and_cannot_update(babies):
    critical, safe = babies
    api = client_for(BidanFactory())
    assert [r["newborn"] for r in api.get("/api/enrollments/").json()["results"]] == [critical.pk]
    other = Enrollment.objects.get(newborn=safe)
    assert api.get(f"/api/enrollments/{other.pk}/").status_code == 404
    mine = Enrollment.objects.get(newborn=critical)
    assert api.patch(f"/api/enrollments/{mine.pk}/", {"segment": "PBPU"}, format="json").status_code == 403


def test_enrollments_are_in_the_schema(district):
    schema = client_for(UserFactory()).get("/api/schema/").content.decode()
    assert "/api/enrollments/{id}/" in schema
