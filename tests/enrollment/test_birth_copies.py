"""The enrollment's copies of its birth (desa, birth date, not voided), which a region's lists filter and sort
on, follow the birth record whatever wrote either row: services, a bulk UPDATE, raw SQL, a stale save."""

import datetime

import pytest
from django.db import connection
from django.utils import timezone

from enrollment import selectors
from enrollment.flagging import create_missing_enrollments
from enrollment.models import Enrollment
from newborns.models import Newborn
from newborns.services import correct_birth, restore_birth, void_birth
from sejagad.models import Region
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
    copies = list(
        Enrollment.objects.order_by("newborn_id").values_list("newborn_id", "desa_code", "birth_date", "live")
    )
    births = [
        (pk, desa, birth_date, voided_at is None)
        for pk, desa, birth_date, voided_at in Newborn.objects.filter(enrollment__isnull=False)
        .order_by("id")
        .values_list("id", "desa_id", "birth_date", "voided_at")
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
