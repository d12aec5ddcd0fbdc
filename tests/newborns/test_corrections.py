"""Corrections with a reason, voiding and restoring, and a mother who is one person."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from enrollment.models import Enrollment, FlagLevel
from enrollment.services import email_notifications
from newborns.models import Mother, Newborn
from newborns.services import correct_birth, record_documents, register_birth, restore_birth, void_birth
from sejagad.models import Facility, Region
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory, mother_nik, nik_for, register

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def days_ago(n: int) -> datetime.date:
    return TODAY() - datetime.timedelta(days=n)


@pytest.fixture
def bidan(district):
    return BidanFactory(first_name="Rahma", last_name="Bidan")


@pytest.fixture
def dinkes(district):
    return UserFactory(role=Role.STAF_DINKES)


def test_a_girl_recorded_as_a_boy_is_corrected_and_then_gets_her_nik(bidan):
    baby = register(by=bidan, sex="L", birth_date=days_ago(20))
    real_nik = nik_for(baby.birth_date, female=True)
    with pytest.raises(ValidationError, match="tidak cocok"):
        record_documents(newborn=baby, by=bidan, nik=real_nik, nik_issued_on=TODAY())
    correct_birth(newborn=baby, by=bidan, sex="P", reason="salah input")
    baby = record_documents(newborn=baby, by=bidan, nik=real_nik, nik_issued_on=TODAY())
    assert baby.nik == real_nik
    latest = baby.history.filter(sex="P").last()
    assert (latest.history_user, latest.history_change_reason) == (bidan, "salah input")


def test_a_correction_needs_a_reason_and_changes_nothing_without_one(bidan):
    baby = register(by=bidan, sex="L")
    with pytest.raises(ValidationError, match="alasan"):
        correct_birth(newborn=baby, by=bidan, sex="P")
    baby.refresh_from_db()
    assert baby.sex == "L"


def test_a_corrected_birth_date_moves_the_deadlines_and_levels_at_once(bidan):
    baby = register(by=bidan, birth_date=days_ago(3))
    assert Enrollment.objects.get(newborn=baby).registration_level == FlagLevel.PERHATIAN
    correct_birth(newborn=baby, by=bidan, birth_date=days_ago(25), reason="tanggal salah ketik")
    enrollment = Enrollment.objects.get(newborn=baby)
    assert enrollment.registration_deadline == days_ago(25) + datetime.timedelta(days=28)
    assert enrollment.registration_level == FlagLevel.KRITIS
    assert bidan.notifications.filter(enrollment=enrollment, level=FlagLevel.KRITIS).exists()


def test_a_corrected_birth_order_names_twins(bidan):
    first = register(by=bidan, mother_name="Nurhayati", birth_date=days_ago(5))
    second = register(by=bidan, mother_name="Nurhayati", birth_date=days_ago(4), sex="L")
    correct_birth(newborn=second, by=bidan, birth_date=days_ago(5), birth_order=2, reason="kembar, tanggal salah")
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.temporary_name, second.temporary_name) == ("By. Ny. NURHAYATI I", "By. Ny. NURHAYATI II")
    with pytest.raises(ValidationError, match="urutan"):
        correct_birth(newborn=second, by=bidan, birth_order=1, reason="coba")


def test_a_corrected_mother_nik_fixes_her_record_when_the_baby_is_her_only_one(bidan):
    baby = register(by=bidan, mother_nik=mother_nik(1))
    correct_birth(newborn=baby, by=bidan, mother_nik=mother_nik(2), reason="NIK ibu salah ketik")
    baby.refresh_from_db()
    assert baby.mother.nik == mother_nik(2)
    assert Mother.objects.count() == 1


def test_a_correction_to_a_known_mother_moves_the_baby_to_her(bidan):
    register(by=bidan, mother_nik=mother_nik(1), mother_name="Hasnah", birth_date=days_ago(200))
    twin_mother_baby = register(by=bidan, mother_nik=mother_nik(2), mother_name="Hasnah")
    register(by=bidan, mother_nik=mother_nik(2), mother_name="Hasnah", birth_date=days_ago(100))
    correct_birth(newborn=twin_mother_baby, by=bidan, mother_nik=mother_nik(1), reason="ibu yang sama")
    twin_mother_baby.refresh_from_db()
    assert twin_mother_baby.mother.nik == mother_nik(1)


def test_desa_and_facility_must_lie_in_the_users_scope(bidan, dinkes):
    baby = register(by=bidan)
    with pytest.raises(ValidationError, match="fasilitasnya sendiri"):
        correct_birth(newborn=baby, by=bidan, facility=Facility.objects.get(code="PKM-732211"), reason="x")
    kecamatan_staff = UserFactory(role=Role.STAF_DINKES, region=Region.objects.get(code="73.22.03"))
    with pytest.raises(ValidationError, match="Fasilitas ini di luar wilayah"):
        correct_birth(newborn=baby, by=kecamatan_staff, facility=Facility.objects.get(code="PKM-732211"), reason="x")
    with pytest.raises(ValidationError, match="di luar wilayah"):
        correct_birth(newborn=baby, by=kecamatan_staff, desa=Region.objects.get(code="73.22.11.2002"), reason="x")
    correct_birth(newborn=baby, by=dinkes, desa=Region.objects.get(code="73.22.11.2002"), reason="pindah domisili")
    baby.refresh_from_db()
    assert baby.desa_id == "73.22.11.2002"


def test_a_bidan_corrects_only_within_the_set_days_and_dinkes_at_any_time(bidan, dinkes, settings):
    baby = register(by=bidan)
    Newborn.objects.filter(pk=baby.pk).update(created_at=timezone.now() - datetime.timedelta(days=31))
    with pytest.raises(ValidationError, match="30 hari"):
        correct_birth(newborn=baby, by=bidan, sex="L", reason="salah input")
    settings.BIRTH_CORRECTION_DAYS = 45
    correct_birth(newborn=baby, by=bidan, sex="L", reason="salah input")
    correct_birth(newborn=baby, by=dinkes, sex="P", reason="salah lagi")
    other = BidanFactory(facility=Facility.objects.get(code="PKM-732211"))
    with pytest.raises(ValidationError):
        correct_birth(newborn=baby, by=other, sex="L", reason="bukan bayinya")


def test_a_sex_that_contradicts_a_recorded_nik_is_refused(bidan):
    baby = register(by=bidan, sex="P", birth_date=days_ago(20))
    record_documents(newborn=baby, by=bidan, nik=nik_for(baby.birth_date, female=True), nik_issued_on=TODAY())
    with pytest.raises(ValidationError, match="tidak cocok"):
        correct_birth(newborn=baby, by=bidan, sex="L", reason="salah")


def test_a_voided_birth_leaves_every_list_and_job_and_comes_back_on_restore(client, bidan, dinkes):
    baby = register(by=bidan, birth_date=days_ago(25))
    bidan.email = "bidan@example.id"
    bidan.save()
    client.force_login(bidan)
    assert client.get(reverse("enrollment:notifications")).context["unread_notifications"] == 1
    with pytest.raises(ValidationError):
        void_birth(newborn=baby, by=bidan, reason="data uji")  # a bidan cannot void
    void_birth(newborn=baby, by=dinkes, reason="data uji")
    notices = client.get(reverse("enrollment:notifications"))
    assert notices.context["unread_notifications"] == 0
    assert notices.context["page"].paginator.count == 0
    assert email_notifications() == 0  # nothing mailed about a voided record
    client.force_login(dinkes)
    assert client.get(reverse("newborns:list")).context["page"].paginator.count == 0
    assert client.get(reverse("enrollment:worklist")).context["page"].paginator.count == 0
    assert client.get(reverse("home")).context["figures"]["births"] == 0
    assert client.get(reverse("newborns:voided")).context["page"].paginator.count == 1
    client.force_login(bidan)
    assert client.get(reverse("newborns:detail", args=[baby.pk])).status_code == 404
    # The real record can now be entered again; restoring the test entry is then refused.
    again = register(by=bidan, birth_date=days_ago(25))
    with pytest.raises(ValidationError, match="sudah tercatat"):
        restore_birth(newborn=baby, by=dinkes, reason="keliru dibatalkan")
    void_birth(newborn=again, by=dinkes, reason="dua kali")
    restore_birth(newborn=baby, by=dinkes, reason="keliru dibatalkan")
    client.force_login(dinkes)
    assert client.get(reverse("enrollment:worklist")).context["page"].paginator.count == 1
    assert baby.history.filter(voided_at__isnull=False).exists()


def test_voiding_and_restoring_through_pages_and_api(client, dinkes, bidan):
    baby = register(by=bidan)
    client.force_login(dinkes)
    client.post(reverse("newborns:void", args=[baby.pk]), {"reason": "tercatat dua kali"})
    baby.refresh_from_db()
    assert baby.is_voided and baby.void_reason == "tercatat dua kali"
    page = client.get(reverse("newborns:detail", args=[baby.pk]))
    assert "Data ini dibatalkan" in page.text
    api = APIClient()
    api.force_authenticate(dinkes)
    assert api.post(f"/api/newborns/{baby.pk}/restore/", {"reason": ""}, format="json").status_code == 400
    response = api.post(f"/api/newborns/{baby.pk}/restore/", {"reason": "salah batal"}, format="json")
    assert response.status_code == 200 and response.json()["voided_at"] is None
    api.force_authenticate(bidan)
    assert api.post(f"/api/newborns/{baby.pk}/void/", {"reason": "x"}, format="json").status_code == 403


def test_correction_page_saves_with_a_reason_and_shows_the_same_errors(client, bidan):
    baby = register(by=bidan, sex="L")
    client.force_login(bidan)
    form = client.get(reverse("newborns:edit", args=[baby.pk])).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None}
    data |= {"desa": baby.desa_id, "kecamatan": "73.22.03", "facility": baby.facility_id, "sex": "P"}
    refused = client.post(reverse("newborns:edit", args=[baby.pk]), data)
    assert "Tulis alasan perbaikan" in refused.text
    saved = client.post(reverse("newborns:edit", args=[baby.pk]), data | {"reason": "salah input"}, follow=True)
    assert "Data kelahiran diperbaiki" in saved.text
    baby.refresh_from_db()
    assert baby.sex == "P"


def test_api_correction_passes_the_same_rules(bidan):
    baby = register(by=bidan, sex="L")
    api = APIClient()
    api.force_authenticate(bidan)
    url = f"/api/newborns/{baby.pk}/"
    assert "reason" in api.patch(url, {"sex": "P"}, format="json").json()
    response = api.patch(url, {"sex": "P", "reason": "salah input"}, format="json")
    assert response.status_code == 200 and response.json()["sex"] == "P"
    other_kabupaten_bidan = UserFactory(role=Role.BIDAN, region=None, facility=Facility.objects.get(code="PKM-732211"))
    refused = api.patch(url, {"attending_midwife": other_kabupaten_bidan.pk, "reason": "x"}, format="json")
    assert refused.status_code == 400


# A mother is one person.


def test_a_known_nik_with_another_name_asks_for_confirmation_and_renames_only_then(bidan):
    first = register(by=bidan, mother_name="Siti Aminah", birth_date=days_ago(300))
    with pytest.raises(ValidationError, match="SITI AMINAH") as refused:
        register(by=bidan, mother_name="Siti Aminah Hasan", birth_date=days_ago(2))
    assert refused.value.error_dict["mother_name"][0].code == "mother_name_differs"
    first.mother.refresh_from_db()
    assert first.mother.name == "SITI AMINAH"
    register(by=bidan, mother_name="Siti Aminah Hasan", birth_date=days_ago(2), confirm_mother_name=True)
    first.refresh_from_db()
    assert first.mother.name == "SITI AMINAH HASAN"
    assert first.temporary_name == "By. Ny. SITI AMINAH HASAN"
    change = first.mother.history.first()
    assert change.history_user == bidan and change.history_change_reason


def test_a_mother_outside_the_users_scope_is_never_overwritten(district):
    home = BidanFactory()
    register(by=home, mother_name="Siti Aminah", kk_number="7322030101200001", phone="081100000001")
    stranger = BidanFactory(facility=Facility.objects.get(code="PKM-732211"))
    with pytest.raises(ValidationError, match=r"S\*\*\* A\*\*\*\*\*") as refused:
        register(
            by=stranger,
            mother_name="Orang Lain",
            birth_date=days_ago(1),
            confirm_mother_name=True,
            facility=stranger.facility,
        )
    assert "SITI" not in str(refused.value)
    register(
        by=stranger,
        mother_name="Siti Aminah",
        birth_date=days_ago(1),
        phone="089900000002",
        facility=Facility.objects.get(code="PKM-732211"),
        desa=Region.objects.get(code="73.22.11.2002"),
    )
    mother = Mother.objects.get()
    assert (mother.phone, mother.desa_id) == ("+6281100000001", "73.22.03.2004")


@pytest.mark.parametrize(
    ("mother_born", "outcome"),
    [
        (datetime.date(2025, 1, 5), "refused"),
        (datetime.date(2013, 1, 5), "warn"),
        (datetime.date(1966, 1, 5), "warn"),
        (datetime.date(1995, 1, 5), "ok"),
    ],
)
def test_a_mothers_age_at_the_birth_is_checked(bidan, mother_born, outcome):
    fields = dict(
        by=bidan,
        mother_nik=nik_for(mother_born, female=True),
        mother_name="Ibu Uji",
        desa=Region.objects.get(code="73.22.03.2004"),
        birth_date=days_ago(3),
        sex="P",
        weight_grams=3000,
        facility=bidan.facility,
    )
    if outcome == "refused":
        with pytest.raises(ValidationError, match="tidak mungkin"):
            register_birth(**fields, confirmed=True)
    elif outcome == "warn":
        with pytest.raises(ValidationError, match="centang konfirmasi"):
            register_birth(**fields)
        assert register_birth(**fields, confirmed=True).created
    else:
        assert register_birth(**fields).created
    assert Newborn.objects.count() == (0 if outcome == "refused" else 1)


def test_a_voided_record_is_not_restored_over_a_live_baby_holding_its_nik(bidan, dinkes):
    wrong_mother = register(by=bidan, birth_date=days_ago(20), sex="P", mother_nik=mother_nik(1))
    nik = nik_for(wrong_mother.birth_date, female=True)
    record_documents(newborn=wrong_mother, by=bidan, nik=nik, nik_issued_on=TODAY())
    void_birth(newborn=wrong_mother, by=dinkes, reason="ibu salah, dicatat ulang")
    real = register(by=bidan, birth_date=days_ago(20), sex="P", mother_nik=mother_nik(2))
    record_documents(newborn=real, by=bidan, nik=nik, nik_issued_on=TODAY())  # the NIK is free again
    with pytest.raises(ValidationError, match="NIK bayi ini sudah tercatat"):
        restore_birth(newborn=wrong_mother, by=dinkes, reason="keliru")
    wrong_mother.refresh_from_db()
    assert wrong_mother.is_voided
