"""Births sent by a facility's system as a FHIR transaction Bundle, registered through the same rules as the form.

A bundle holds, per baby, its Patient (identified by the mother's NIK, ``nik-ibu``) and its birth-weight
Observation, and once the mother as a RelatedPerson or a Patient (identified by her ``nik``). Every baby of
the bundle is registered in one transaction through ``services.register_birth`` (validation, duplicates,
twins' names, the membership born at once), or none is. The bundle's identifier is the idempotency key: a
repeated bundle answers what the first one created.
"""

import datetime
import json
import uuid
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from newborns import fhir, services, validators
from newborns.models import Newborn, Sex
from newborns.privacy import DUPLICATE_ELSEWHERE, visible_duplicate
from sejagad.models import Region, User

# Bundle identifiers become submission keys in this namespace, per facility system and baby.
BUNDLE_NAMESPACE = uuid.UUID("5a7e2b8e-3c1d-4b7a-9a43-5e7f1c0d2b14")
MOTHER_RELATIONSHIP = "MTH"
MAX_BABIES = 9


class BundleRejected(Exception):
    """The bundle cannot be registered; ``issues`` are (FHIR issue code, Indonesian text, FHIRPath)."""

    def __init__(self, issues: list[tuple[str, str, str]], *, status: int = 422):
        self.issues = issues
        self.status = status
        super().__init__("; ".join(text for _code, text, _where in issues))


@dataclass
class BirthEntry:
    patient_index: int
    observation_index: int | None
    fields: dict = field(default_factory=dict)


@dataclass(frozen=True)
class BundleResult:
    newborns: list[Newborn]
    mother_id: int
    created: bool


def operation_outcome(issues: list[tuple[str, str, str]]) -> dict:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "code": code, "details": {"text": text}, **({"expression": [where]} if where else {})}
            for code, text, where in issues
        ],
    }


def _dicts(value) -> list[dict]:
    """The objects of a JSON array (anything else in a sender's bundle is ignored, never a crash)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _identifier(resource: dict, system: str) -> str:
    for item in _dicts(resource.get("identifier")):
        if item.get("system") == system and item.get("value"):
            return str(item["value"])
    return ""


def _name(resource: dict) -> str:
    for name in _dicts(resource.get("name")):
        if name.get("text"):
            return str(name["text"])[:100]
        given = name.get("given") if isinstance(name.get("given"), list) else []
        parts = [*given, name.get("family") or ""]
        if joined := " ".join(str(p) for p in parts if p):
            return joined
    return ""


def _village(resource: dict) -> str:
    """The dotted desa code from the address's administrativeCode extension (``7322032004`` -> 73.22.03.2004)."""
    for address in _dicts(resource.get("address")):
        for ext in _dicts(address.get("extension")):
            if ext.get("url") != fhir.ADMINISTRATIVE_CODE_URL:
                continue
            for part in _dicts(ext.get("extension")):
                if part.get("url") == "village":
                    code = str(part.get("valueCode") or "")
                    if len(code) == 10 and code.isascii() and code.isdigit():
                        return f"{code[:2]}.{code[2:4]}.{code[4:6]}.{code[6:]}"
                    return "?"  # not a desa code: "Kode desa tidak dikenal"
    return ""


def _phone(resource: dict) -> str:
    for telecom in _dicts(resource.get("telecom")):
        if telecom.get("system") == "phone" and telecom.get("value"):
            return str(telecom["value"])[:20]
    return ""


def _birth_time(patient: dict, birth_date: datetime.date, where: str, issues: list) -> datetime.time | None:
    if "_birthDate" in patient and not isinstance(_dict(patient["_birthDate"]).get("extension"), list):
        issues.append(("structure", _("_birthDate.extension harus daftar ekstensi."), where))
        return None
    for ext in _dicts(_dict(patient.get("_birthDate")).get("extension")):
        if ext.get("url") != fhir.BIRTH_TIME_URL:
            continue
        moment = parse_datetime(str(ext.get("valueDateTime") or ""))
        if moment is None or timezone.is_naive(moment):
            issues.append(("invalid", _("Jam lahir harus tanggal-waktu lengkap dengan zona waktu."), where))
            return None
        local = timezone.localtime(moment)
        if local.date() != birth_date:
            issues.append(
                ("invalid", _("Jam lahir (%(t)s waktu setempat) tidak jatuh pada tanggal lahir.") % {"t": local}, where)
            )
            return None
        return local.time().replace(microsecond=0)
    return None


def _weight_grams(observation: dict, where: str, issues: list) -> int | None:
    codings = _dicts(_dict(observation.get("code")).get("coding"))
    if not any(c.get("system") == fhir.LOINC and c.get("code") == fhir.BIRTH_WEIGHT_CODE for c in codings):
        issues.append(("invalid", _("Observation harus berat lahir (LOINC 8339-4)."), f"{where}.code"))
        return None
    quantity = _dict(observation.get("valueQuantity"))
    unit = quantity.get("code") or quantity.get("unit")
    value = quantity.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or unit not in ("g", "kg") or value != value:
        issues.append(
            ("invalid", _("Berat lahir harus angka dalam gram (g) atau kilogram (kg)."), f"{where}.valueQuantity")
        )
        return None
    return round(value * 1000 if unit == "kg" else value)


def read_bundle(bundle: dict) -> tuple[str, dict, list[BirthEntry]]:
    """The bundle's key, the mother's fields and one entry per baby, or BundleRejected with every problem."""
    issues: list[tuple[str, str, str]] = []
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise BundleRejected([("structure", _("Kirim sebuah Bundle FHIR."), "Bundle")], status=400)
    if "\\u0000" in json.dumps(bundle):
        raise BundleRejected([("invalid", _("Bundle memuat karakter kendali (NUL)."), "Bundle")], status=400)
    if bundle.get("type") != "transaction":
        issues.append(("invalid", _("Bundle harus bertipe transaction."), "Bundle.type"))
    ident = bundle.get("identifier") or {}
    key = f"{ident.get('system') or ''}|{ident.get('value') or ''}" if isinstance(ident, dict) else ""
    if not (isinstance(ident, dict) and ident.get("value")):
        issues.append(
            (
                "required",
                _("Bundle.identifier wajib diisi: kunci agar kiriman ulang tidak dicatat dua kali."),
                "Bundle.identifier",
            )
        )
    entries = bundle.get("entry") if isinstance(bundle.get("entry"), list) else []
    resources = [
        (i, str(_dict(e).get("fullUrl") or ""), _dict(_dict(e).get("resource"))) for i, e in enumerate(entries)
    ]
    issues += [
        ("structure", _("Setiap entry harus objek dengan resource."), f"Bundle.entry[{i}]")
        for i, e in enumerate(entries)
        if not isinstance(e, dict) or not isinstance(e.get("resource"), dict)
    ]
    mothers = [
        (i, r)
        for i, url, r in resources
        if r.get("resourceType") == "RelatedPerson"
        or (
            r.get("resourceType") == "Patient"
            and _identifier(r, fhir.NIK_SYSTEM)
            and not _identifier(r, fhir.NIK_IBU_SYSTEM)
        )
    ]
    babies = [
        (i, url, r)
        for i, url, r in resources
        if r.get("resourceType") == "Patient" and _identifier(r, fhir.NIK_IBU_SYSTEM)
    ]
    weights = [(i, r) for i, url, r in resources if r.get("resourceType") == "Observation"]
    if len(mothers) != 1:
        issues.append(
            (
                "required",
                _("Bundle harus memuat tepat satu ibu (RelatedPerson atau Patient dengan NIK)."),
                "Bundle.entry",
            )
        )
    if not babies:
        issues.append(("required", _("Bundle harus memuat Patient bayi dengan identifier nik-ibu."), "Bundle.entry"))
    if len(babies) > MAX_BABIES:
        issues.append(("too-costly", _("Paling banyak %(n)s bayi per Bundle.") % {"n": MAX_BABIES}, "Bundle.entry"))
    if issues:
        raise BundleRejected(issues)

    mother_index, mother = mothers[0]
    where = f"Bundle.entry[{mother_index}].resource"
    mother_nik = _identifier(mother, fhir.NIK_SYSTEM)
    mother_fields = {
        "mother_nik": mother_nik,
        "mother_name": _name(mother),
        "kk_number": _identifier(mother, fhir.KK_SYSTEM),
        "phone": _phone(mother),
    }
    if not mother_nik:
        issues.append(
            ("required", _("NIK ibu wajib (identifier https://fhir.kemkes.go.id/id/nik)."), f"{where}.identifier")
        )
    if not mother_fields["mother_name"]:
        issues.append(("required", _("Nama ibu wajib diisi."), f"{where}.name"))
    if mother.get("resourceType") == "RelatedPerson":
        codes = {c.get("code") for rel in _dicts(mother.get("relationship")) for c in _dicts(rel.get("coding"))}
        if MOTHER_RELATIONSHIP not in codes:
            issues.append(("invalid", _("RelatedPerson harus ibu (relationship MTH)."), f"{where}.relationship"))

    births = []
    for index, url, patient in babies:
        where = f"Bundle.entry[{index}].resource"
        fields: dict = {}
        if mother_nik and _identifier(patient, fhir.NIK_IBU_SYSTEM) != mother_nik:
            issues.append(("invalid", _("nik-ibu bayi tidak sama dengan NIK ibu di Bundle."), f"{where}.identifier"))
        gender = {"female": Sex.PEREMPUAN, "male": Sex.LAKI_LAKI}.get(patient.get("gender"))
        if gender is None:
            issues.append(("invalid", _("Jenis kelamin bayi harus male atau female."), f"{where}.gender"))
        fields["sex"] = gender
        try:
            born = parse_date(str(patient.get("birthDate") or ""))
        except ValueError:
            born = None
        if born is None:
            issues.append(("invalid", _("Tanggal lahir bayi wajib, format YYYY-MM-DD."), f"{where}.birthDate"))
        fields["birth_date"] = born
        if born:
            fields["birth_time"] = _birth_time(patient, born, f"{where}.birthDate.extension", issues)
        order = patient.get("multipleBirthInteger")
        if not isinstance(order, int) or isinstance(order, bool) or not 0 <= order <= MAX_BABIES:
            issues.append(
                (
                    "required",
                    _("multipleBirthInteger wajib: 0 untuk kelahiran tunggal, 1-9 untuk urutan kembar."),
                    f"{where}.multipleBirthInteger",
                )
            )
            order = 0
        fields["birth_order"] = max(order, 1)
        fields["desa_code"] = _village(patient) or _village(mother)
        if not fields["desa_code"]:
            issues.append(
                ("required", _("Alamat bayi wajib memuat kode desa (administrativeCode village)."), f"{where}.address")
            )
        references = {url, f"Patient/{patient.get('id')}" if patient.get("id") else None} - {"", None}
        mine = [(i, o) for i, o in weights if _dict(o.get("subject")).get("reference") in references]
        if len(mine) != 1:
            issues.append(
                ("required", _("Setiap bayi butuh tepat satu Observation berat lahir yang merujuk Patient-nya."), where)
            )
            births.append(BirthEntry(index, None, fields))
            continue
        obs_index, observation = mine[0]
        fields["weight_grams"] = _weight_grams(observation, f"Bundle.entry[{obs_index}].resource", issues)
        births.append(BirthEntry(index, obs_index, fields))
    if issues:
        raise BundleRejected(issues)
    return key, mother_fields, births


def _checked(mother: dict, births: list[BirthEntry]) -> None:
    """The same number, date and weight checks as the form and the API (newborns.validators)."""
    issues = []
    checks = [("mother_nik", validators.validate_mother_nik, "Bundle.entry (ibu).identifier")]
    for name, check, where in checks:
        try:
            mother[name] = check(mother[name])
        except ValidationError as exc:
            issues += [("invalid", m, where) for m in exc.messages]
    if mother["kk_number"]:
        try:
            mother["kk_number"] = validators.validate_kk_number(mother["kk_number"])
        except ValidationError as exc:
            issues += [("invalid", m, "Bundle.entry (ibu).identifier") for m in exc.messages]
    for birth in births:
        where = f"Bundle.entry[{birth.patient_index}].resource"
        for name, check in (
            ("birth_date", validators.validate_birth_date),
            ("weight_grams", validators.validate_weight),
        ):
            try:
                check(birth.fields[name])
            except ValidationError as exc:
                issues += [("invalid", m, f"{where}.{name}") for m in exc.messages]
        desa = Region.objects.filter(code=birth.fields.pop("desa_code")).first()
        if desa is None or len(desa.code) != 13:
            issues.append(("invalid", _("Kode desa tidak dikenal."), f"{where}.address"))
        birth.fields["desa"] = desa
    if issues:
        raise BundleRejected(issues)


def submission_key(by: User, bundle_key: str, patient_index: int) -> uuid.UUID:
    return uuid.uuid5(BUNDLE_NAMESPACE, f"{by.pk}|{bundle_key}|{patient_index}")


@transaction.atomic
def receive_birth_bundle(*, by: User, bundle: dict) -> BundleResult:
    """Register every baby of a facility system's bundle at its facility, all or none; a repeated bundle
    (same identifier from the same system) answers the babies the first one registered."""
    if not by.facility_id:
        raise BundleRejected(
            [
                (
                    "security",
                    _("Kredensial ini tidak terikat pada satu fasilitas; kirim dengan akun sistem fasilitas."),
                    "",
                )
            ],
            status=403,
        )
    bundle_key, mother, births = read_bundle(bundle)
    keys = [submission_key(by, bundle_key, b.patient_index) for b in births]
    earlier = list(Newborn.objects.filter(submission_key__in=keys).order_by("birth_order", "pk"))
    if earlier:
        return BundleResult(earlier, earlier[0].mother_id, created=False)
    _checked(mother, births)
    registered = []
    for birth, key in zip(births, keys, strict=True):
        try:
            registration = services.register_birth(
                by=by, facility=by.facility, submission_key=key, **mother, **birth.fields
            )
        except services.DuplicateBirth as exc:
            text = str(exc) if visible_duplicate(exc.existing, by) else str(DUPLICATE_ELSEWHERE)
            raise BundleRejected(
                [("duplicate", text, f"Bundle.entry[{birth.patient_index}].resource")], status=409
            ) from None
        except ValidationError as exc:
            where = f"Bundle.entry[{birth.patient_index}].resource"
            raise BundleRejected([("business-rule", m, where) for m in exc.messages]) from None
        registered.append(registration.newborn)
    fresh = Newborn.objects.filter(pk__in=[b.pk for b in registered]).order_by("birth_order", "pk")
    return BundleResult(list(fresh), registered[0].mother_id, created=True)


def transaction_response(result: BundleResult) -> dict:
    """The ids of what the bundle created (or had created, on a repeat): Patient, RelatedPerson, Observation."""
    status = "201 Created" if result.created else "200 OK"
    entries = []
    for baby in result.newborns:
        entries.append({"response": {"status": status, "location": f"Patient/{baby.pk}"}})
    entries.append({"response": {"status": status, "location": f"RelatedPerson/{result.mother_id}"}})
    for baby in result.newborns:
        entries.append({"response": {"status": status, "location": f"Observation/berat-lahir-{baby.pk}"}})
    return {"resourceType": "Bundle", "type": "transaction-response", "entry": entries}
