"""SATUSEHAT on the pages: the baby's state and retry, and the dashboard's count per place of birth."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from newborns.models import Newborn, SatusehatAction, SatusehatOutbox, SatusehatStatus
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory, mother_nik, register
from tests.newborns.satusehat_server import CLIENT_ID, CLIENT_SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture
def configured(settings):
    settings.SATUSEHAT_CLIENT_ID = CLIENT_ID
    settings.SATUSEHAT_CLIENT_SECRET = CLIENT_SECRET
    settings.SATUSEHAT_ORGANIZATION_ID = "100000001"
    settings.SATUSEHAT_AUTH_URL = "http://127.0.0.1:9/oauth2/v1"  # nothing is sent from these tests


def detail(client, user, baby):
    client.force_login(user)
    return client.get(reverse("newborns:detail", args=[baby.pk]))


def test_without_settings_the_page_says_satusehat_is_not_configured(client, district, settings):
    settings.SATUSEHAT_CLIENT_ID = ""
    bidan = BidanFactory()
    page = detail(client, bidan, register(by=bidan))
    assert "Belum dikirim" in page.text
    assert "SATUSEHAT belum dikonfigurasi" in page.text


def test_the_page_shows_the_ihs_number_then_the_nik_added(client, district, configured):
    bidan = BidanFactory()
    baby = register(by=bidan)
    Newborn.objects.filter(pk=baby.pk).update(ihs_number="P00000000077")
    SatusehatOutbox.objects.filter(newborn=baby).update(status=SatusehatStatus.SENT)
    page = detail(client, bidan, baby)
    assert "Terkirim" in page.text and "P00000000077" in page.text

    SatusehatOutbox.objects.create(newborn=baby, action=SatusehatAction.ADD_NIK, status=SatusehatStatus.SENT)
    assert "NIK ditambahkan" in detail(client, bidan, baby).text


def test_an_error_is_shown_with_a_retry_for_the_midwife_but_not_for_dinsos(client, district, configured):
    bidan = BidanFactory()
    baby = register(by=bidan)
    SatusehatOutbox.objects.filter(newborn=baby).update(
        status=SatusehatStatus.FAILED, last_error="SATUSEHAT menolak data bayi (HTTP 422): NIK ibu tidak ditemukan"
    )
    page = detail(client, bidan, baby)
    assert "Galat" in page.text and "NIK ibu tidak ditemukan" in page.text
    assert "Kirim ulang ke SATUSEHAT" in page.text

    dinsos = UserFactory(role=Role.PETUGAS_DINSOS)
    assert "Kirim ulang ke SATUSEHAT" not in detail(client, dinsos, baby).text
    client.force_login(dinsos)
    assert client.post(reverse("newborns:satusehat_retry", args=[baby.pk])).status_code == 403

    client.force_login(bidan)
    response = client.post(reverse("newborns:satusehat_retry", args=[baby.pk]), follow=True)
    assert "dikirim ulang ke SATUSEHAT" in response.text
    assert SatusehatOutbox.objects.get(newborn=baby).status == SatusehatStatus.PENDING


def test_a_baby_outside_the_midwifes_scope_cannot_be_retried(client, district, configured, two_kabupaten):
    client.force_login(BidanFactory())
    response = client.post(reverse("newborns:satusehat_retry", args=[two_kabupaten.timur_baby.pk]))
    assert response.status_code == 404


def test_the_dashboard_counts_births_in_satusehat_per_place_of_birth(client, district, django_assert_max_num_queries):
    from django.utils import timezone

    from sejagad.dashboard import Period, dashboard

    staff = UserFactory(role=Role.STAF_DINKES)
    at_puskesmas = [register(mother_nik=mother_nik(n)) for n in range(1, 4)]
    register(mother_nik=mother_nik(9), facility=None)  # a home birth
    Newborn.objects.filter(pk__in=[b.pk for b in at_puskesmas[:2]]).update(ihs_number="P1")

    client.force_login(staff)
    page = client.get(reverse("home"))
    assert "Kelahiran di SATUSEHAT per tempat lahir" in page.text

    from newborns.selectors import satusehat_by_facility

    with django_assert_max_num_queries(1):
        rows = satusehat_by_facility(staff)
    assert rows == [
        {"facility": "Puskesmas Masamba", "births": 3, "in_satusehat": 2, "missing": 1},
        {"facility": "Lahir di rumah", "births": 1, "in_satusehat": 0, "missing": 1},
    ]
    period = Period.from_months(None, None, timezone.localdate())
    assert dashboard(staff, region=district, period=period)["satusehat"] == rows


def test_the_error_list_shows_each_refused_baby_in_scope_with_its_reason(client, district, configured, two_kabupaten):
    bidan = BidanFactory()
    mine = [register(by=bidan, mother_nik=mother_nik(n)) for n in (3, 4, 5)]
    SatusehatOutbox.objects.filter(newborn__in=[*mine, two_kabupaten.timur_baby]).update(
        status=SatusehatStatus.FAILED, last_error="SATUSEHAT menolak data bayi (HTTP 422): nama ibu tidak cocok"
    )
    SatusehatOutbox.objects.filter(newborn=mine[2]).update(status=SatusehatStatus.SENT, last_error="")
    client.force_login(bidan)

    with CaptureQueriesContext(connection) as few:
        page = client.get(reverse("newborns:satusehat_errors"))

    assert page.text.count("nama ibu tidak cocok") == 2
    assert page.text.count("Kirim ulang") == 2
    assert two_kabupaten.timur_baby.temporary_name not in page.text

    more = [register(by=bidan, mother_nik=mother_nik(n)) for n in (6, 7, 8)]
    SatusehatOutbox.objects.filter(newborn__in=more).update(status=SatusehatStatus.FAILED, last_error="HTTP 422")
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("newborns:satusehat_errors")).text.count("Kirim ulang") == 5
    assert len(many) == len(few)  # no query per row
