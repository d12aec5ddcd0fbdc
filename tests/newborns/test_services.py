import datetime
import threading
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from newborns.models import DocumentStatus, Mother, Newborn
from newborns.services import DuplicateBirth, correct_birth, record_documents
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory, mother_nik, nik_for, register

TODAY = timezone.localdate


@pytest.mark.django_db
def test_a_birth_gets_the_bpjs_temporary_name_and_its_history(district):
    bidan = BidanFactory()
    baby = register(by=bidan, mother_name="siti  aminah")
    assert baby.temporary_name == "By. Ny. SITI AMINAH"
    assert baby.mother.name == "SITI AMINAH"
    record = baby.history.get()
    assert (record.history_type, record.history_user) == ("+", bidan)


@pytest.mark.django_db
def test_same_mother_date_and_order_is_refused_with_the_existing_record(district):
    first = register()
    with pytest.raises(DuplicateBirth) as exc:
        register()
    assert exc.value.existing == first
    assert "sudah tercatat" in str(exc.value)
    assert Newborn.objects.count() == 1


@pytest.mark.django_db
def test_twins_are_accepted_and_both_named_with_their_order(district):
    first = register(birth_order=1)
    second = register(birth_order=2, sex="L")
    first.refresh_from_db()
    assert (first.temporary_name, second.temporary_name) == ("By. Ny. SITI AMINAH I", "By. Ny. SITI AMINAH II")


@pytest.mark.django_db
def test_same_mother_another_year_is_a_new_birth(district):
    register(birth_date=TODAY() - datetime.timedelta(days=300))
    register(birth_date=TODAY() - datetime.timedelta(days=2))
    assert Mother.objects.count() == 1
    assert Newborn.objects.count() == 2


@pytest.mark.django_db
def test_a_resent_form_creates_one_record(district):
    key = uuid.uuid4()
    first = register(submission_key=key)
    again = register(submission_key=key)
    assert again == first
    assert Newborn.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submissions_of_one_birth_land_once(district):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite serialises writers; the race needs concurrent transactions (CI runs PostgreSQL)")
    user = UserFactory(role=Role.ADMIN_DINKES)
    barrier = threading.Barrier(2)
    outcomes = []

    def submit():
        try:
            barrier.wait()
            register(by=user)
            outcomes.append("created")
        except DuplicateBirth:
            outcomes.append("duplicate")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["created", "duplicate"]
    assert Newborn.objects.count() == 1


@pytest.mark.django_db
def test_database_constraint_refuses_a_duplicate_even_without_the_service(district):
    from django.db import IntegrityError, transaction

    baby = register()
    with pytest.raises(IntegrityError), transaction.atomic():
        Newborn.objects.create(
            mother=baby.mother,
            birth_date=baby.birth_date,
            birth_order=1,
            sex="L",
            weight_grams=3000,
            desa=baby.desa,
            temporary_name="x",
        )


@pytest.mark.django_db
def test_document_pipeline_records_dates_and_who(district):
    dukcapil = UserFactory(role=Role.PETUGAS_DUKCAPIL)
    baby = register(birth_date=TODAY() - datetime.timedelta(days=40), sex="P")
    assert baby.document_status == DocumentStatus.BELUM_ADA

    kk_day = baby.birth_date + datetime.timedelta(days=5)
    baby = record_documents(newborn=baby, by=dukcapil, kk_added_on=kk_day)
    assert (baby.document_status, baby.kk_added_by) == (DocumentStatus.MASUK_KK, dukcapil)

    nik = nik_for(baby.birth_date, female=True, serial=7)
    baby = record_documents(
        newborn=baby,
        by=dukcapil,
        kk_added_on=kk_day,
        akta_number="7322-LT-01",
        akta_issued_on=kk_day,
        nik=nik,
        nik_issued_on=kk_day,
    )
    assert baby.document_status == DocumentStatus.NIK_TERBIT
    assert (baby.nik, baby.nik_by, baby.akta_by) == (nik, dukcapil, dukcapil)
    assert baby.history.count() == 3
    assert baby.history.first().history_user == dukcapil


@pytest.mark.django_db
def test_nik_that_does_not_match_the_baby_is_refused(district):
    baby = register(sex="P")
    male_nik = nik_for(baby.birth_date, female=False)
    with pytest.raises(ValidationError) as exc:
        record_documents(newborn=baby, by=baby.created_by, nik=male_nik, nik_issued_on=TODAY())
    assert "tidak cocok dengan bayi" in exc.value.message_dict["nik"][0]
    baby.refresh_from_db()
    assert baby.nik is None


@pytest.mark.django_db
def test_a_nik_belongs_to_one_baby(district):
    a = register(sex="L")
    b = register(sex="L", mother_nik=mother_nik(2), mother_name="Hasnah")
    nik = nik_for(a.birth_date, female=False)
    record_documents(newborn=a, by=a.created_by, nik=nik, nik_issued_on=TODAY())
    with pytest.raises(ValidationError, match="sudah tercatat untuk bayi lain"):
        record_documents(newborn=b, by=b.created_by, nik=nik, nik_issued_on=TODAY())


@pytest.mark.django_db
def test_document_date_before_birth_is_refused(district):
    baby = register()
    with pytest.raises(ValidationError, match="sebelum tanggal lahir"):
        record_documents(newborn=baby, by=baby.created_by, kk_added_on=baby.birth_date - datetime.timedelta(days=1))


@pytest.mark.django_db
def test_update_keeps_who_changed_what(district):
    bidan = BidanFactory()
    baby = register(by=bidan)
    correct_birth(newborn=baby, by=bidan, given_name="Nur Aisyah", weight_grams=3200)
    latest = baby.history.first()
    assert latest.history_user == bidan
    assert latest.given_name == "Nur Aisyah"
    assert {c.field for c in latest.diff_against(latest.prev_record).changes} == {"given_name", "weight_grams"}


@pytest.mark.django_db
def test_update_refuses_an_impossible_weight(district):
    baby = register()
    with pytest.raises(ValidationError, match="antara 300"):
        correct_birth(newborn=baby, by=baby.created_by, weight_grams=100)
    baby.refresh_from_db()
    assert baby.weight_grams == 3100


@pytest.mark.django_db
def test_scope_bidan_sees_her_facility_and_her_attended_births(district):
    from sejagad.models import Facility

    bidan = BidanFactory()
    own = register()
    elsewhere = register(mother_nik=mother_nik(2), facility=Facility.objects.get(code="PKM-732211"))
    attended = register(
        mother_nik=mother_nik(3), facility=Facility.objects.get(code="RSUD-7322"), attending_midwife=bidan
    )
    visible = set(Newborn.objects.in_scope_of(bidan))
    assert visible == {own, attended}
    assert elsewhere not in visible
    assert set(Newborn.objects.in_scope_of(UserFactory(role=Role.STAF_DINKES))) == {own, elsewhere, attended}


@pytest.mark.django_db
def test_a_later_birth_without_phone_keeps_the_mothers_phone(district):
    register(phone="081234567890", birth_date=TODAY() - datetime.timedelta(days=300))
    register(phone="", birth_date=TODAY() - datetime.timedelta(days=3))
    assert Mother.objects.get().phone == "+6281234567890"


@pytest.mark.django_db
def test_staff_cannot_register_a_birth_outside_their_region(district):
    from sejagad.models import Region

    kecamatan_officer = UserFactory(role=Role.STAF_DINKES, region=Region.objects.get(code="73.22.11"))
    with pytest.raises(ValidationError, match="di luar wilayah kerja"):
        register(by=kecamatan_officer)  # a Masamba desa
    assert not Newborn.objects.exists()
