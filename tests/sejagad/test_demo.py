import pytest
from django.core.management import call_command

from sejagad.models import Facility, FacilityKind, Region, User
from sejagad.roles import Role

pytestmark = pytest.mark.django_db


def test_seed_demo_twice_duplicates_nothing(settings):
    settings.DEMO_USERS = True
    call_command("seed_demo")
    counts = (Region.objects.count(), Facility.objects.count(), User.objects.count())
    call_command("seed_demo")
    assert (Region.objects.count(), Facility.objects.count(), User.objects.count()) == counts
    assert counts == (190, 21, 6)


def test_demo_has_a_puskesmas_per_kecamatan_and_the_district_hospital(settings):
    settings.DEMO_USERS = False
    call_command("seed_demo")
    kecamatan_with_puskesmas = {
        f.region.parent_id for f in Facility.objects.filter(kind=FacilityKind.PUSKESMAS).select_related("region")
    }
    assert kecamatan_with_puskesmas == set(Region.objects.kecamatan().values_list("code", flat=True))
    assert Facility.objects.filter(kind=FacilityKind.RUMAH_SAKIT, name__contains="Andi Djemma").exists()


def test_demo_users_only_on_the_embedded_default_or_when_asked(settings):
    settings.DEMO_USERS = False
    call_command("seed_demo")
    assert not User.objects.exists()
    call_command("seed_demo", "--users")
    assert set(User.objects.values_list("role", flat=True)) == set(Role.values)


def test_demo_bidan_works_at_a_luwu_utara_puskesmas(settings):
    settings.DEMO_USERS = True
    call_command("seed_demo")
    bidan = User.objects.get(username="bidan")
    assert bidan.role == Role.BIDAN
    assert bidan.facility.kind == FacilityKind.PUSKESMAS
    assert bidan.facility.region.code.startswith("73.22.")
