"""Numbers typed in other scripts' digits, NUL bytes and control characters: stored as ASCII, or refused
in Indonesian, never a server error."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from newborns.models import Mother, Newborn
from sejagad.roles import Role
from tests.factories import UserFactory, mother_nik, nik_for, register
from tests.newborns.test_api import LIST_URL, birth, client_for, detail_url, documents_url
from tests.newborns.test_views import birth_post

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")


@pytest.fixture
def dinkes(district):
    return UserFactory(role=Role.STAF_DINKES)


@pytest.mark.parametrize("script", [FULL_WIDTH, ARABIC_INDIC, DEVANAGARI], ids=["full-width", "arabic", "devanagari"])
def test_api_stores_a_nik_typed_in_other_digits_as_ascii(dinkes, script):
    response = client_for(dinkes).post(
        LIST_URL,
        birth(mother_nik=mother_nik().translate(script), kk_number="7322030101200001".translate(script)),
        format="json",
    )

    assert response.status_code == 201, response.json()
    mother = Mother.objects.get()
    assert (mother.nik, mother.kk_number) == (mother_nik(), "7322030101200001")


def test_birth_form_stores_a_full_width_nik_as_ascii(client, district):
    client.force_login(UserFactory(role=Role.STAF_DINKES))
    number = "7322030101200001"
    response = client.post(
        reverse("newborns:create"),
        birth_post(
            mother_nik=mother_nik().translate(FULL_WIDTH),
            kk_number=number.translate(FULL_WIDTH),
            mother_jkn_number="０００１２３４５６７８９０",
        ),
    )

    assert response.status_code == 302, response.context["form"].errors
    mother = Mother.objects.get()
    assert (mother.nik, mother.kk_number, mother.jkn_number) == (mother_nik(), number, "0001234567890")


def test_the_same_birth_with_a_full_width_nik_is_the_recorded_birth(dinkes):
    existing = register()

    response = client_for(dinkes).post(LIST_URL, birth(mother_nik=mother_nik().translate(FULL_WIDTH)), format="json")

    assert response.status_code == 409, response.json()
    assert response.json()["existing_id"] == existing.pk
    assert Mother.objects.count() == 1


def test_a_baby_nik_in_full_width_digits_already_held_by_another_baby_is_refused(district):
    first = register(mother_nik=mother_nik(1), sex="P")
    second = register(mother_nik=mother_nik(2), sex="P")
    dukcapil = client_for(UserFactory(role=Role.PETUGAS_DUKCAPIL))
    nik = nik_for(first.birth_date, female=True, serial=7)
    assert (
        dukcapil.patch(documents_url(first), {"nik": nik, "nik_issued_on": TODAY()}, format="json").status_code == 200
    )

    response = dukcapil.patch(
        documents_url(second), {"nik": nik.translate(FULL_WIDTH), "nik_issued_on": TODAY()}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["nik"] == ["NIK ini sudah tercatat untuk bayi lain."]
    second.refresh_from_db()
    assert second.nik is None


def test_a_full_width_baby_nik_is_stored_as_ascii(district):
    baby = register(sex="P")
    nik = nik_for(baby.birth_date, female=True, serial=3)

    response = client_for(UserFactory(role=Role.PETUGAS_DUKCAPIL)).patch(
        documents_url(baby), {"nik": nik.translate(ARABIC_INDIC), "nik_issued_on": TODAY()}, format="json"
    )

    assert response.status_code == 200, response.json()
    baby.refresh_from_db()
    assert baby.nik == nik


def test_a_correction_with_the_mothers_nik_in_full_width_digits_changes_nothing(dinkes):
    baby = register()
    history = baby.history.count()

    response = client_for(dinkes).patch(
        detail_url(baby), {"mother_nik": mother_nik().translate(FULL_WIDTH)}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert Mother.objects.get().nik == mother_nik()
    assert baby.history.count() == history


@pytest.mark.parametrize("nik", ["732203570895000²", "7322035708950001\u00b9", "73220357089５０００a"])
def test_a_nik_with_a_superscript_or_letter_is_refused_in_indonesian(dinkes, nik):
    response = client_for(dinkes).post(LIST_URL, birth(mother_nik=nik), format="json")

    assert response.status_code == 400
    assert response.json()["mother_nik"] == ["NIK hanya boleh berisi angka."]
    assert not Mother.objects.exists()


def test_a_superscript_in_a_correction_is_refused_before_the_service(dinkes):
    baby = register()

    response = client_for(dinkes).patch(
        detail_url(baby), {"mother_nik": "732203570895000²", "reason": "salah ketik"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["mother_nik"] == ["NIK hanya boleh berisi angka."]


def test_birth_form_refuses_a_superscript_in_the_nik(client, district):
    client.force_login(UserFactory(role=Role.STAF_DINKES))

    response = client.post(reverse("newborns:create"), birth_post(mother_nik="732203570895000²"))

    assert response.status_code == 200
    assert "NIK hanya boleh berisi angka." in response.text
    assert not Newborn.objects.exists()


@pytest.mark.parametrize("field", ["mother_name", "mother_nik", "kk_number", "phone", "desa"])
def test_api_refuses_a_nul_byte_in_any_text_field(dinkes, field):
    payload = birth()
    payload[field] = payload[field][:5] + "\u0000" + payload[field][5:] if payload.get(field) else "08\u00001"

    response = client_for(dinkes).post(LIST_URL, payload, format="json")

    assert response.status_code == 400
    assert "Karakter null tidak diizinkan." in response.json()[field]
    assert not Newborn.objects.exists()


@pytest.mark.parametrize("char, shown", [("\u0007", "U+0007"), ("\u001b", "U+001B"), ("\u007f", "U+007F")])
def test_api_refuses_control_characters_in_a_name(dinkes, char, shown):
    response = client_for(dinkes).post(LIST_URL, birth(mother_name=f"Siti{char}Aminah"), format="json")

    assert response.status_code == 400
    assert response.json()["mother_name"] == [f"Berisi karakter tidak sah ({shown}); ketik ulang isinya."]
    assert not Newborn.objects.exists()


def test_api_ignores_a_nul_byte_in_an_unknown_key(dinkes):
    response = client_for(dinkes).post(LIST_URL, birth() | {"catatan\u0000": "x\u0000"}, format="json")

    assert response.status_code == 201


def test_api_refuses_nul_and_control_characters_in_corrections_and_documents(dinkes):
    baby = register()
    client = client_for(dinkes)
    assert client.patch(detail_url(baby), {"given_name": "Ani\u0000"}, format="json").status_code == 400
    assert client.patch(detail_url(baby), {"given_name": "Ani\u0008"}, format="json").status_code == 400
    assert client.post(f"{detail_url(baby)}void/", {"reason": "uji\u0000"}, format="json").status_code in (400, 403)
    dukcapil = client_for(UserFactory(role=Role.PETUGAS_DUKCAPIL))
    response = dukcapil.patch(documents_url(baby), {"akta_number": "7322-LT\u0001"}, format="json")
    assert response.status_code == 400
    baby.refresh_from_db()
    assert (baby.given_name, baby.akta_number) == ("", "")


def test_birth_form_refuses_a_control_character_in_the_mothers_name(client, district):
    client.force_login(UserFactory(role=Role.STAF_DINKES))

    response = client.post(reverse("newborns:create"), birth_post(mother_name="Siti\u0007 Aminah"))

    assert response.status_code == 200
    assert "Berisi karakter tidak sah (U+0007)" in response.text
    assert not Newborn.objects.exists()


def test_documents_form_refuses_a_control_character_in_the_akta_number(client, district):
    baby = register(birth_date=TODAY() - datetime.timedelta(days=20))
    client.force_login(UserFactory(role=Role.PETUGAS_DUKCAPIL))

    response = client.post(
        reverse("newborns:documents", args=[baby.pk]),
        {"akta_number": "7322-LT\u001f1", "akta_issued_on": TODAY().isoformat()},
    )

    assert response.status_code == 200
    assert "Berisi karakter tidak sah (U+001F)" in response.text
    baby.refresh_from_db()
    assert baby.akta_number == ""


@pytest.mark.parametrize("url", ["/", "/cakupan/", "/cakupan/tren/"])
def test_a_nul_byte_in_the_region_parameter_is_not_found_not_a_server_error(district, url):
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(role=Role.STAF_DINKES))

    response = client.get(url, {"wilayah": "73.22\x00"})

    assert response.status_code == 404


def test_a_search_typed_in_full_width_digits_finds_the_mother(dinkes):
    baby = register()

    body = (
        client_for(dinkes).post(f"{LIST_URL}search/", {"q": mother_nik().translate(FULL_WIDTH)}, format="json").json()
    )

    assert [row["id"] for row in body["results"]] == [baby.pk]
