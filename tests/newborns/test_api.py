import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from newborns.models import Newborn
from newborns.services import record_documents
from sejagad.models import Facility, Region
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory, mother_nik, nik_for, register

LIST_URL = "/api/newborns/"


def detail_url(newborn) -> str:
    return f"{LIST_URL}{newborn.pk}/"


def documents_url(newborn) -> str:
    return f"{LIST_URL}{newborn.pk}/documents/"


def ten_days_ago() -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=10)


def birth(**overrides) -> dict:
    payload = {
        "mother_nik": mother_nik(),
        "mother_name": "Siti Aminah",
        "kk_number": "7322030101200001",
        "birth_date": ten_days_ago().isoformat(),
        "sex": "P",
        "weight_grams": 3100,
        "desa": "73.22.03.2004",
    }
    payload.update(overrides)
    return payload


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def dinkes(district):
    return UserFactory(role=Role.STAF_DINKES)


@pytest.fixture
def bidan(district):
    return BidanFactory()


def test_token_holder_registers_a_birth_and_reads_back_its_temporary_name(district):
    bidan = BidanFactory(username="rahma")
    client = APIClient()
    token = client.post("/api/auth/token/", {"username": "rahma", "password": "rahasia-uji-123"}).json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = client.post(LIST_URL, birth(desa="7322032004", birth_time="08:30"), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["temporary_name"] == "By. Ny. SITI AMINAH"
    assert body["desa"] == "73.22.03.2004"
    assert body["kecamatan"] == "73.22.03"
    assert (body["desa_name"], body["kecamatan_name"]) == ("Pincara", "Masamba")
    assert body["facility"] == bidan.facility_id
    assert body["facility_name"] == "Puskesmas Masamba"
    assert body["mother"]["name"] == "SITI AMINAH"
    assert body["document_status"] == "belum_ada"
    newborn = Newborn.objects.get(pk=body["id"])
    assert newborn.attending_midwife == bidan
    assert newborn.created_by == bidan


def test_request_without_credentials_is_refused(district):
    response = APIClient().post(LIST_URL, birth(), format="json")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert response.json()["detail"] == "Data autentikasi tidak diberikan."
    assert not Newborn.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("mother_nik", nik_for(datetime.date(1990, 8, 17), female=False), "NIK ibu harus NIK perempuan"),
        ("mother_nik", mother_nik()[:15], "NIK harus 16 digit (tertulis 15 digit)"),
        ("kk_number", "73220301012000", "Nomor KK harus 16 digit"),
        ("birth_date", (timezone.localdate() + datetime.timedelta(days=1)).isoformat(), "tidak boleh di masa depan"),
        ("weight_grams", 200, "Berat lahir harus antara 300 dan 7.000 gram"),
        ("desa", "73.22.03", "tidak ada dalam daftar wilayah"),
        ("mother_jkn_number", "12345", "Nomor kartu JKN harus 13 digit"),
    ],
)
def test_invalid_birth_is_refused_with_an_indonesian_message_on_the_field(dinkes, field, value, message):
    response = client_for(dinkes).post(LIST_URL, birth(**{field: value}), format="json")

    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field]
    assert message in errors[field][0]
    assert not Newborn.objects.exists()


def test_unknown_kecamatan_in_a_nik_is_accepted_once_confirmed(dinkes):
    client = client_for(dinkes)
    old_nik = mother_nik(kecamatan="732299")

    warned = client.post(LIST_URL, birth(mother_nik=old_nik), format="json")
    confirmed = client.post(LIST_URL, birth(mother_nik=old_nik, confirm_warnings=True), format="json")

    assert warned.status_code == 400
    assert "Kode kecamatan 732299" in warned.json()["mother_nik"][0]
    assert confirmed.status_code == 201
    assert Newborn.objects.get().mother.nik == old_nik


def test_same_birth_twice_is_refused_with_a_link_to_the_existing_record(dinkes):
    existing = register()

    response = client_for(dinkes).post(LIST_URL, birth(), format="json")

    assert response.status_code == 409
    body = response.json()
    assert "sudah tercatat" in body["detail"]
    assert body["existing_id"] == existing.pk
    assert body["existing_url"] == f"http://testserver{reverse('newborns:detail', args=[existing.pk])}"
    assert Newborn.objects.count() == 1


def test_twins_are_both_recorded_and_named_by_birth_order(dinkes):
    client = client_for(dinkes)

    first = client.post(LIST_URL, birth(mother_name="Nurhayati"), format="json")
    second = client.post(LIST_URL, birth(mother_name="Nurhayati", birth_order=2, sex="L"), format="json")

    assert first.status_code == 201
    assert second.status_code == 201
    assert second.json()["temporary_name"] == "By. Ny. NURHAYATI II"
    assert client.get(detail_url(Newborn.objects.get(pk=first.json()["id"]))).json()["temporary_name"] == (
        "By. Ny. NURHAYATI I"
    )


def test_resent_registration_with_the_same_submission_key_returns_the_first_record(dinkes):
    client = client_for(dinkes)
    key = str(uuid.uuid4())

    first = client.post(LIST_URL, birth(submission_key=key), format="json")
    again = client.post(LIST_URL, birth(submission_key=key), format="json")

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Newborn.objects.count() == 1


def test_bidan_sees_only_her_facility_babies(bidan):
    own = register(mother_nik=mother_nik(serial=1), mother_name="Siti Aminah")
    elsewhere = register(
        mother_nik=mother_nik(serial=2), mother_name="Rosmiati", facility=Facility.objects.get(code="PKM-732201")
    )
    client = client_for(bidan)

    listed = client.get(LIST_URL).json()

    assert [row["id"] for row in listed["results"]] == [own.pk]
    assert listed["count"] == 1
    assert client.get(detail_url(elsewhere)).status_code == 404
    assert client.get(detail_url(own)).status_code == 200


def test_bidan_registers_only_at_her_own_facility(bidan):
    other = Facility.objects.get(code="PKM-732201")

    response = client_for(bidan).post(LIST_URL, birth(facility=other.pk), format="json")

    assert response.status_code == 400
    assert "fasilitasnya sendiri" in response.json()["facility"][0]
    assert not Newborn.objects.exists()


def test_petugas_bpjs_reads_but_cannot_register(district):
    register()
    client = client_for(UserFactory(role=Role.PETUGAS_BPJS))

    assert client.get(LIST_URL).json()["count"] == 1
    assert client.post(LIST_URL, birth(mother_nik=mother_nik(serial=2)), format="json").status_code == 403
    assert Newborn.objects.count() == 1


def test_dukcapil_records_a_nik_that_must_match_the_baby(district):
    baby = register(sex="P", birth_date=ten_days_ago())
    client = client_for(UserFactory(role=Role.PETUGAS_DUKCAPIL))
    today = timezone.localdate().isoformat()

    wrong_sex = client.patch(
        documents_url(baby), {"nik": nik_for(baby.birth_date, female=False), "nik_issued_on": today}, format="json"
    )
    right = client.patch(
        documents_url(baby), {"nik": nik_for(baby.birth_date, female=True), "nik_issued_on": today}, format="json"
    )

    assert wrong_sex.status_code == 400
    assert "NIK tidak cocok dengan bayi" in wrong_sex.json()["nik"][0]
    assert right.status_code == 200, right.json()
    assert right.json()["nik"] == nik_for(baby.birth_date, female=True)
    assert right.json()["document_status"] == "nik_terbit"
    baby.refresh_from_db()
    assert baby.nik == nik_for(baby.birth_date, female=True)


def test_documents_not_sent_keep_their_recorded_values(district):
    baby = register()
    client = client_for(UserFactory(role=Role.PETUGAS_DUKCAPIL))
    kk_day = (timezone.localdate() - datetime.timedelta(days=5)).isoformat()

    client.patch(documents_url(baby), {"kk_added_on": kk_day}, format="json")
    response = client.patch(
        documents_url(baby), {"akta_number": "7322-LT-01012025-0001", "akta_issued_on": kk_day}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["kk_added_on"] == kk_day
    assert response.json()["akta_number"] == "7322-LT-01012025-0001"
    assert response.json()["document_status"] == "akta_terbit"


def test_only_dukcapil_records_documents_and_only_midwives_and_dinkes_correct_births(bidan):
    baby = register()
    dukcapil = client_for(UserFactory(role=Role.PETUGAS_DUKCAPIL))

    assert client_for(bidan).patch(
        documents_url(baby), {"kk_added_on": ten_days_ago().isoformat()}, format="json"
    ).status_code == (403)
    assert dukcapil.patch(detail_url(baby), {"weight_grams": 2900}, format="json").status_code == 403
    baby.refresh_from_db()
    assert (baby.kk_added_on, baby.weight_grams) == (None, 3100)


def test_bidan_corrects_birth_details_with_the_same_checks(bidan):
    baby = register()
    client = client_for(bidan)

    corrected = client.patch(detail_url(baby), {"weight_grams": 2950, "given_name": "Aisyah"}, format="json")
    too_light = client.patch(detail_url(baby), {"weight_grams": 200}, format="json")
    document = client.patch(detail_url(baby), {"nik": nik_for(baby.birth_date, female=True)}, format="json")

    assert corrected.status_code == 200
    assert (corrected.json()["weight_grams"], corrected.json()["given_name"]) == (2950, "Aisyah")
    assert too_light.status_code == 400
    assert "Berat lahir harus antara" in too_light.json()["weight_grams"][0]
    assert document.status_code == 400
    assert "documents/" in document.json()["nik"][0]
    baby.refresh_from_db()
    assert (baby.weight_grams, baby.nik) == (2950, None)


def test_list_masks_identity_numbers_that_the_record_shows_whole(dinkes):
    baby = register()
    record_documents(
        newborn=baby, by=dinkes, nik=nik_for(baby.birth_date, female=True), nik_issued_on=timezone.localdate()
    )
    client = client_for(dinkes)

    row = client.get(LIST_URL).json()["results"][0]
    whole = client.get(detail_url(baby)).json()

    assert row["mother"]["nik"] == mother_nik()[:4] + "*" * 10 + mother_nik()[-2:]
    assert row["mother"]["kk_number"] == "7322**********01"
    assert row["nik"] == "7322**********01"
    assert whole["mother"]["nik"] == mother_nik()
    assert whole["nik"] == nik_for(baby.birth_date, female=True)


def test_record_masks_identity_numbers_for_a_role_without_that_right(district):
    baby = register()

    shown = client_for(UserFactory(role=Role.PETUGAS_DINSOS)).get(detail_url(baby)).json()

    assert shown["mother"]["nik"] == "7322**********01"
    assert shown["mother"]["kk_number"] == "7322**********01"


def test_list_filters_by_name_number_month_region_and_document_status(dinkes):
    today = timezone.localdate()
    siti = register(mother_nik=mother_nik(serial=1), mother_name="Siti Aminah", birth_date=today)
    rosmiati = register(
        mother_nik=mother_nik(serial=2),
        mother_name="Rosmiati",
        birth_date=today - datetime.timedelta(days=62),
        desa=Region.objects.get(code="73.22.01.2001"),
    )
    record_documents(newborn=rosmiati, by=dinkes, kk_added_on=today)
    client = client_for(dinkes)

    def ids(**params):
        response = client.get(LIST_URL, params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    assert ids(q="aminah") == [siti.pk]
    searched = client.post("/api/newborns/search/", {"q": mother_nik(serial=2)}, format="json")  # never in a URL
    assert [row["id"] for row in searched.json()["results"]] == [rosmiati.pk]
    assert ids(birth_month=f"{today:%Y-%m}") == [siti.pk]
    assert ids(kecamatan="73.22.01") == [rosmiati.pk]
    assert ids(desa="7322032004") == [siti.pk]
    assert ids(document_status="masuk_kk") == [rosmiati.pk]
    assert ids(document_status="belum_ada") == [siti.pk]


def test_list_refuses_a_malformed_month_in_indonesian(dinkes):
    response = client_for(dinkes).get(LIST_URL, {"birth_month": "03-2025"})

    assert response.status_code == 400
    assert "YYYY-MM" in response.json()["birth_month"][0]


def test_list_pages_by_the_requested_size(dinkes):
    for serial in range(1, 4):
        register(mother_nik=mother_nik(serial=serial), mother_name=f"Ibu {serial}")

    response = client_for(dinkes).get(LIST_URL, {"page_size": 2})

    assert response.json()["count"] == 3
    assert len(response.json()["results"]) == 2
    assert response.json()["next"]


@pytest.mark.parametrize("rows", [3, 20])
def test_list_reads_the_same_number_of_queries_however_many_rows(dinkes, rows, django_assert_num_queries):
    for serial in range(1, rows + 1):
        register(
            mother_nik=mother_nik(serial=serial),
            mother_name=f"Ibu {serial}",
            facility=Facility.objects.get(code="PKM-732203" if serial % 2 else "PKM-732201"),
        )
    client = client_for(dinkes)

    with django_assert_num_queries(2):
        response = client.get(LIST_URL)

    assert len(response.json()["results"]) == rows


def test_schema_describes_the_newborn_endpoints(dinkes):
    response = client_for(dinkes).get("/api/schema/")

    assert response.status_code == 200
    assert "/api/newborns/" in response.content.decode()
    assert "/api/newborns/{id}/documents/" in response.content.decode()


def test_api_docs_load_without_an_outside_cdn(client, dinkes):
    client.force_login(dinkes)
    response = client.get("/api/docs/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "swagger" in page.lower()
    assert "cdn" not in page.lower()
    assert 'src="https://' not in page


def test_a_birth_without_a_family_card_is_recorded_as_on_the_form_and_its_deadlines_are_answered(bidan):
    """The offline outbox sends what the birth form accepts: the KK is optional on both."""
    payload = birth()
    del payload["kk_number"]
    response = client_for(bidan).post(LIST_URL, payload, format="json")
    assert response.status_code == 201, response.data
    baby = Newborn.objects.get()
    assert baby.mother.kk_number == ""
    assert response.data["registration_deadline"] == baby.registration_deadline.isoformat()
    assert response.data["nik_deadline"] == baby.nik_deadline.isoformat()
    # A KK that is given is still checked.
    refused = client_for(bidan).post(LIST_URL, birth(kk_number="123", birth_order=2), format="json")
    assert refused.status_code == 400
    assert "Nomor KK harus 16 digit" in str(refused.data["kk_number"])


def test_a_birth_sent_as_the_form_sends_it_reads_empty_fields_as_the_form_does(bidan):
    """The outbox posts the form's fields by name, urlencoded: an empty place of birth is a home birth,
    an empty time is no time, an unticked box is no, ``confirm_warnings=on`` confirms."""
    key = uuid.uuid4()
    form_fields = birth(
        mother_nik="7322995708950004", facility="", birth_time="", length_cm="", phone="", kecamatan="73.22.03"
    )
    form_fields.update(submission_key=str(key), confirm_warnings="on", mother_jkn_segment="")
    client = client_for(bidan)
    response = client.post(LIST_URL, form_fields)  # multipart, as a browser's FormData
    assert response.status_code == 201, response.data
    baby = Newborn.objects.get()
    assert baby.facility is None and baby.birth_time is None
    assert baby.submission_key == key
    # The same key again, as after an answer lost on the way: the same record, nothing new.
    again = client.post(LIST_URL, form_fields)
    assert again.status_code == 200
    assert again.data["id"] == baby.pk
    assert Newborn.objects.count() == 1
