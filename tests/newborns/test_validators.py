import datetime

import pytest
from django.core.exceptions import ValidationError

from newborns import validators
from newborns.naming import temporary_name
from newborns.privacy import mask_number
from tests.factories import nik_for

BORN = datetime.date(2024, 8, 17)


def messages(exc_info) -> str:
    return " ".join(exc_info.value.messages)


def test_a_real_shaped_female_nik_from_masamba_is_valid():
    assert validators.validate_mother_nik("7322035708240001") == "7322035708240001"


def test_spaces_and_dots_are_ignored():
    assert validators.validate_nik("7322 0357 0824 0001") == "7322035708240001"


@pytest.mark.parametrize("value", ["732203570824000", "73220357082400011"])
def test_wrong_length_is_refused(value):
    with pytest.raises(ValidationError, match="NIK harus 16 digit") as exc:
        validators.validate_nik(value)
    assert exc.value.code == "length"


def test_letters_are_refused():
    with pytest.raises(ValidationError, match="hanya boleh berisi angka"):
        validators.validate_nik("73220357O8240001")


def test_unknown_kecamatan_is_a_warning_the_user_can_confirm():
    # 73.22.99 does not exist today; the province and kabupaten do.
    with pytest.raises(ValidationError) as exc:
        validators.validate_nik("7322995708240001")
    assert exc.value.code == validators.UNKNOWN_KECAMATAN
    assert "732299" in messages(exc)
    assert validators.validate_nik("7322995708240001", confirmed=True) == "7322995708240001"


def test_kecamatan_outside_the_district_is_accepted_because_mothers_move():
    assert validators.validate_nik("3171015708950001")  # Jakarta Pusat, Gambir


def test_unknown_province_is_refused():
    with pytest.raises(ValidationError, match="Kode provinsi/kabupaten 9971"):
        validators.validate_nik("9971015708950001")


@pytest.mark.parametrize("value", ["7322033502240001", "7322033102240001", "7322030013240001", "7322037502240001"])
def test_impossible_dates_are_refused(value):
    # day 35, 31 February, month 13, female day 75
    with pytest.raises(ValidationError, match="(tidak mungkin|bukan tanggal)"):
        validators.validate_nik(value)


def test_female_day_plus_40_is_read_as_the_birth_date():
    nik = nik_for(BORN, female=True)
    assert nik[6:12] == "570824"
    assert validators.validate_baby_nik(nik, birth_date=BORN, sex="P") == nik


def test_baby_nik_must_match_sex():
    with pytest.raises(ValidationError, match="seharusnya 570824") as exc:
        validators.validate_baby_nik(nik_for(BORN, female=False), birth_date=BORN, sex="P")
    assert exc.value.code == "mismatch"


def test_baby_nik_must_match_birth_date():
    with pytest.raises(ValidationError, match="seharusnya 170824"):
        validators.validate_baby_nik(nik_for(BORN.replace(day=18), female=False), birth_date=BORN, sex="L")


def test_a_male_nik_given_as_a_mothers_is_refused():
    with pytest.raises(ValidationError, match="NIK ibu harus NIK perempuan") as exc:
        validators.validate_mother_nik("7322031708950001")
    assert exc.value.code == "sex"


def test_kk_must_be_16_digits_from_a_real_kecamatan():
    assert validators.validate_kk_number("7322030101200001") == "7322030101200001"
    with pytest.raises(ValidationError, match="Nomor KK harus 16 digit"):
        validators.validate_kk_number("732203010120")
    with pytest.raises(ValidationError) as exc:
        validators.validate_kk_number("7399990101200001")
    assert exc.value.code == validators.UNKNOWN_KECAMATAN


def test_jkn_number_is_13_digits():
    assert validators.validate_jkn_number("0001234567890") == "0001234567890"
    with pytest.raises(ValidationError, match="Nomor kartu JKN harus 13 digit"):
        validators.validate_jkn_number("000123456789")


def test_birth_date_not_in_the_future_nor_over_a_year_back():
    today = datetime.date(2026, 11, 23)
    assert validators.validate_birth_date(datetime.date(2025, 11, 23), today=today)
    with pytest.raises(ValidationError, match="masa depan"):
        validators.validate_birth_date(datetime.date(2026, 11, 24), today=today)
    with pytest.raises(ValidationError, match="lebih dari satu tahun") as exc:
        validators.validate_birth_date(datetime.date(2025, 11, 22), today=today)
    assert exc.value.code == "too_old"


def test_birth_date_a_year_before_29_february():
    assert validators.validate_birth_date(datetime.date(2027, 2, 28), today=datetime.date(2028, 2, 29))


@pytest.mark.parametrize(("grams", "ok"), [(299, False), (300, True), (7000, True), (7001, False)])
def test_weight_between_300_and_7000_grams(grams, ok):
    if ok:
        assert validators.validate_weight(grams) == grams
    else:
        with pytest.raises(ValidationError, match="antara 300 dan 7.000 gram"):
            validators.validate_weight(grams)


def test_temporary_name_is_derived_in_capitals():
    assert temporary_name("  siti   aminah ") == "By. Ny. SITI AMINAH"
    assert temporary_name("Ny. Siti Aminah") == "By. Ny. SITI AMINAH"
    assert temporary_name("siti aminah", birth_order=1, multiple=True) == "By. Ny. SITI AMINAH I"
    assert temporary_name("siti aminah", birth_order=3, multiple=True) == "By. Ny. SITI AMINAH III"


def test_numbers_are_masked_keeping_region_and_last_two_digits():
    assert mask_number("7322031704260001") == "7322**********01"
    assert mask_number("") == ""
