"""Checks of the numbers a birth carries, shared by forms, the API and imports.

Every message is Indonesian and names what is wrong. A NIK or KK whose kecamatan code is missing from
today's Kemendagri list is a *warning* (code ``unknown_kecamatan``) that the user may confirm: a number
keeps the code of the kecamatan that first issued it, even after that kecamatan is split or renumbered.
"""

import datetime
import re

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.exceptions import InvalidComponent
from stdnum.id import nik as stdnum_nik

from sejagad import text
from sejagad.wilayah import kecamatan_codes

UNKNOWN_KECAMATAN = "unknown_kecamatan"
UNUSUAL_MOTHER_AGE = "unusual_mother_age"
# Warnings a user may confirm (the form's "Saya sudah memeriksa" box, the API's confirm_warnings).
CONFIRMABLE = {UNKNOWN_KECAMATAN, UNUSUAL_MOTHER_AGE}
MIN_MOTHER_AGE, USUAL_MOTHER_AGES = 10, (15, 55)
MIN_WEIGHT_GRAMS, MAX_WEIGHT_GRAMS = 300, 7000


def _digits(value: str, length: int, label: str) -> str:
    # Full-width or Arabic-Indic digits become ASCII first: the number stored, compared and checked is one
    # string. Anything else (a letter, a superscript "²", NUL) is refused here.
    number = text.clean_number(value)
    if not text.is_ascii_number(number):
        raise ValidationError(_("%(label)s hanya boleh berisi angka.") % {"label": label}, code="format")
    if len(number) != length:
        raise ValidationError(
            _("%(label)s harus %(length)s digit (tertulis %(n)s digit).")
            % {"label": label, "length": length, "n": len(number)},
            code="length",
        )
    return number


def _check_kecamatan(number: str, label: str, confirmed: bool) -> None:
    if number[:6] not in kecamatan_codes() and not confirmed:
        raise ValidationError(
            _(
                "Kode kecamatan %(code)s pada %(label)s tidak ada dalam daftar Kemendagri saat ini. Periksa kembali; "
                "bila nomor ini memang tertulis di dokumen (kecamatan lama yang dimekarkan atau berganti kode), "
                "centang konfirmasi lalu simpan."
            )
            % {"code": number[:6], "label": label},
            code=UNKNOWN_KECAMATAN,
        )


def nik_birth_date(number: str, reference: datetime.date | None = None) -> datetime.date:
    """The date a NIK encodes, in the century that puts it on or before ``reference``."""
    reference = reference or timezone.localdate()
    day, month, year = int(number[6:8]) % 40, int(number[8:10]), int(number[10:12])
    century = reference.year // 100 * 100
    try:
        born = datetime.date(century + year, month, day)
        return born if born <= reference else datetime.date(century - 100 + year, month, day)
    except ValueError as exc:
        raise InvalidComponent() from exc


def nik_is_female(number: str) -> bool:
    return int(number[6:8]) > 40


def validate_nik(value: str, *, confirmed: bool = False) -> str:
    """A well-formed NIK (16 digits, a real date, a known province and kabupaten); returns it compacted."""
    number = _digits(value, 16, "NIK")
    day = int(number[6:8])
    if not (1 <= day <= 31 or 41 <= day <= 71):
        raise ValidationError(
            _("Tanggal lahir pada NIK tidak mungkin: digit 7-8 harus 01-31 (laki-laki) atau 41-71 (perempuan)."),
            code="date",
        )
    try:
        nik_birth_date(number)
    except InvalidComponent:
        raise ValidationError(_("Tanggal lahir pada NIK (digit 7-12) bukan tanggal yang ada."), code="date") from None
    try:
        stdnum_nik.validate(number)
    except InvalidComponent:
        raise ValidationError(
            _("Kode provinsi/kabupaten %(code)s pada NIK tidak dikenal.") % {"code": number[:4]}, code="region"
        ) from None
    _check_kecamatan(number, "NIK", confirmed)
    return number


def validate_mother_nik(value: str, *, confirmed: bool = False) -> str:
    number = validate_nik(value, confirmed=confirmed)
    if not nik_is_female(number):
        raise ValidationError(
            _("NIK ibu harus NIK perempuan (tanggal lahir pada NIK ditambah 40); NIK ini milik laki-laki."),
            code="sex",
        )
    return number


def validate_baby_nik(value: str, *, birth_date: datetime.date, sex: str, confirmed: bool = False) -> str:
    """A baby's NIK must encode its own birth date and sex (perempuan: tanggal + 40)."""
    number = validate_nik(value, confirmed=confirmed)
    expected_day = birth_date.day + (40 if sex == "P" else 0)
    expected = f"{expected_day:02d}{birth_date:%m%y}"
    if number[6:12] != expected:
        raise ValidationError(
            _(
                "NIK tidak cocok dengan bayi: digit 7-12 seharusnya %(expected)s (lahir %(date)s, %(sex)s), "
                "tertulis %(actual)s."
            )
            % {
                "expected": expected,
                "date": birth_date.strftime("%d-%m-%Y"),
                "sex": _("perempuan") if sex == "P" else _("laki-laki"),
                "actual": number[6:12],
            },
            code="mismatch",
        )
    return number


def validate_mother_age(mother_nik: str, *, birth_date: datetime.date, confirmed: bool = False) -> None:
    """The age a mother's NIK gives her on the day of the birth: under 10 is impossible, under 15 or over 55
    is a warning the user confirms."""
    age = relativedelta(birth_date, nik_birth_date(mother_nik, reference=birth_date)).years
    if age < MIN_MOTHER_AGE:
        raise ValidationError(
            _("NIK ibu ini berarti ibu berumur %(age)s tahun saat melahirkan: tidak mungkin. Periksa NIK ibu.")
            % {"age": age},
            code="mother_too_young",
        )
    low, high = USUAL_MOTHER_AGES
    if not low <= age <= high and not confirmed:
        raise ValidationError(
            _(
                "NIK ibu ini berarti ibu berumur %(age)s tahun saat melahirkan. Periksa NIK ibu; bila memang "
                "benar, centang konfirmasi lalu simpan."
            )
            % {"age": age},
            code=UNUSUAL_MOTHER_AGE,
        )


def validate_kk_number(value: str, *, confirmed: bool = False) -> str:
    number = _digits(value, 16, _("Nomor KK"))
    _check_kecamatan(number, _("nomor KK"), confirmed)
    return number


def validate_jkn_number(value: str) -> str:
    return _digits(value, 13, _("Nomor kartu JKN"))


def validate_birth_date(value: datetime.date, *, today: datetime.date | None = None) -> datetime.date:
    today = today or timezone.localdate()
    if value > today:
        raise ValidationError(_("Tanggal lahir tidak boleh di masa depan."), code="future")
    if value < today - relativedelta(years=1):
        raise ValidationError(
            _(
                "Kelahiran lebih dari satu tahun yang lalu tidak dicatat sebagai bayi baru lahir. "
                "Arahkan keluarga ke Disdukcapil untuk akta dan NIK, lalu daftarkan ke BPJS dengan NIK."
            ),
            code="too_old",
        )
    return value


def validate_weight(value: int) -> int:
    if not MIN_WEIGHT_GRAMS <= value <= MAX_WEIGHT_GRAMS:
        raise ValidationError(
            _("Berat lahir harus antara %(min)s dan %(max)s gram.") % {"min": "300", "max": "7.000"}, code="weight"
        )
    return value


# An Indonesian mobile number: 8, a 2-digit operator code, then 7 to 10 more digits (0812 3456 789 up to
# 0812 3456 78901); written 08..., 628... or +628....
MOBILE_RE = re.compile(r"8[1-9][0-9]{7,10}", re.ASCII)
PHONE_SEPARATORS = str.maketrans("", "", " ()/\u00a0")


def normalize_phone(value: str) -> str:
    """The family's mobile number in E.164 (``+6281234567890``) from ``0812-3456-7890``, ``62 812...`` or
    ``+62 812...``; "" stays "". Anything else is refused with an Indonesian message."""
    raw = text.clean_number(str(value or "").translate(PHONE_SEPARATORS))
    if not raw:
        return ""
    national = None
    if raw.startswith("+62"):
        national = raw[3:]
    elif raw.startswith("62"):
        national = raw[2:]
    elif raw.startswith("0"):
        national = raw[1:]
    if national is None or not MOBILE_RE.fullmatch(national):
        raise ValidationError(
            _(
                "Nomor HP tidak dikenali. Tulis nomor seluler Indonesia, mis. 0812 3456 7890, "
                "62812 3456 7890 atau +62 812 3456 7890."
            ),
            code="phone",
        )
    return "+62" + national
