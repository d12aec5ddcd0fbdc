"""FHIR for facility systems: births in as transaction Bundles through register_birth's rules, Patients out
within the caller's scope, every read audited, no NIK in a URL."""

import datetime
import json
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient
from rest_framework.test import APIClient

from enrollment.models import Enrollment
from newborns import fhir
from newborns.models import AccessPoint, IdentityAccess, Mother, Newborn, SatusehatOutbox
from sejagad.models import Facility
from sejagad.roles import Role
from sejagad.tokens import issue_token
from tests.factories import BidanFactory, UserFactory, mother_nik, nik_for, register

pytestmark = pytest.mark.django_db
FHIR_JSON = "application/fhir+json"


@pytest.fixture
def system(district):
    """The hospital's EMR: its own credential, bound to RSUD Andi Djemma."""
    return UserFactory(
        username="sistem_rsud", role=Role.SISTEM_FASKES, region=None, facility=Facility.objects.get(code="RSUD-7322")
    )


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user=user).key}")
    return client


def baby_entry(ref: str, *, nik_ibu: str, born: datetime.date, order: int | None = 0, gender="female", utc_time=None):
    patient = {
        "resourceType": "Patient",
        "identifier": [{"system": fhir.NIK_IBU_SYSTEM, "value": nik_ibu}],
        "name": [{"text": "Bayi Ny. Siti Aminah"}],
        "gender": gender,
        "birthDate": born.isoformat(),
        "address": [
            {
                "extension": [
                    {
                        "url": fhir.ADMINISTRATIVE_CODE_URL,
                        "extension": [
                            {"url": "province", "valueCode": "73"},
                            {"url": "city", "valueCode": "7322"},
                            {"url": "district", "valueCode": "732203"},
                            {"url": "village", "valueCode": "7322032004"},
                        ],
                    }
                ]
            }
        ],
    }
    if order is not None:
        patient["multipleBirthInteger"] = order
    if utc_time:
        patient["_birthDate"] = {"extension": [{"url": fhir.BIRTH_TIME_URL, "valueDateTime": utc_time}]}
    return {"fullUrl": ref, "resource": patient, "request": {"method": "POST", "url": "Patient"}}


def weight_entry(ref: str, grams) -> dict:
    return {
        "resource": {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8339-4"}]},
            "subject": {"reference": ref},
            "valueQuantity": {"value": grams, "unit": "g", "system": "http://unitsofmeasure.org", "code": "g"},
        },
        "request": {"method": "POST", "url": "Observation"},
    }


def birth_bundle(
    key="RSUD-2026-0001",
    *,
    nik=None,
    born=None,
    babies=((0, "female", 3100),),
    mother_as="RelatedPerson",
    utc_time=None,
):
    nik = nik or mother_nik()
    born = born or timezone.localdate() - datetime.timedelta(days=1)
    mother = {
        "resourceType": mother_as,
        "identifier": [
            {"system": fhir.NIK_SYSTEM, "value": nik},
            {"system": fhir.KK_SYSTEM, "value": "7322030101200001"},
        ],
        "name": [{"text": "Siti Aminah"}],
        "telecom": [{"system": "phone", "value": "081234567890"}],
    }
    if mother_as == "RelatedPerson":
        mother["patient"] = {"reference": "urn:uuid:bayi-1"}
        mother["relationship"] = [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleCode", "code": "MTH"}]}
        ]
    entries = [{"fullUrl": "urn:uuid:ibu", "resource": mother, "request": {"method": "POST", "url": mother_as}}]
    for n, (order, gender, grams) in enumerate(babies, start=1):
        entries.append(
            baby_entry(f"urn:uuid:bayi-{n}", nik_ibu=nik, born=born, order=order, gender=gender, utc_time=utc_time)
        )
        entries.append(weight_entry(f"urn:uuid:bayi-{n}", grams))
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "identifier": {"system": "https://rsud.example/kirim", "value": key},
        "entry": entries,
    }


def post_bundle(user, bundle):
    return api(user).post("/fhir/Bundle", json.dumps(bundle), content_type=FHIR_JSON)


def issues(response) -> list[str]:
    OperationOutcome.model_validate(response.json())
    return [i["details"]["text"] for i in response.json()["issue"]]


def test_a_valid_bundle_registers_the_birth_at_the_systems_facility(system, settings):
    settings.TIME_ZONE = "Asia/Makassar"
    born = timezone.localdate() - datetime.timedelta(days=1)
    bundle = birth_bundle(born=born, utc_time=f"{born - datetime.timedelta(days=1)}T16:30:00+00:00")
    Bundle.model_validate(bundle)

    response = post_bundle(system, bundle)

    assert response.status_code == 201, response.content
    assert response["Content-Type"].startswith(FHIR_JSON)
    baby = Newborn.objects.get()
    locations = [e["response"]["location"] for e in response.json()["entry"]]
    assert locations == [f"Patient/{baby.pk}", f"RelatedPerson/{baby.mother_id}", f"Observation/berat-lahir-{baby.pk}"]
    assert baby.facility.code == "RSUD-7322" and baby.created_by == system
    assert (baby.birth_date, baby.birth_time, baby.weight_grams) == (born, datetime.time(0, 30), 3100)
    assert baby.temporary_name == "By. Ny. SITI AMINAH" and baby.desa_id == "73.22.03.2004"
    assert baby.mother.phone == "+6281234567890" and baby.mother.kk_number == "7322030101200001"
    assert Enrollment.objects.filter(newborn=baby).exists()  # the membership is born with the birth
    assert SatusehatOutbox.objects.filter(newborn=baby).exists()


def test_the_mother_may_come_as_a_patient(system):
    assert post_bundle(system, birth_bundle(mother_as="Patient")).status_code == 201


def test_an_invalid_bundle_says_what_is_wrong_in_indonesian_and_writes_nothing(system):
    bundle = birth_bundle()
    del bundle["entry"][1]["resource"]["multipleBirthInteger"]
    bundle["entry"][2]["resource"]["valueQuantity"] = {"value": "berat", "code": "g"}

    response = post_bundle(system, bundle)

    assert response.status_code == 422
    texts = issues(response)
    assert any("multipleBirthInteger wajib" in t for t in texts)
    assert any("Berat lahir harus angka" in t for t in texts)
    assert response.json()["issue"][0]["expression"] == ["Bundle.entry[1].resource.multipleBirthInteger"]
    assert not Newborn.objects.exists() and not Mother.objects.exists()


def test_a_wrong_mothers_nik_is_refused_by_the_same_checks_as_the_form(system):
    male = nik_for(datetime.date(1990, 5, 17), female=False)
    response = post_bundle(system, birth_bundle(nik=male))
    assert response.status_code == 422
    assert any("perempuan" in t.lower() for t in issues(response))
    assert not Mother.objects.exists()


def test_a_desa_outside_the_district_is_refused(system):
    bundle = birth_bundle()
    bundle["entry"][1]["resource"]["address"][0]["extension"][0]["extension"][-1]["valueCode"] = "7324012001"
    response = post_bundle(system, bundle)
    assert response.status_code == 422
    assert not Newborn.objects.exists()


def test_a_birth_already_recorded_is_a_duplicate(system):
    assert post_bundle(system, birth_bundle("A-1")).status_code == 201
    response = post_bundle(system, birth_bundle("A-2"))  # the same birth under another bundle
    assert response.status_code == 409
    assert response.json()["issue"][0]["code"] == "duplicate"
    assert "sudah tercatat" in issues(response)[0]
    assert Newborn.objects.count() == 1


def test_twins_in_one_bundle_are_registered_together_with_their_names(system):
    response = post_bundle(system, birth_bundle(babies=((1, "female", 2400), (2, "male", 2300))))
    assert response.status_code == 201
    twins = list(Newborn.objects.order_by("birth_order"))
    assert [b.temporary_name for b in twins] == ["By. Ny. SITI AMINAH I", "By. Ny. SITI AMINAH II"]
    assert [b.weight_grams for b in twins] == [2400, 2300]
    assert [e["response"]["location"] for e in response.json()["entry"]][:2] == [f"Patient/{b.pk}" for b in twins]


def test_a_twin_sent_in_a_later_bundle_renames_the_first(system):
    post_bundle(system, birth_bundle("T-1", babies=((1, "female", 2400),)))
    response = post_bundle(system, birth_bundle("T-2", babies=((2, "male", 2300),)))
    assert response.status_code == 201
    assert sorted(Newborn.objects.values_list("temporary_name", flat=True)) == [
        "By. Ny. SITI AMINAH I",
        "By. Ny. SITI AMINAH II",
    ]


def test_a_repeated_bundle_answers_what_the_first_created(system):
    first = post_bundle(system, birth_bundle("R-1"))
    again = post_bundle(system, birth_bundle("R-1"))
    assert again.status_code == 200
    assert [e["response"]["location"] for e in again.json()["entry"]] == [
        e["response"]["location"] for e in first.json()["entry"]
    ]
    assert Newborn.objects.count() == 1


def test_a_credential_without_a_facility_cannot_send_bundles(district):
    staff = UserFactory(role=Role.STAF_DINKES)
    response = post_bundle(staff, birth_bundle())
    assert response.status_code == 403
    assert "tidak terikat pada satu fasilitas" in issues(response)[0]


def test_without_a_token_the_answer_is_an_operation_outcome(district):
    response = APIClient().post("/fhir/Bundle", json.dumps(birth_bundle()), content_type=FHIR_JSON)
    assert response.status_code == 401
    OperationOutcome.model_validate(response.json())


# --- Reads ----------------------------------------------------------------------------------------


def test_a_patient_in_scope_is_read_as_the_satusehat_patient_and_audited(district):
    bidan = BidanFactory()
    baby = register(by=bidan)
    Newborn.objects.filter(pk=baby.pk).update(ihs_number="P00000000042")

    response = api(bidan).get(f"/fhir/Patient/{baby.pk}")

    assert response.status_code == 200
    resource = response.json()
    Patient.model_validate(resource)
    assert resource["id"] == str(baby.pk)
    systems = {i["system"]: i["value"] for i in resource["identifier"]}
    assert systems[fhir.NIK_IBU_SYSTEM] == baby.mother.nik
    assert systems[fhir.IHS_SYSTEM] == "P00000000042"
    assert IdentityAccess.objects.filter(user=bidan, newborn=baby, where=AccessPoint.API_FHIR).count() == 1


def test_a_patient_outside_the_callers_facility_is_not_found(system):
    baby = register(by=BidanFactory())  # at Puskesmas Masamba, not the hospital
    response = api(system).get(f"/fhir/Patient/{baby.pk}")
    assert response.status_code == 404
    OperationOutcome.model_validate(response.json())
    assert not IdentityAccess.objects.exists()


def test_a_nik_in_the_query_string_is_refused_with_the_way_to_search(district):
    staff = UserFactory(role=Role.STAF_DINKES)
    response = api(staff).get(f"/fhir/Patient?identifier={fhir.NIK_IBU_SYSTEM}|{mother_nik()}")
    assert response.status_code == 400
    assert "POST /fhir/Patient/_search" in issues(response)[0]
    assert not IdentityAccess.objects.exists()


def test_a_search_by_the_mothers_nik_finds_her_twins_in_scope_only(system, django_assert_max_num_queries):
    post_bundle(system, birth_bundle(babies=((1, "female", 2400), (2, "male", 2300))))
    elsewhere = register(
        by=BidanFactory(), mother_nik=mother_nik(), birth_date=timezone.localdate() - datetime.timedelta(days=300)
    )  # her earlier baby, born at the puskesmas: outside the hospital's scope

    client = api(system)
    with django_assert_max_num_queries(3):  # the token and its user, the babies, one INSERT to the access log
        response = client.post(
            "/fhir/Patient/_search",
            urlencode({"identifier": f"{fhir.NIK_IBU_SYSTEM}|{mother_nik()}"}),
            content_type="application/x-www-form-urlencoded",
        )

    assert response.status_code == 200
    found = response.json()
    Bundle.model_validate(found)
    assert found["type"] == "searchset" and found["total"] == 2
    assert [e["resource"]["multipleBirthInteger"] for e in found["entry"]] == [1, 2]
    assert elsewhere.pk not in {int(e["resource"]["id"]) for e in found["entry"]}
    assert IdentityAccess.objects.filter(user=system, where=AccessPoint.API_FHIR).count() == 2


def _broken_bundles():
    def changed(edit):
        bundle = birth_bundle()
        edit(bundle)
        return bundle

    yield [1, 2, 3]
    yield {"resourceType": "Bundle", "type": "transaction", "entry": "bukan daftar"}
    yield changed(lambda b: b["entry"].append("teks"))
    yield changed(lambda b: b["entry"][1].update(resource=[1]))
    yield changed(lambda b: b["entry"][1]["resource"].update(address="Jl. Kesehatan"))
    yield changed(lambda b: b["entry"][1]["resource"].update(birthDate="2026-13-45"))
    yield changed(lambda b: b["entry"][1]["resource"].update(_birthDate={"extension": "x"}))
    yield changed(lambda b: b["entry"][0]["resource"].update(identifier={"system": fhir.NIK_SYSTEM}))
    yield changed(lambda b: b["entry"][0]["resource"].update(name=[{"given": "SITI"}]))
    yield changed(lambda b: b["entry"][2]["resource"].update(valueQuantity={"value": True, "code": "g"}))
    yield changed(lambda b: b["entry"][2]["resource"].update(subject="urn:uuid:bayi-1"))
    yield changed(lambda b: b["entry"][0]["resource"]["telecom"][0].update(value="0812\x0034"))
    yield changed(lambda b: b.update(identifier=["x"]))


@pytest.mark.parametrize("bundle", list(_broken_bundles()), ids=lambda b: str(b)[-40:])
def test_a_malformed_bundle_is_refused_with_an_operation_outcome_never_a_crash(system, bundle):
    response = post_bundle(system, bundle)
    assert response.status_code in (400, 422), response.content
    OperationOutcome.model_validate(response.json())
    assert not Newborn.objects.exists()
