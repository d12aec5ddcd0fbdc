import io
import re
from collections import Counter

import pytest
from django.core.management import call_command

from enrollment.models import Enrollment, EnrollmentStatus, FlagLevel
from newborns.models import Newborn
from sejagad.models import Facility, FacilityKind, Region, User
from sejagad.roles import Role

pytestmark = pytest.mark.django_db


def test_seed_demo_twice_duplicates_nothing(settings):
    settings.DEMO_USERS = True
    call_command("seed_demo")
    counts = (Region.objects.count(), Facility.objects.count(), User.objects.count())
    call_command("seed_demo")
    assert (Region.objects.count(), Facility.objects.count(), User.objects.count()) == counts
    assert counts == (190, 21, 7)  # one user per role


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


def test_seed_demo_of_a_district_year_says_each_step_with_its_time(settings):
    settings.DEMO_USERS = True
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    steps = ["Wilayah", "Fasilitas", "Penduduk dan peserta JKN", "Pengguna demo", "Setahun kelahiran", "Kepesertaan"]
    positions = [text.index(f"  {step}") for step in steps]
    assert positions == sorted(positions)
    assert len(re.findall(r"selesai \(\d+\.\d dtk\)", text)) == len(steps)
    assert "Data demo siap" in text
    # The year's memberships look like a district's: most registered, most NIKs at BPJS, a tail lapsed,
    # each baby flagged for today.
    statuses = Counter(Enrollment.objects.values_list("status", flat=True))
    total = sum(statuses.values())
    assert total == Newborn.objects.count() > 5000
    assert statuses[EnrollmentStatus.DIPERBARUI] / total > 0.5
    assert 0 < statuses[EnrollmentStatus.NONAKTIF] / total < 0.2
    assert 0 < statuses[EnrollmentStatus.BELUM_TERDAFTAR] / total < 0.3
    assert (
        Enrollment.objects.filter(registration_level=FlagLevel.SELESAI).count()
        == total - statuses[EnrollmentStatus.BELUM_TERDAFTAR]
    )
    assert (
        Enrollment.objects.filter(status=EnrollmentStatus.BELUM_TERDAFTAR, registration_level=FlagLevel.AMAN).count()
        < total / 20
    )
    again = io.StringIO()
    call_command("seed_demo", stdout=again)
    assert "Kelahiran demo: 0 baru." in again.getvalue() and "Kepesertaan JKN demo: 0 diisi." in again.getvalue()
