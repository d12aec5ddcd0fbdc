"""A newborn as SATUSEHAT's FHIR R4 resources (../shared/docs/DOMAIN.md, "SATUSEHAT").

Plain functions from records to JSON-ready dicts: the "Bayi Ny." ``Patient`` identified by the mother's NIK,
its birth-weight ``Observation``, and the JSON Patch that adds the baby's own NIK once Dukcapil issued it.
The outbound sync (``newborns.satusehat``), the FHIR API and the dry run all build their payloads here.
"""

import datetime

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.utils import timezone

from newborns.models import Newborn, Sex
from sejagad.models import Region

KEMKES = "https://fhir.kemkes.go.id"
PATIENT_PROFILE = f"{KEMKES}/r4/StructureDefinition/Patient"
NIK_IBU_SYSTEM = f"{KEMKES}/id/nik-ibu"
NIK_SYSTEM = f"{KEMKES}/id/nik"
KK_SYSTEM = f"{KEMKES}/id/kk"
IHS_SYSTEM = f"{KEMKES}/id/ihs-number"
ADMINISTRATIVE_CODE_URL = f"{KEMKES}/r4/StructureDefinition/administrativeCode"
BIRTH_PLACE_URL = f"{KEMKES}/r4/StructureDefinition/birthPlace"
CITIZENSHIP_URL = f"{KEMKES}/r4/StructureDefinition/citizenshipStatus"
BIRTH_TIME_URL = "http://hl7.org/fhir/StructureDefinition/patient-birthTime"
LOINC = "http://loinc.org"
BIRTH_WEIGHT_CODE = "8339-4"
BIRTH_WEIGHT_DISPLAY = "Birth weight Measured"
UCUM = "http://unitsofmeasure.org"
VITAL_SIGNS = "http://terminology.hl7.org/CodeSystem/observation-category"
GENDER = {Sex.LAKI_LAKI: "male", Sex.PEREMPUAN: "female"}
# The four levels of the administrativeCode extension, by the length of the code without dots.
ADMINISTRATIVE_LEVELS = (("province", 2), ("city", 4), ("district", 6), ("village", 10))


def with_delivery_size(newborns):
    """Annotate ``delivery_size``: live babies of the same mother and birth date (2 for twins), in one query."""
    siblings = (
        Newborn.objects.live()
        .filter(mother=OuterRef("mother"), birth_date=OuterRef("birth_date"))
        .order_by()
        .values("mother")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return newborns.annotate(delivery_size=Subquery(siblings, output_field=IntegerField()))


def delivery_size(newborn: Newborn) -> int:
    size = getattr(newborn, "delivery_size", None)
    if size is None:
        size = Newborn.objects.live().filter(mother_id=newborn.mother_id, birth_date=newborn.birth_date).count()
    return max(size or 0, 1)


def multiple_birth_integer(newborn: Newborn) -> int:
    """SATUSEHAT's mandatory ``multipleBirthInteger``: 0 for a single birth, else the birth order (twin I = 1)."""
    if newborn.birth_order > 1 or delivery_size(newborn) > 1:
        return newborn.birth_order
    return 0


def plain(code: str) -> str:
    return code.replace(".", "")


def administrative_code(region: Region) -> dict:
    """The address extension with the codes of each level down to ``region``, without dots
    (73.22.03.2004 gives 73, 7322, 732203, 7322032004)."""
    code = plain(region.code)
    return {
        "url": ADMINISTRATIVE_CODE_URL,
        "extension": [
            {"url": level, "valueCode": code[:length]} for level, length in ADMINISTRATIVE_LEVELS if len(code) >= length
        ],
    }


def _ancestors(region: Region) -> dict[int, Region]:
    """The region and its parents, by the length of their plain code (2, 4, 6, 10)."""
    found = {}
    while region is not None:
        found[len(plain(region.code))] = region
        region = region.parent
    return found


def address(region: Region, *, use: str | None = "home", line: str = "") -> dict:
    levels = _ancestors(region)
    result = {"use": use} if use else {}
    if line or 10 in levels:
        result["line"] = [line or levels[10].name]
    if 4 in levels:
        result["city"] = levels[4].name
    if 6 in levels:
        result["district"] = levels[6].name
    if 2 in levels:
        result["state"] = levels[2].name
    if region.postal_code:
        result["postalCode"] = region.postal_code
    result["country"] = "ID"
    result["extension"] = [administrative_code(region)]
    return result


def birth_instant(newborn: Newborn) -> datetime.datetime | None:
    """The moment of birth, aware, from the local date and time (None without a time)."""
    if newborn.birth_time is None:
        return None
    return timezone.make_aware(datetime.datetime.combine(newborn.birth_date, newborn.birth_time))


def utc(moment: datetime.datetime) -> str:
    """SATUSEHAT takes every datetime in UTC: ``2026-11-19T16:30:00+00:00``."""
    return moment.astimezone(datetime.UTC).isoformat(timespec="seconds")


def birth_place(newborn: Newborn) -> dict:
    """Where the baby was born: its facility, or at home in the family's desa."""
    if newborn.facility_id:
        return address(newborn.facility.region, use=None, line=newborn.facility.name)
    return address(newborn.desa, use=None)


def patient(newborn: Newborn) -> dict:
    """The SATUSEHAT Patient of a newborn: "Bayi Ny." named and identified by the mother's NIK; its own NIK
    and the family card once Dukcapil added it (the birth date is the local calendar date, the birth time
    extension the UTC instant)."""
    identifiers = [{"use": "official", "system": NIK_IBU_SYSTEM, "value": newborn.mother.nik}]
    if newborn.nik:
        identifiers.append({"use": "official", "system": NIK_SYSTEM, "value": newborn.nik})
    if newborn.kk_added_on and newborn.mother.kk_number:
        identifiers.append({"use": "official", "system": KK_SYSTEM, "value": newborn.mother.kk_number})
    resource = {
        "resourceType": "Patient",
        "meta": {"profile": [PATIENT_PROFILE]},
        "identifier": identifiers,
        "active": True,
        "name": [{"use": "official", "text": newborn.given_name or newborn.temporary_name}],
        "gender": GENDER[newborn.sex],
        "birthDate": newborn.birth_date.isoformat(),
        "deceasedBoolean": False,
        "address": [address(newborn.desa)],
        "multipleBirthInteger": multiple_birth_integer(newborn),
        "extension": [
            {"url": BIRTH_PLACE_URL, "valueAddress": birth_place(newborn)},
            {"url": CITIZENSHIP_URL, "valueCode": "WNI"},
        ],
    }
    if moment := birth_instant(newborn):
        resource["_birthDate"] = {"extension": [{"url": BIRTH_TIME_URL, "valueDateTime": utc(moment)}]}
    return resource


def birth_weight(newborn: Newborn, *, subject: str, performer: str | None = None) -> dict:
    """The birth weight as an Observation: LOINC 8339-4 in grams (UCUM ``g``), at the moment of birth in UTC.
    ``subject`` is ``Patient/<IHS number>`` (or a bundle's ``urn:uuid:``)."""
    moment = birth_instant(newborn)
    resource = {
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": VITAL_SIGNS, "code": "vital-signs", "display": "Vital Signs"}]}],
        "code": {"coding": [{"system": LOINC, "code": BIRTH_WEIGHT_CODE, "display": BIRTH_WEIGHT_DISPLAY}]},
        "subject": {"reference": subject},
        "effectiveDateTime": utc(moment) if moment else newborn.birth_date.isoformat(),
        "issued": utc(newborn.created_at),
        "valueQuantity": {"value": newborn.weight_grams, "unit": "g", "system": UCUM, "code": "g"},
    }
    if performer:
        resource["performer"] = [{"reference": performer}]
    return resource


def nik_patch(newborn: Newborn) -> list[dict]:
    """The JSON Patch (RFC 6902) that adds the baby's NIK to its Patient, with the family card and its real
    name when known. SATUSEHAT accepts it only while the record is not yet Dukcapil-validated; otherwise the
    records are merged (Patient.link), which is SATUSEHAT's own work."""
    if not newborn.nik:
        raise ValueError("the newborn has no NIK yet")
    operations = [
        {"op": "add", "path": "/identifier/-", "value": {"use": "official", "system": NIK_SYSTEM, "value": newborn.nik}}
    ]
    if newborn.mother.kk_number and newborn.kk_added_on:
        operations.append(
            {
                "op": "add",
                "path": "/identifier/-",
                "value": {"use": "official", "system": KK_SYSTEM, "value": newborn.mother.kk_number},
            }
        )
    if newborn.given_name:
        operations.append(
            {"op": "replace", "path": "/name/0", "value": {"use": "official", "text": newborn.given_name}}
        )
    return operations


# FHIR R4 Patient.link.type (http://hl7.org/fhir/R4/valueset-link-type.html): "replaced-by" means "the patient
# resource containing this link must no longer be used; the link points forward to another patient resource
# that must be used in lieu of" it, which is what a "Bayi Ny." Patient is once Dukcapil validated a Patient
# with the baby's NIK. "seealso" would say both records stay equally valid, which they do not. R4's
# Patient.active adds: "If a record is inactive, and linked to an active record, then future patient/record
# updates should occur on the other patient", so the "Bayi Ny." Patient is also made inactive.
MERGE_LINK_TYPE = "replaced-by"


def merge_patch(nik_patient_ihs: str) -> list[dict]:
    """The JSON Patch (RFC 6902) that merges the baby's "Bayi Ny." Patient into the Dukcapil-validated
    Patient holding its NIK: a ``Patient.link`` of type ``replaced-by`` to it, and ``active`` false. Sent
    again unchanged it gives the same record (``add`` on ``/link`` sets the whole list)."""
    return [
        {
            "op": "add",
            "path": "/link",
            "value": [{"other": {"reference": f"Patient/{nik_patient_ihs}"}, "type": MERGE_LINK_TYPE}],
        },
        {"op": "replace", "path": "/active", "value": False},
    ]
