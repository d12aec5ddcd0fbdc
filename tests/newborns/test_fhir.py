"""The SATUSEHAT resources built from a birth record, validated by fhir.resources (R4B, whose Patient,
Observation and Bundle are R4's) and checked against DOMAIN.md's SATUSEHAT rules."""

import datetime

import jsonpatch
import pytest
from django.utils import timezone
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient

from newborns import fhir
from newborns.models import Newborn
from newborns.services import record_documents
from tests.factories import UserFactory, nik_for, register

pytestmark = pytest.mark.django_db


def identifiers(resource: dict) -> dict[str, str]:
    return {i["system"]: i["value"] for i in resource["identifier"]}


def extension(resource: dict, url: str) -> dict:
    return next(e for e in resource["extension"] if e["url"] == url)


def test_a_single_birth_is_a_bayi_ny_patient_identified_by_the_mothers_nik(district):
    baby = register(birth_date=timezone.localdate() - datetime.timedelta(days=3))
    resource = fhir.patient(baby)

    Patient.model_validate(resource)
    assert resource["meta"]["profile"] == ["https://fhir.kemkes.go.id/r4/StructureDefinition/Patient"]
    assert identifiers(resource) == {"https://fhir.kemkes.go.id/id/nik-ibu": baby.mother.nik}
    assert resource["name"][0]["text"] == "By. Ny. SITI AMINAH"
    assert resource["gender"] == "female"
    assert resource["multipleBirthInteger"] == 0  # mandatory, 0 for a single birth (error 10167 without it)
    assert extension(resource, fhir.CITIZENSHIP_URL)["valueCode"] == "WNI"


def test_the_address_carries_the_desa_codes_without_dots(district):
    baby = register()  # desa 73.22.03.2004
    address = fhir.patient(baby)["address"][0]

    codes = {e["url"]: e["valueCode"] for e in extension(address, fhir.ADMINISTRATIVE_CODE_URL)["extension"]}
    assert codes == {"province": "73", "city": "7322", "district": "732203", "village": "7322032004"}
    assert "LUWU UTARA" in address["city"].upper()
    assert address["country"] == "ID"


def test_twins_carry_their_birth_order_and_a_single_baby_zero(district):
    born = timezone.localdate() - datetime.timedelta(days=2)
    first = register(birth_date=born, birth_order=1)
    assert fhir.patient(first)["multipleBirthInteger"] == 0
    second = register(birth_date=born, birth_order=2, sex="L")
    first.refresh_from_db()

    assert [fhir.patient(b)["multipleBirthInteger"] for b in (first, second)] == [1, 2]
    annotated = fhir.with_delivery_size(Newborn.objects.filter(pk__in=[first.pk, second.pk])).order_by("birth_order")
    assert [fhir.patient(b)["multipleBirthInteger"] for b in annotated] == [1, 2]
    for baby in (first, second):
        Patient.model_validate(fhir.patient(baby))


def test_a_home_birth_is_born_in_the_familys_desa_and_a_facility_birth_at_the_facility(district):
    home = register(facility=None)
    place = extension(fhir.patient(home), fhir.BIRTH_PLACE_URL)["valueAddress"]
    codes = [e["valueCode"] for e in extension(place, fhir.ADMINISTRATIVE_CODE_URL)["extension"]]
    assert codes[-1] == "7322032004"

    at_puskesmas = register(mother_nik=nik_for(datetime.date(1990, 1, 5), female=True, serial=7))
    place = extension(fhir.patient(at_puskesmas), fhir.BIRTH_PLACE_URL)["valueAddress"]
    assert place["line"] == [at_puskesmas.facility.name]
    assert [e["valueCode"] for e in extension(place, fhir.ADMINISTRATIVE_CODE_URL)["extension"]][-1] == plain_code(
        at_puskesmas.facility.region.code
    )
    Patient.model_validate(fhir.patient(home))


def plain_code(code: str) -> str:
    return code.replace(".", "")


def test_a_birth_just_after_local_midnight_keeps_its_local_date_and_sends_the_time_in_utc(district, settings):
    settings.TIME_ZONE = "Asia/Makassar"  # WITA, UTC+8
    born = timezone.localdate() - datetime.timedelta(days=1)
    baby = register(birth_date=born, birth_time=datetime.time(0, 30))
    resource = fhir.patient(baby)

    Patient.model_validate(resource)
    assert resource["birthDate"] == born.isoformat()
    birth_time = resource["_birthDate"]["extension"][0]
    assert birth_time["url"] == "http://hl7.org/fhir/StructureDefinition/patient-birthTime"
    assert birth_time["valueDateTime"] == f"{born - datetime.timedelta(days=1)}T16:30:00+00:00"

    weight = fhir.birth_weight(baby, subject="Patient/P01")
    assert weight["effectiveDateTime"] == birth_time["valueDateTime"]
    assert weight["issued"].endswith("+00:00")


def test_the_birth_weight_is_loinc_8339_4_in_grams(district):
    baby = register(weight_grams=2450)
    resource = fhir.birth_weight(baby, subject="Patient/P02478375538", performer="Organization/100000001")

    Observation.model_validate(resource)
    assert resource["code"]["coding"] == [
        {"system": "http://loinc.org", "code": "8339-4", "display": "Birth weight Measured"}
    ]
    assert resource["valueQuantity"] == {"value": 2450, "unit": "g", "system": "http://unitsofmeasure.org", "code": "g"}
    assert resource["subject"] == {"reference": "Patient/P02478375538"}


def test_the_nik_patch_adds_the_nik_and_the_real_name_to_the_sent_patient(district):
    born = timezone.localdate() - datetime.timedelta(days=20)
    baby = register(birth_date=born, sex="P")
    sent = fhir.patient(baby)
    staff = UserFactory(role="admin_dinkes")
    nik = nik_for(born, female=True, serial=12)
    baby = record_documents(newborn=baby, by=staff, nik=nik, nik_issued_on=born + datetime.timedelta(days=15))
    Newborn.objects.filter(pk=baby.pk).update(given_name="NUR AISYAH")
    baby.refresh_from_db()

    patch = fhir.nik_patch(baby)
    assert patch[0] == {
        "op": "add",
        "path": "/identifier/-",
        "value": {"use": "official", "system": "https://fhir.kemkes.go.id/id/nik", "value": nik},
    }
    updated = jsonpatch.apply_patch(sent, patch)
    Patient.model_validate(updated)
    assert identifiers(updated)["https://fhir.kemkes.go.id/id/nik"] == nik
    assert identifiers(updated)["https://fhir.kemkes.go.id/id/nik-ibu"] == baby.mother.nik
    assert updated["name"][0]["text"] == "NUR AISYAH"


def test_a_baby_in_the_family_card_carries_the_kk_identifier(district):
    born = timezone.localdate() - datetime.timedelta(days=20)
    baby = register(birth_date=born)
    baby = record_documents(
        newborn=baby, by=UserFactory(role="admin_dinkes"), kk_added_on=born + datetime.timedelta(days=5)
    )
    assert identifiers(fhir.patient(baby))["https://fhir.kemkes.go.id/id/kk"] == "7322030101200001"
