"""The rules of a birth record: registering it once, and following its documents to a NIK."""

import datetime
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from newborns import validators
from newborns.events import announce_birth_changed
from newborns.models import Mother, Newborn, StopSource
from newborns.naming import normalize_name, temporary_name
from newborns.privacy import mask_name
from sejagad.models import Facility, Region, User
from sejagad.roles import Capability, Role, bound_to_facility, can
from sejagad.selectors import work_area

MOTHER_NAME_DIFFERS = "mother_name_differs"


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
    babies = list(Newborn.objects.live().filter(mother=mother, birth_date=birth_date))
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
    confirmed: bool = False,
    confirm_mother_name: bool = False,
    reminder_consent: bool = False,
) -> BirthRegistration:
    """A birth is recorded once per mother, date and birth order (a database constraint, so two
    simultaneous sends cannot both land); a resent form with the same submission key returns the first."""
    if submission_key and (earlier := Newborn.objects.filter(submission_key=submission_key).first()):
        return BirthRegistration(earlier, created=False)

    _check_desa(by, desa)
    _check_facility(by, facility)
    _check_mother_age(mother_nik, birth_date, confirmed)
    phone = _checked_phone(phone)
    # A later birth may omit what the first one recorded; only what is given overwrites.
    given = {"kk_number": kk_number, "phone": phone, "jkn_number": mother_jkn_number, "jkn_segment": mother_jkn_segment}
    if reminder_consent:
        if not phone:
            raise ValidationError({"phone": _("Isi nomor HP keluarga agar pengingat dapat dikirim.")})
        given |= _consent_fields(by)
    mother = _mother_for_birth(
        by=by,
        nik=mother_nik,
        name=mother_name,
        updates={"desa": desa} | {k: v for k, v in given.items() if v},
        confirm_name=confirm_mother_name,
    )
    if existing := Newborn.objects.live().filter(mother=mother, birth_date=birth_date, birth_order=birth_order).first():
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
            Newborn.objects.live().get(mother=mother, birth_date=birth_date, birth_order=birth_order)
        ) from None
    _refresh_temporary_names(mother, birth_date)
    newborn.refresh_from_db(fields=["temporary_name"])
    announce_birth_changed(newborn.pk)
    return BirthRegistration(newborn, created=True)


def _checked_phone(phone: str) -> str:
    try:
        return validators.normalize_phone(phone)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.error_list}) from None


def _consent_fields(by: User) -> dict:
    """The mother's consent to reminders, with who recorded it and when; a consent given again lifts a stop."""
    return {
        "reminder_consent_at": timezone.now(),
        "reminder_consent_by": by,
        "reminders_stopped_at": None,
        "reminders_stopped_by": None,
        "reminders_stop_source": "",
    }


def _check_desa(by: User, desa: Region) -> None:
    if not work_area(by).filter(pk=desa.pk).exists():
        raise ValidationError({"desa": _("Desa ini di luar wilayah kerja Anda.")})


def _check_facility(by: User, facility: Facility | None) -> None:
    if facility is None:
        return
    if bound_to_facility(by) and facility.pk != by.facility_id:
        raise ValidationError(
            {
                "facility": _("Bidan hanya dapat mencatat kelahiran di fasilitasnya sendiri (%(name)s).")
                % {"name": by.facility}
            }
        )
    if not work_area(by).filter(pk=facility.region_id).exists():
        raise ValidationError({"facility": _("Fasilitas ini di luar wilayah kerja Anda.")})


def _check_mother_age(mother_nik: str, birth_date: datetime.date, confirmed: bool) -> None:
    try:
        validators.validate_mother_age(mother_nik, birth_date=birth_date, confirmed=confirmed)
    except ValidationError as exc:
        raise ValidationError({"mother_nik": exc.error_list}) from None


def mother_in_scope(user: User, mother: Mother) -> bool:
    """A user may change a mother's details only when one of her babies is in the user's scope (or she has
    none left)."""
    babies = Newborn.objects.filter(mother=mother)
    return babies.within_reach_of(user).exists() or not babies.exists()


def _mother_for_birth(*, by: User, nik: str, name: str, updates: dict, confirm_name: bool, reason: str = "") -> Mother:
    """The one mother with this NIK. A known NIK under another name is applied only on confirmation and only
    in the user's scope; outside it her record is linked and left as it is."""
    name = normalize_name(name)
    mother = Mother.objects.select_for_update().filter(nik=nik).first()
    if mother is None:
        mother = Mother(nik=nik, name=name, **updates)
        mother._history_user = by
        mother.full_clean(validate_unique=False)
        try:
            with transaction.atomic():
                mother.save()
            return mother
        except IntegrityError:
            # Another request recorded her first, between our look-up and our insert.
            mother = Mother.objects.select_for_update().get(nik=nik)
    in_scope = mother_in_scope(by, mother)
    if name != mother.name:
        shown = mother.name if in_scope else mask_name(mother.name)
        if not in_scope:
            raise ValidationError(
                {
                    "mother_name": ValidationError(
                        _(
                            "NIK ibu ini sudah tercatat atas nama %(name)s, di luar wilayah atau fasilitas Anda. "
                            "Periksa NIK dan nama ibu; bila nama di KTP memang berbeda, hubungi Dinkes."
                        )
                        % {"name": shown},
                        code="mother_out_of_scope",
                    )
                }
            )
        if not confirm_name:
            raise ValidationError(
                {
                    "mother_name": ValidationError(
                        _(
                            "NIK ibu ini sudah tercatat atas nama %(name)s. Bila nama ibu memang %(new)s (salah "
                            "tulis sebelumnya atau berganti nama), centang konfirmasi nama lalu simpan; nama akan "
                            "diubah untuk semua bayinya."
                        )
                        % {"name": shown, "new": name},
                        code=MOTHER_NAME_DIFFERS,
                    )
                }
            )
    if not in_scope:
        return mother
    changed = [f for f, v in ({"name": name} | updates).items() if getattr(mother, f) != v]
    if changed:
        for field in changed:
            setattr(mother, field, ({"name": name} | updates)[field])
        mother._history_user = by
        mother._change_reason = reason or _("Dikonfirmasi saat mencatat kelahiran")
        mother.save(update_fields=[*changed, "updated_at"])
        if "name" in changed:
            for birth_date in mother.babies.live().values_list("birth_date", flat=True).distinct():
                _refresh_temporary_names(mother, birth_date)
    return mother


def can_correct(user: User, newborn: Newborn) -> bool:
    """Dinkes staff correct any baby in their scope at any time; a bidan a birth at her facility (or one she
    attended) for BIRTH_CORRECTION_DAYS after it was recorded."""
    if can(user, Capability.CORRECT_BIRTHS):
        return True
    if not bound_to_facility(user) or not can(user, Capability.REGISTER_BIRTHS):
        return False
    hers = newborn.attending_midwife_id == user.pk or (user.facility_id and newborn.facility_id == user.facility_id)
    return bool(hers) and timezone.now() - newborn.created_at <= datetime.timedelta(days=settings.BIRTH_CORRECTION_DAYS)


def correction_closed_message() -> str:
    return _(
        "Bidan dapat memperbaiki data kelahiran sampai %(days)s hari setelah dicatat; setelah itu hubungi Dinkes."
    ) % {"days": settings.BIRTH_CORRECTION_DAYS}


# What a correction may change; each needs a reason. Details (name given later, measures) need none.
CORRECTABLE_FIELDS = ("sex", "birth_date", "birth_time", "birth_order", "desa", "facility", "mother_nik", "mother_name")
DETAIL_FIELDS = ("given_name", "weight_grams", "length_cm", "attending_midwife")


@transaction.atomic
def correct_birth(
    *,
    newborn: Newborn,
    by: User,
    reason: str = "",
    confirmed: bool = False,
    confirm_mother_name: bool = False,
    **changes,
) -> Newborn:
    """Correct a birth record with a reason, through the same checks as registering it; the temporary names
    (twins included), deadlines and levels follow at once."""
    unknown = set(changes) - set(CORRECTABLE_FIELDS + DETAIL_FIELDS)
    if unknown:
        raise ValueError(f"fields not correctable: {sorted(unknown)}")
    newborn = Newborn.objects.select_for_update().select_related("mother").get(pk=newborn.pk)
    if newborn.is_voided:
        raise ValidationError(_("Data ini sudah dibatalkan; pulihkan dulu sebelum memperbaikinya."))
    if not can_correct(by, newborn):
        raise ValidationError(correction_closed_message())
    old_mother, old_date = newborn.mother, newborn.birth_date
    mother_nik = changes.pop("mother_nik", None) or old_mother.nik
    mother_name = normalize_name(changes.pop("mother_name", None) or old_mother.name)
    changed = [f for f, v in changes.items() if getattr(newborn, f) != v]
    mother_changed = mother_nik != old_mother.nik or mother_name != old_mother.name
    if not changed and not mother_changed:
        return newborn
    reason = (reason or "").strip()
    if (mother_changed or set(changed) & set(CORRECTABLE_FIELDS)) and not reason:
        raise ValidationError({"reason": _("Tulis alasan perbaikan, mis. salah input saat mencatat.")})
    for field in changed:
        setattr(newborn, field, changes[field])

    if "birth_date" in changed:
        _field_check("birth_date", validators.validate_birth_date, newborn.birth_date)
    if "weight_grams" in changed:
        _field_check("weight_grams", validators.validate_weight, newborn.weight_grams)
    if not 1 <= newborn.birth_order <= 9:
        raise ValidationError({"birth_order": _("Urutan kelahiran 1 sampai 9.")})
    if "desa" in changed:
        _check_desa(by, newborn.desa)
    if "facility" in changed:
        _check_facility(by, newborn.facility)
    if "attending_midwife" in changed and newborn.attending_midwife:
        _check_midwife(by, newborn.attending_midwife)
    if newborn.nik and {"sex", "birth_date"} & set(changed):
        try:
            validators.validate_baby_nik(newborn.nik, birth_date=newborn.birth_date, sex=newborn.sex, confirmed=True)
        except ValidationError as exc:
            field = "sex" if "sex" in changed else "birth_date"
            raise ValidationError({field: exc.messages}) from None
    if mother_changed or "birth_date" in changed:
        _check_mother_age(mother_nik, newborn.birth_date, confirmed)

    if mother_changed:
        newborn.mother = _corrected_mother(
            by=by, newborn=newborn, nik=mother_nik, name=mother_name, confirm_name=confirm_mother_name, reason=reason
        )
        if newborn.mother.pk != old_mother.pk:
            changed.append("mother")
    if (
        Newborn.objects.live()
        .filter(mother=newborn.mother, birth_date=newborn.birth_date, birth_order=newborn.birth_order)
        .exclude(pk=newborn.pk)
        .exists()
    ):
        raise ValidationError(
            {
                "birth_order": _(
                    "Ibu ini sudah punya kelahiran lain pada tanggal dan urutan tersebut; periksa urutan kembar."
                )
            }
        )
    if changed:
        newborn._history_user = by
        newborn._change_reason = reason
        newborn.save(update_fields=[*changed, "updated_at"])
    for mother, birth_date in {(old_mother, old_date), (newborn.mother, newborn.birth_date)}:
        _refresh_temporary_names(mother, birth_date)
    newborn.refresh_from_db()
    announce_birth_changed(newborn.pk)
    return newborn


def _field_check(field: str, check, value) -> None:
    try:
        check(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None


def _check_midwife(by: User, midwife: User) -> None:
    same_place = midwife.facility_id == by.facility_id if by.role == Role.BIDAN else True
    in_area = midwife.facility_id and work_area(by).filter(pk=midwife.facility.region_id).exists()
    if midwife.role != Role.BIDAN or not midwife.is_active or not same_place or not in_area:
        raise ValidationError({"attending_midwife": _("Pilih bidan aktif di fasilitas dalam wilayah kerja Anda.")})


def _corrected_mother(*, by: User, newborn: Newborn, nik: str, name: str, confirm_name: bool, reason: str) -> Mother:
    """A corrected NIK that belongs to nobody fixes the mother's own record when this baby is her only one;
    otherwise the baby moves to the mother who holds the NIK (or to a new record)."""
    mother = newborn.mother
    try:
        nik = validators.validate_mother_nik(nik, confirmed=True)
    except ValidationError as exc:
        raise ValidationError({"mother_nik": exc.messages}) from None
    if nik == mother.nik:
        # Correcting her name is itself the confirmation.
        return _mother_for_birth(by=by, nik=nik, name=name, updates={}, confirm_name=True, reason=reason)
    if Mother.objects.filter(nik=nik).exists():
        return _mother_for_birth(by=by, nik=nik, name=name, updates={}, confirm_name=confirm_name, reason=reason)
    if not mother.babies.exclude(pk=newborn.pk).exists():
        mother = Mother.objects.select_for_update().get(pk=mother.pk)
        mother.nik, mother.name = nik, name
        mother._history_user, mother._change_reason = by, reason
        mother.save(update_fields=["nik", "name", "updated_at"])
        return mother
    updates = {"desa": newborn.desa, "kk_number": mother.kk_number, "phone": mother.phone}
    return _mother_for_birth(by=by, nik=nik, name=name, updates=updates, confirm_name=confirm_name, reason=reason)


@transaction.atomic
def void_birth(*, newborn: Newborn, by: User, reason: str) -> Newborn:
    """A mistaken record leaves every list, count, export and job; it keeps its history and can be restored."""
    if not can(by, Capability.CORRECT_BIRTHS):
        raise ValidationError(_("Hanya Staf atau Admin Dinkes yang dapat membatalkan data kelahiran."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Tulis alasan pembatalan, mis. data uji atau tercatat dua kali.")})
    newborn = Newborn.objects.select_for_update().get(pk=newborn.pk)
    if newborn.is_voided:
        raise ValidationError(_("Data ini sudah dibatalkan."))
    return _set_voided(newborn, by=by, reason=reason.strip(), voided=True)


@transaction.atomic
def restore_birth(*, newborn: Newborn, by: User, reason: str) -> Newborn:
    """A voided record comes back, unless a live record now holds its birth or its NIK."""
    if not can(by, Capability.CORRECT_BIRTHS):
        raise ValidationError(_("Hanya Staf atau Admin Dinkes yang dapat memulihkan data kelahiran."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Tulis alasan pemulihan.")})
    newborn = Newborn.objects.select_for_update().get(pk=newborn.pk)
    if not newborn.is_voided:
        return newborn
    live = Newborn.objects.live().exclude(pk=newborn.pk)
    if live.filter(mother=newborn.mother, birth_date=newborn.birth_date, birth_order=newborn.birth_order).exists():
        raise ValidationError(
            _("Kelahiran yang sama sudah tercatat pada data lain yang aktif; data ini tidak dipulihkan.")
        )
    if newborn.nik and live.filter(nik=newborn.nik).exists():
        raise ValidationError(_("NIK bayi ini sudah tercatat pada bayi lain yang aktif; data ini tidak dipulihkan."))
    return _set_voided(newborn, by=by, reason=reason.strip(), voided=False)


def _set_voided(newborn: Newborn, *, by: User, reason: str, voided: bool) -> Newborn:
    """Void or restore, with the reason in the history; twins' names and the membership follow."""
    newborn.voided_at, newborn.voided_by, newborn.void_reason = (
        (timezone.now(), by, reason) if voided else (None, None, "")
    )
    newborn._history_user, newborn._change_reason = by, reason
    newborn.save(update_fields=["voided_at", "voided_by", "void_reason", "updated_at"])
    _refresh_temporary_names(newborn.mother, newborn.birth_date)
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
        if Newborn.objects.live().filter(nik=nik).exclude(pk=newborn.pk).exists():
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


@transaction.atomic
def set_reminder_contact(*, newborn: Newborn, by: User, phone: str, consent: bool) -> Mother:
    """The family's number and the mother's consent, changed from the baby's page or the API: the number is
    normalised as at registration; giving consent records who and when, withdrawing it stops the reminders."""
    if not (can(by, Capability.REGISTER_BIRTHS) or can(by, Capability.CORRECT_BIRTHS)):
        raise ValidationError(_("Anda tidak dapat mengubah nomor HP atau persetujuan pengingat."))
    if not Newborn.objects.within_reach_of(by).filter(pk=newborn.pk).exists():
        raise ValidationError(_("Bayi ini di luar wilayah atau fasilitas Anda."))
    mother = Mother.objects.select_for_update().get(pk=newborn.mother_id)
    phone = _checked_phone(phone)
    if consent and not phone:
        raise ValidationError({"phone": _("Isi nomor HP keluarga agar pengingat dapat dikirim.")})
    updates: dict = {"phone": phone}
    if consent and not mother.can_be_reminded:
        updates |= _consent_fields(by)
    elif not consent and mother.reminder_consent_at and not mother.reminders_stopped_at:
        updates |= _stop_fields(by, StopSource.STAFF)
    changed = [field for field, value in updates.items() if getattr(mother, field) != value]
    if changed:
        for field in changed:
            setattr(mother, field, updates[field])
        mother._history_user = by
        mother._change_reason = _("Nomor HP atau persetujuan pengingat diubah")
        mother.save(update_fields=[*changed, "updated_at"])
    return mother


STOP_FIELDS = ("reminders_stopped_at", "reminders_stopped_by", "reminders_stop_source")


def _stop_fields(by: User | None, source: str) -> dict:
    return {"reminders_stopped_at": timezone.now(), "reminders_stopped_by": by, "reminders_stop_source": source}


@transaction.atomic
def stop_reminders(*, newborn: Newborn, by: User) -> Mother:
    """Staff on the baby's page stop the family's reminders (the family asked in person)."""
    mother = Mother.objects.select_for_update().get(pk=newborn.mother_id)
    if mother.reminders_stopped_at:
        return mother
    for field, value in _stop_fields(by, StopSource.STAFF).items():
        setattr(mother, field, value)
    mother._history_user = by
    mother._change_reason = _("Pengingat dihentikan oleh petugas")
    mother.save(update_fields=[*STOP_FIELDS, "updated_at"])
    return mother


@transaction.atomic
def stop_reminders_for_phone(phone: str) -> int:
    """A STOP reply from a number stops the reminders of every mother with that number; returns how many."""
    try:
        phone = validators.normalize_phone(phone)
    except ValidationError:
        return 0
    if not phone:
        return 0
    mothers = list(Mother.objects.select_for_update().filter(phone=phone, reminders_stopped_at__isnull=True))
    for mother in mothers:  # a number is one family: one or two mothers, not a table
        for field, value in _stop_fields(None, StopSource.REPLY).items():
            setattr(mother, field, value)
        mother._change_reason = _("Keluarga membalas STOP")
        mother.save(update_fields=[*STOP_FIELDS, "updated_at"])
    return len(mothers)
