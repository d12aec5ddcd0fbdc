"""The rules of a birth record: registering it once, and following its documents to a NIK."""

import datetime
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from newborns import validators
from newborns.events import announce_birth_changed
from newborns.models import Mother, Newborn
from newborns.naming import normalize_name, temporary_name
from sejagad.models import Facility, Region, User
from sejagad.roles import Role


class DuplicateBirth(Exception):
    """The same mother, birth date and birth order is already recorded."""

    def __init__(self, existing: Newborn):
        self.existing = existing
        super().__init__(
            _("Kelahiran ini sudah tercatat: %(name)s, lahir %(date)s, urutan %(order)s.")
            % {
                "name": existing.temporary_name,
                "date": existing.birth_date.strftime("%d-%m-%Y"),
                "order": existing.birth_order,
            }
        )


@dataclass(frozen=True)
class BirthRegistration:
    newborn: Newborn
    created: bool


def _refresh_temporary_names(mother: Mother, birth_date: datetime.date) -> None:
    """Give every baby of one delivery its name; twins and triplets get I, II, III."""
    babies = list(Newborn.objects.filter(mother=mother, birth_date=birth_date))
    multiple = len(babies) > 1
    for baby in babies:
        name = temporary_name(mother.name, birth_order=baby.birth_order, multiple=multiple)
        if baby.temporary_name != name:
            baby.temporary_name = name
            baby.save(update_fields=["temporary_name", "updated_at"])


@transaction.atomic
def register_birth(
    *,
    by: User,
    mother_nik: str,
    mother_name: str,
    desa: Region,
    birth_date: datetime.date,
    sex: str,
    weight_grams: int,
    birth_order: int = 1,
    kk_number: str = "",
    phone: str = "",
    mother_jkn_number: str = "",
    mother_jkn_segment: str = "",
    birth_time: datetime.time | None = None,
    length_cm=None,
    facility: Facility | None = None,
    attending_midwife: User | None = None,
    submission_key: uuid.UUID | None = None,
) -> BirthRegistration:
    """A birth is recorded once per mother, date and birth order (a database constraint, so two
    simultaneous sends cannot both land); a resent form with the same submission key returns the first."""
    if submission_key and (earlier := Newborn.objects.filter(submission_key=submission_key).first()):
        return BirthRegistration(earlier, created=False)

    if by.role != Role.BIDAN and by.region_id and not by.region.contains(desa):
        raise ValidationError({"desa": _("Desa ini di luar wilayah kerja Anda.")})
    # A later birth may omit what the first one recorded; only what is given overwrites.
    given = {"kk_number": kk_number, "phone": phone, "jkn_number": mother_jkn_number, "jkn_segment": mother_jkn_segment}
    mother, _created = Mother.objects.update_or_create(
        nik=mother_nik,
        defaults={"name": normalize_name(mother_name), "desa": desa} | {k: v for k, v in given.items() if v},
    )
    if existing := Newborn.objects.filter(mother=mother, birth_date=birth_date, birth_order=birth_order).first():
        raise DuplicateBirth(existing)

    newborn = Newborn(
        mother=mother,
        birth_date=birth_date,
        birth_time=birth_time,
        sex=sex,
        birth_order=birth_order,
        weight_grams=weight_grams,
        length_cm=length_cm,
        desa=desa,
        facility=facility,
        attending_midwife=attending_midwife,
        created_by=by,
        submission_key=submission_key or uuid.uuid4(),
        temporary_name=temporary_name(mother.name, birth_order=birth_order),
    )
    newborn._history_user = by
    try:
        with transaction.atomic():
            newborn.save()
    except IntegrityError:
        # Another request got there first, between our check and our insert.
        if earlier := Newborn.objects.filter(submission_key=newborn.submission_key).first():
            return BirthRegistration(earlier, created=False)
        raise DuplicateBirth(
            Newborn.objects.get(mother=mother, birth_date=birth_date, birth_order=birth_order)
        ) from None
    _refresh_temporary_names(mother, birth_date)
    newborn.refresh_from_db(fields=["temporary_name"])
    announce_birth_changed(newborn.pk)
    return BirthRegistration(newborn, created=True)


EDITABLE_FIELDS = ("given_name", "birth_time", "weight_grams", "length_cm", "sex", "facility", "attending_midwife")


@transaction.atomic
def update_newborn(*, newborn: Newborn, by: User, **changes) -> Newborn:
    """Correct the birth details a midwife may edit; the history keeps who changed what."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"fields not editable here: {sorted(unknown)}")
    changed = [f for f, v in changes.items() if getattr(newborn, f) != v]
    if not changed:
        return newborn
    for field in changed:
        setattr(newborn, field, changes[field])
    if "weight_grams" in changed:
        validators.validate_weight(newborn.weight_grams)
    if "sex" in changed and newborn.nik:
        validators.validate_baby_nik(newborn.nik, birth_date=newborn.birth_date, sex=newborn.sex, confirmed=True)
    newborn._history_user = by
    newborn.save(update_fields=[*changed, "updated_at"])
    announce_birth_changed(newborn.pk)
    return newborn


def _check_document_date(value: datetime.date | None, newborn: Newborn, field: str) -> None:
    if value is None:
        return
    if value < newborn.birth_date:
        raise ValidationError({field: _("Tanggal tidak boleh sebelum tanggal lahir bayi.")})
    if value > timezone.localdate():
        raise ValidationError({field: _("Tanggal tidak boleh di masa depan.")})


@transaction.atomic
def record_documents(
    *,
    newborn: Newborn,
    by: User,
    kk_added_on: datetime.date | None = None,
    akta_number: str | None = None,
    akta_issued_on: datetime.date | None = None,
    nik: str | None = None,
    nik_issued_on: datetime.date | None = None,
    confirmed: bool = False,
) -> Newborn:
    """Record what Dukcapil has done for a baby: KK, akta, NIK, each with its date and who recorded it.
    A NIK must encode the baby's own birth date and sex, and belongs to one baby only."""
    newborn = Newborn.objects.select_for_update().get(pk=newborn.pk)
    changed: list[str] = []

    def put(field: str, value, by_field: str | None = None):
        if getattr(newborn, field) != value:
            setattr(newborn, field, value)
            changed.append(field)
            if by_field and by_field not in changed:
                setattr(newborn, by_field, by)
                changed.append(by_field)

    for field, value in (
        ("kk_added_on", kk_added_on),
        ("akta_issued_on", akta_issued_on),
        ("nik_issued_on", nik_issued_on),
    ):
        _check_document_date(value, newborn, field)
    if nik:
        try:
            nik = validators.validate_baby_nik(nik, birth_date=newborn.birth_date, sex=newborn.sex, confirmed=confirmed)
        except ValidationError as exc:
            raise ValidationError({"nik": exc.error_list}) from None
        if Newborn.objects.filter(nik=nik).exclude(pk=newborn.pk).exists():
            raise ValidationError({"nik": _("NIK ini sudah tercatat untuk bayi lain.")})
        if not nik_issued_on:
            raise ValidationError({"nik_issued_on": _("Isi tanggal NIK terbit.")})
    elif nik_issued_on:
        raise ValidationError({"nik": _("Isi NIK bayi yang terbit pada tanggal tersebut.")})
    if akta_issued_on and not akta_number:
        raise ValidationError({"akta_number": _("Isi nomor akta kelahiran.")})

    put("kk_added_on", kk_added_on, "kk_added_by")
    if akta_number is not None:
        put("akta_number", akta_number.strip(), "akta_by")
    put("akta_issued_on", akta_issued_on, "akta_by")
    put("nik", nik or None, "nik_by")
    put("nik_issued_on", nik_issued_on, "nik_by")
    if changed:
        newborn._history_user = by
        newborn.save(update_fields=[*changed, "updated_at"])
        announce_birth_changed(newborn.pk)
    return newborn
