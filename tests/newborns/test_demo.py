"""The demo year of Luwu Utara births: size, spread, valid numbers, a believable Dukcapil pipeline, audit rows.

Seeding takes a few seconds, so it runs once for the module inside a transaction that is rolled back at the
end; each test runs in a savepoint inside it (pytest-django's ``db``), as ``district`` would set it up.
"""

import datetime
import re
from collections import Counter

import pytest
from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone

from newborns.demo import seed_demo_births
from newborns.models import Mother, Newborn
from newborns.validators import normalize_phone, validate_baby_nik, validate_mother_nik
from sejagad.demo import DEMO_DISTRICT, seed_demo_facilities, seed_demo_users
from sejagad.models import FacilityKind, Region, User
from sejagad.services import load_regions

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, luwu_utara_rows):
    """Luwu Utara as the ``district`` fixture loads it, the demo users, and one seeded year of births."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        load_regions(code=DEMO_DISTRICT, rows=luwu_utara_rows)
        seed_demo_facilities()
        seed_demo_users()
        created = seed_demo_births(today=TODAY)
    yield created
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture(scope="module")
def babies(seeded, django_db_blocker):
    """Every seeded baby, read once for the module; tests only read them."""
    with django_db_blocker.unblock():
        return list(Newborn.objects.select_related("mother__desa", "desa", "facility", "attending_midwife"))


def older_than_3_months(babies):
    return [b for b in babies if b.birth_date + relativedelta(months=3) < TODAY]


def test_a_year_of_births_at_luwu_utaras_birth_rate(seeded, babies):
    assert 5000 <= seeded <= 6000
    assert len(babies) == seeded
    dates = [b.birth_date for b in babies]
    assert min(dates) >= TODAY - datetime.timedelta(days=365)
    assert max(dates) < TODAY
    per_month = Counter(relativedelta(TODAY, d).months for d in dates)
    assert len(per_month) == 12 and min(per_month.values()) > 300  # spread evenly, about 450 a month
    assert 0.45 <= sum(b.sex == "L" for b in babies) / len(babies) <= 0.55


def test_every_kecamatan_has_births_and_mother_and_baby_share_a_desa(seeded, babies):
    kecamatan = set(
        Region.objects.filter(code__startswith=DEMO_DISTRICT + ".").kecamatan().values_list("code", flat=True)
    )
    assert len(kecamatan) == 15
    assert {b.desa.parent_id for b in babies} == kecamatan
    assert len({b.desa_id for b in babies}) > 150  # nearly every one of the 173 desa
    assert all(b.desa.level == "desa_kelurahan" and b.desa_id.startswith(DEMO_DISTRICT + ".") for b in babies)
    assert not Newborn.objects.exclude(mother__desa=F("desa")).exists()


def test_places_of_birth(seeded, babies):
    kinds = Counter(b.facility.kind if b.facility else "home" for b in babies)
    assert kinds[FacilityKind.PUSKESMAS] / len(babies) > 0.6
    assert 0.03 <= kinds["home"] / len(babies) <= 0.08
    assert 0.05 <= sum(b.facility is not None and b.facility.code == "RSUD-7322" for b in babies) / len(babies) < 0.2
    assert kinds[FacilityKind.KLINIK] and kinds[FacilityKind.PRAKTIK_MANDIRI_BIDAN]
    # A mother's puskesmas is her own kecamatan's.
    at_puskesmas = [b for b in babies if b.facility and b.facility.kind == FacilityKind.PUSKESMAS]
    assert all(b.facility.code == "PKM-" + b.desa.parent_id.replace(".", "") for b in at_puskesmas)
    # The demo bidan attended and recorded the births at her puskesmas, nobody else's.
    for b in babies:
        at_hers = b.facility is not None and b.facility.code == "PKM-732203"
        assert (b.attending_midwife is not None and b.attending_midwife.username == "bidan") == at_hers
        assert b.created_by_id == b.attending_midwife_id


def test_twins_are_named_i_and_ii(seeded, babies):
    deliveries = Counter((b.mother_id, b.birth_date) for b in babies)
    assert set(deliveries.values()) == {1, 2}
    twins = [b for b in babies if deliveries[(b.mother_id, b.birth_date)] == 2]
    assert 0.005 <= len(twins) / 2 / len(deliveries) <= 0.03
    for b in twins:
        assert b.temporary_name == f"By. Ny. {b.mother.name} {['I', 'II'][b.birth_order - 1]}"
    singles = [b for b in babies if deliveries[(b.mother_id, b.birth_date)] == 1]
    assert all(b.birth_order == 1 and b.temporary_name == f"By. Ny. {b.mother.name}" for b in singles)
    assert Mother.objects.count() == len(deliveries)


def test_weights_are_mostly_normal_with_a_few_low_birth_weights(seeded, babies):
    weights = [b.weight_grams for b in babies]
    assert all(1500 <= w <= 4600 for w in weights)
    assert sum(2500 <= w <= 4000 for w in weights) / len(weights) > 0.85
    assert 0.03 <= sum(w < 2500 for w in weights) / len(weights) <= 0.12


def test_every_identity_number_is_valid_and_unique(seeded, babies):
    mothers = {b.mother_id: b.mother for b in babies}.values()
    delivered = {b.mother_id: b.birth_date for b in babies}
    for m in mothers:
        assert validate_mother_nik(m.nik) == m.nik
        kecamatan = m.desa.parent_id.replace(".", "")
        assert m.nik[:6] == kecamatan and m.kk_number[:6] == kecamatan and len(m.kk_number) == 16
        assert 17 <= relativedelta(delivered[m.pk], _nik_date(m.nik)).years <= 42
        assert (len(m.jkn_number) == 13 and m.jkn_number.isdigit()) == bool(m.jkn_segment)
    assert len({m.kk_number for m in mothers}) == len(mothers)
    segments = Counter(m.jkn_segment for m in mothers)
    assert 0.38 <= segments["PBI-APBN"] / len(mothers) <= 0.52 and segments[""] and segments["BP"]

    with_nik = [b for b in babies if b.nik]
    for b in with_nik:
        assert validate_baby_nik(b.nik, birth_date=b.birth_date, sex=b.sex) == b.nik
        assert b.nik[:6] == b.desa.parent_id.replace(".", "")
        assert b.birth_date <= b.nik_issued_on <= TODAY
    akta = [b.akta_number for b in babies if b.akta_number]
    assert len(set(akta)) == len(akta)
    assert all(re.fullmatch(r"7322-LT-\d{8}-\d{4}", n) for n in akta)


def _nik_date(nik: str) -> datetime.date:
    year = int(nik[10:12])
    return datetime.date(2000 + year if year <= TODAY.year % 100 else 1900 + year, int(nik[8:10]), int(nik[6:8]) - 40)


def test_documents_follow_a_realistic_pipeline(seeded, babies):
    dukcapil = User.objects.get(username="dukcapil").pk
    for b in babies:
        dates = [d for d in (b.kk_added_on, b.akta_issued_on, b.nik_issued_on) if d]
        assert dates == sorted(dates) and all(b.birth_date <= d <= TODAY for d in dates)
        assert (b.akta_issued_on is None) == (b.akta_number == "")
        assert (b.nik is None) == (b.nik_issued_on is None)
        if b.nik_issued_on:
            assert b.akta_issued_on and b.kk_added_on
        assert (b.kk_added_by_id, b.akta_by_id, b.nik_by_id) == (
            dukcapil if b.kk_added_on else None,
            dukcapil if b.akta_issued_on else None,
            dukcapil if b.nik else None,
        )

    older = older_than_3_months(babies)
    on_time = [b for b in older if b.nik_issued_on and b.nik_issued_on <= b.birth_date + relativedelta(months=3)]
    assert 0.7 <= len(on_time) / len(older) <= 0.95
    without_nik = [b for b in older if b.nik is None]
    assert 0.05 <= len(without_nik) / len(older) <= 0.2
    added_to_kk = [b for b in older if b.kk_added_on and (b.kk_added_on - b.birth_date).days <= 47]
    assert 0.75 <= len(added_to_kk) / len(older) <= 0.95

    newest = [b for b in babies if (TODAY - b.birth_date).days <= 7]
    assert sum(b.kk_added_on is None for b in newest) / len(newest) > 0.8


def test_history_rows_record_the_birth_then_each_document_step(seeded, babies):
    history = Newborn.history.model.objects
    created = Counter(history.filter(history_type="+").values_list("id", flat=True))
    assert created == Counter({b.pk: 1 for b in babies})
    steps = sum((b.kk_added_on is not None) + (b.akta_issued_on is not None) + (b.nik is not None) for b in babies)
    assert history.filter(history_type="~").count() == steps
    assert not history.filter(history_type="+", nik__isnull=False).exists()
    assert set(history.values_list("history_change_reason", flat=True)) == {"Data demo"}
    assert set(history.filter(history_type="~").values_list("history_user__username", flat=True)) == {"dukcapil"}
    latest = {h.id: h for h in history.order_by("history_date", "history_id")}  # the last row per baby
    for b in babies[:500]:
        assert (latest[b.pk].nik, latest[b.pk].nik_issued_on, latest[b.pk].akta_number) == (
            b.nik,
            b.nik_issued_on,
            b.akta_number,
        )
        assert timezone.localtime(b.created_at).date() >= b.birth_date and b.updated_at >= b.created_at
    assert Mother.history.count() == Mother.objects.count()
    assert not history.values("id").annotate(n=Count("history_id")).filter(n__gt=4).exists()


def test_seeding_again_adds_nothing(seeded, babies):
    counts = (Newborn.objects.count(), Mother.objects.count(), Newborn.history.count())
    assert seed_demo_births() == 0
    assert (Newborn.objects.count(), Mother.objects.count(), Newborn.history.count()) == counts


def test_every_seeded_baby_comes_with_its_membership_deadlines_and_levels(seeded, babies):
    """Bulk inserts announce the births once (``birth_changed``): no baby lands without its enrollment."""
    from enrollment.models import Enrollment, FlagLevel

    rows = {e.newborn_id: e for e in Enrollment.objects.all()}
    assert set(rows) == {b.pk for b in babies}
    for baby in babies:
        enrollment = rows[baby.pk]
        assert enrollment.registration_deadline == baby.birth_date + datetime.timedelta(days=28)
        assert enrollment.nik_deadline == baby.birth_date + relativedelta(months=3)
        # Nobody is registered yet at this step: a baby past its 28 days is late, today.
        if enrollment.registration_deadline < TODAY:
            assert enrollment.registration_level == FlagLevel.TERLAMBAT


def test_seeded_births_keep_the_times_the_demo_drew(seeded, babies):
    recorded_on = {timezone.localtime(b.created_at).date() for b in babies}
    assert len(recorded_on) > 300  # spread over the year, not all stamped at the seeding minute
    assert all(b.updated_at >= b.created_at for b in babies)


def test_demo_phone_numbers_are_stored_in_e164_as_every_write_path_stores_them(seeded, babies):
    phones = list(Mother.objects.exclude(phone="").values_list("phone", flat=True))
    assert phones
    assert all(normalize_phone(phone) == phone for phone in phones)
