"""The enrollment's copies of its birth (desa, birth date, not voided, facility, attending midwife), which the
lists and the daily digest filter and count on, follow the birth record whatever wrote either row: services, a
bulk UPDATE, raw SQL, a stale save, a deleted midwife."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from enrollment import selectors
from enrollment.flagging import create_missing_enrollments
from enrollment.models import Enrollment
from newborns.models import Newborn
from newborns.services import correct_birth, restore_birth, void_birth
from sejagad.models import Facility, Region
from sejagad.roles import Role
from tests.factories import UserFactory, mother_nik, register

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_databases]


def born(days_ago, serial, desa="73.22.03.2004"):
    return register(
        birth_date=timezone.localdate() - datetime.timedelta(days=days_ago),
        mother_nik=mother_nik(serial),
        desa=Region.objects.get(code=desa),
    )


def assert_copies_follow_births():
    places = ("facility_id", "attending_midwife_id")
    copies = list(
        Enrollment.objects.order_by("newborn_id").values_list("newborn_id", "desa_code", "birth_date", "live", *places)
    )
    births = [
        (pk, desa, birth_date, voided_at is None, *place)
        for pk, desa, birth_date, voided_at, *place in Newborn.objects.filter(enrollment__isnull=False)
        .order_by("id")
        .values_list("id", "desa_id", "birth_date", "voided_at", *places)
    ]
    assert copies == births
    assert all(kabupaten == desa[:5] for desa, kabupaten in Enrollment.objects.values_list("desa_code", "kabupaten"))


@pytest.fixture
def admin(district):
    return UserFactory(role=Role.ADMIN_DINKES)


def test_copies_follow_every_write_to_the_birth(admin):
    a, b = born(10, 1), born(40, 2, desa="73.22.11.2002")
    assert_copies_follow_births()
    assert Enrollment.objects.get(newborn=a).desa_code == "73.22.03.2004"

    correct_birth(newborn=a, by=admin, desa=Region.objects.get(code="73.22.01.2001"), reason="Salah desa")
    correct_birth(newborn=b, by=admin, birth_date=b.birth_date - datetime.timedelta(days=3), reason="Salah tanggal")
    assert_copies_follow_births()
    void_birth(newborn=a, by=admin, reason="Tercatat dua kali")
    assert not Enrollment.objects.get(newborn=a).live
    assert_copies_follow_births()
    restore_birth(newborn=a, by=admin, reason="Ternyata benar")
    assert_copies_follow_births()

    # Writes no service made.
    Newborn.objects.filter(pk=b.pk).update(desa_id="73.22.03.2005")
    with connection.cursor() as cursor:
        cursor.execute("UPDATE newborns_newborn SET voided_at = %s WHERE id = %s", [timezone.now(), a.pk])
    assert_copies_follow_births()


def test_copies_cannot_be_written_apart_from_the_birth(admin):
    baby = born(10, 1)
    stale = Enrollment.objects.get(newborn=baby)
    correct_birth(newborn=baby, by=admin, desa=Region.objects.get(code="73.22.11.2002"), reason="Salah desa")
    stale.save()  # an instance read before the correction writes its old desa back
    assert_copies_follow_births()
    Enrollment.objects.filter(newborn=baby).update(desa_code="73.22.03.2004", live=False, birth_date=None)
    assert_copies_follow_births()


def test_memberships_created_in_bulk_or_one_by_one_carry_their_birth(admin):
    baby = born(10, 1)
    other = born(20, 2, desa="73.22.11.2002")
    Enrollment.objects.filter(newborn__in=[baby, other]).delete()
    Enrollment.objects.create(newborn=baby, registration_deadline=baby.birth_date, nik_deadline=baby.birth_date)
    assert create_missing_enrollments() == 1
    assert_copies_follow_births()


def test_a_region_worklist_follows_a_birth_moved_out_of_it(admin):
    baby = born(27, 1)  # at risk: the 28-day deadline is tomorrow
    officer = UserFactory(role=Role.STAF_DINKES, region=Region.objects.get(code="73.22.03"))
    assert [e.newborn_id for e in selectors.worklist(officer)] == [baby.pk]
    correct_birth(newborn=baby, by=admin, desa=Region.objects.get(code="73.22.11.2002"), reason="Pindah")
    assert list(selectors.worklist(officer)) == []
    assert [e.newborn_id for e in selectors.worklist(admin)] == [baby.pk]


def test_a_bidan_s_lists_follow_a_birth_moved_to_another_facility_or_midwife(admin):
    """A bidan's lists read the enrollment's copies of the place of birth and the attending midwife."""
    masamba = UserFactory(role=Role.BIDAN, facility=Facility.objects.get(code="PKM-732203"))
    sabbang = UserFactory(role=Role.BIDAN, facility=Facility.objects.get(code="PKM-732211"))
    baby = born(27, 1)  # at risk, born at Puskesmas Masamba
    assert [e.newborn_id for e in selectors.worklist(masamba)] == [baby.pk]
    assert list(selectors.worklist(sabbang)) == []

    correct_birth(newborn=baby, by=admin, facility=Facility.objects.get(code="PKM-732211"), reason="Salah tempat")
    assert list(selectors.worklist(masamba)) == []
    assert [e.newborn_id for e in selectors.worklist(sabbang)] == [baby.pk]

    # Attended by the Masamba midwife: hers again, whatever the facility.
    correct_birth(newborn=baby, by=admin, attending_midwife=masamba)
    assert [e.newborn_id for e in selectors.worklist(masamba)] == [baby.pk]
    assert_copies_follow_births()

    # A village midwife with no facility: the home birth she attended, only.
    village = UserFactory(role=Role.BIDAN, facility=None)
    home = register(
        birth_date=timezone.localdate() - datetime.timedelta(days=27),
        mother_nik=mother_nik(2),
        facility=None,
        attending_midwife=village,
    )
    assert [e.newborn_id for e in selectors.worklist(village)] == [home.pk]
    for bidan in (masamba, sabbang, village):
        assert set(Enrollment.objects.in_scope_of(bidan).values_list("newborn_id", flat=True)) == set(
            Newborn.objects.in_scope_of(bidan).values_list("id", flat=True)
        )

    # Her account deleted: the birth forgets her (SET NULL), and so does its copy.
    masamba.delete()
    assert_copies_follow_births()
    assert Enrollment.objects.get(newborn=baby).attending_midwife_id is None
