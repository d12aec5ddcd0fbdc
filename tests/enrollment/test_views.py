import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from enrollment.flagging import flag_deadlines
from enrollment.models import Enrollment, EnrollmentStatus, FlagLevel, Notification
from sejagad.models import Facility
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory, mother_nik, register

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def born(days_ago, serial, **kw):
    return register(birth_date=TODAY() - datetime.timedelta(days=days_ago), mother_nik=mother_nik(serial), **kw)


def test_dinkes_worklist_sorts_at_risk_babies_by_days_left(client, district):
    later = born(10, 1)  # 18 days left
    sooner = born(25, 2)  # 3 days left
    born(0, 3, sex="L")  # 28 days left: PERHATIAN too
    safe_registered = born(5, 4)
    flag_deadlines()
    Enrollment.objects.filter(newborn=safe_registered).update(
        status=EnrollmentStatus.DIPERBARUI, registration_level=0, nik_level=0
    )
    client.force_login(UserFactory(role=Role.STAF_DINKES))
    response = client.get(reverse("enrollment:worklist"))
    rows = [e.newborn for e in response.context["page"].object_list]
    assert rows[:2] == [sooner, later]
    assert safe_registered not in rows
    assert "3 hari" in response.text
    assert {v: n for v, _, n, _ in response.context["tabs"]}[FlagLevel.KRITIS] == 1


def test_worklist_filters(client, district):
    masamba = born(25, 1)
    baebunta = born(
        25,
        2,
        facility=Facility.objects.get(code="PKM-732211"),
        desa=district.children.get(code="73.22.11").children.first(),
        mother_jkn_segment="PBPU",
    )
    flag_deadlines()
    Enrollment.objects.filter(newborn=baebunta).update(segment="PBPU")
    client.force_login(UserFactory(role=Role.STAF_DINKES))

    def rows(**params):
        return [e.newborn for e in client.get(reverse("enrollment:worklist"), params).context["page"].object_list]

    assert rows(kecamatan="73.22.11") == [baebunta]
    assert rows(facility=Facility.objects.get(code="PKM-732203").pk) == [masamba]
    assert rows(segment="PBPU") == [baebunta]
    assert rows(level=FlagLevel.KRITIS) == [masamba, baebunta]
    assert rows(level=FlagLevel.TERLAMBAT) == []


def test_bidan_sees_only_her_babies_at_risk(client, district):
    mine = born(25, 1)
    born(25, 2, facility=Facility.objects.get(code="PKM-732211"))
    flag_deadlines()
    client.force_login(BidanFactory())
    assert [e.newborn for e in client.get(reverse("enrollment:worklist")).context["page"].object_list] == [mine]


def test_bpjs_worklist_holds_babies_with_a_nik_not_yet_at_bpjs(client, district):
    from newborns.services import record_documents
    from tests.factories import nik_for

    ready = born(40, 1, sex="L")
    ready = record_documents(
        newborn=ready, by=ready.created_by, nik=nik_for(ready.birth_date, female=False), nik_issued_on=TODAY()
    )
    born(40, 2)
    flag_deadlines()
    client.force_login(UserFactory(role=Role.PETUGAS_BPJS))
    response = client.get(reverse("enrollment:worklist"), {"kind": "bpjs"})
    assert [e.newborn for e in response.context["page"].object_list] == [ready]
    assert ready.nik in response.text  # BPJS needs the whole NIK to update the membership


def test_dinsos_proposes_a_pbi_baby(client, district):
    poor = born(5, 1, mother_jkn_segment="PBI-APBN")
    born(5, 2, mother_jkn_segment="PPU")
    flag_deadlines()
    client.force_login(UserFactory(role=Role.PETUGAS_DINSOS))
    listed = client.get(reverse("enrollment:worklist"), {"kind": "dinsos"}).context["page"].object_list
    assert [e.newborn for e in listed] == [poor]
    enrollment = Enrollment.objects.get(newborn=poor)
    url = reverse("enrollment:propose_pbi", args=[enrollment.pk])
    response = client.post(url, {"segment": "PBI-APBN"}, follow=True)  # confirmed (tests/enrollment/test_pbi.py)
    assert "diusulkan sebagai peserta PBI" in response.text
    enrollment.refresh_from_db()
    assert enrollment.pbi_proposed_on == TODAY()
    assert not client.get(reverse("enrollment:worklist"), {"kind": "dinsos"}).context["page"].object_list


def test_bpjs_updates_an_enrollment_from_the_baby_page(client, district):
    baby = born(20, 1, mother_jkn_segment="PBPU")
    client.force_login(UserFactory(role=Role.PETUGAS_BPJS))
    detail = client.get(reverse("newborns:detail", args=[baby.pk]))
    assert "Batas daftar JKN" in detail.text
    edit = client.get(reverse("enrollment:for_newborn", args=[baby.pk]), follow=True)
    assert "daftar dan bayar iuran pertama dalam 28 hari" in edit.text
    enrollment = Enrollment.objects.get(newborn=baby)
    assert enrollment.segment == "PBPU"
    url = reverse("enrollment:edit", args=[enrollment.pk])
    bad = client.post(url, {"segment": "PBPU", "status": "TERDAFTAR_SEMENTARA", "jkn_number": ""})
    assert "Isi tanggal bayi terdaftar di BPJS" in bad.text
    client.post(
        url,
        {
            "segment": "PBPU",
            "status": "TERDAFTAR_SEMENTARA",
            "jkn_number": "0001234567890",
            "registered_on": TODAY().isoformat(),
        },
    )
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.TERDAFTAR_SEMENTARA
    assert enrollment.registration_level == FlagLevel.SELESAI


def test_notifications_show_with_an_unread_count_and_can_be_marked_read(client, district):
    bidan = BidanFactory()
    born(25, 1, attending_midwife=bidan)
    flag_deadlines()
    client.force_login(bidan)
    page = client.get(reverse("enrollment:notifications"))
    assert page.context["unread_notifications"] == 2  # her baby entering Kritis, and the day's digest
    assert "By. Ny. SITI AMINAH" in page.text
    client.post(reverse("enrollment:notifications"))
    assert not Notification.objects.filter(recipient=bidan, read_at__isnull=True).exists()


def test_worklist_query_count_does_not_grow_with_rows(client, district):
    client.force_login(UserFactory(role=Role.STAF_DINKES))
    born(25, 1)
    flag_deadlines()
    client.get(reverse("enrollment:worklist"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("enrollment:worklist"))
    for i in range(2, 20):
        born(20 + i % 8, i)
    flag_deadlines()
    with CaptureQueriesContext(connection) as many_written:
        client.get(reverse("enrollment:worklist"))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("enrollment:worklist"))
    assert len(many) == len(few)
    # The first view after the births recounts their desa in the summary: a few statements, not one per baby;
    # and reads the pickers again (3 queries), cached under the summary's version.
    assert len(many_written) <= len(few) + 19


def test_empty_worklist_says_so(client, district):
    client.force_login(UserFactory(role=Role.STAF_DINKES))
    assert "Tidak ada bayi berisiko" in client.get(reverse("enrollment:worklist")).text
