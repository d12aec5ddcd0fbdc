"""Who hears that a baby moved to a worse level: the officers whose region holds the baby, at any level
(kabupaten, kecamatan, desa), and the midwives of the baby's facility; nobody elsewhere."""

import datetime

import pytest
from django.utils import timezone

from enrollment.flagging import flag_deadlines
from enrollment.models import Digest, Notification
from sejagad.models import Region
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


def officer(username: str, code: str | None, role: str = Role.STAF_DINKES):
    return UserFactory(username=username, role=role, region=Region.objects.get(code=code) if code else None)


def notified_by_baby(world) -> dict[str, set[str]]:
    """Bring the fixture babies (20 days old, MENDESAK) to Kritis the next day, as the daily job does after
    a first run, and say who was told about each."""
    Notification.objects.all().delete()
    flag_deadlines(full=True)  # the install's first run: digests only
    assert not Notification.objects.exists()
    flag_deadlines(today=timezone.localdate() + datetime.timedelta(days=1))  # 7 days left: KRITIS
    out = {}
    for key in ("masamba_baby", "baebunta_baby", "timur_baby"):
        baby = getattr(world, key)
        out[key] = set(
            Notification.objects.filter(enrollment__newborn=baby).values_list("recipient__username", flat=True)
        )
    return out


def test_notices_go_only_to_the_officers_whose_region_holds_the_baby(two_kabupaten):
    officer("kab_utara", "73.22")
    officer("kec_masamba", "73.22.03")
    officer("kec_baebunta", "73.22.11")
    officer("desa_pincara", "73.22.03.2004")  # the masamba baby's desa
    officer("desa_lain", "73.22.03.2005")
    officer("kab_timur", "73.24")
    officer("kec_mangkutana", "73.24.01")
    officer("bpjs_utara", "73.22", role=Role.PETUGAS_BPJS)  # not a Dinkes officer: no notices
    BidanFactory(username="bidan_masamba")  # Puskesmas Masamba
    heard = notified_by_baby(two_kabupaten)
    every_utara = {"staf_utara", "kab_utara"}
    assert heard["masamba_baby"] == every_utara | {"staf_masamba", "kec_masamba", "desa_pincara", "bidan_masamba"}
    assert heard["baebunta_baby"] == every_utara | {"kec_baebunta"}
    assert heard["timur_baby"] == {"staf_timur", "kab_timur", "kec_mangkutana", "bidan_timur"}


def test_an_inactive_officer_hears_nothing(two_kabupaten):
    gone = officer("pindah", "73.22.03")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    heard = notified_by_baby(two_kabupaten)
    assert "pindah" not in set().union(*heard.values())


def test_each_officer_s_digest_counts_the_babies_of_her_region_only(two_kabupaten):
    officer("kab_utara", "73.22")
    officer("kec_masamba", "73.22.03")
    officer("desa_lain", "73.22.03.2005")  # no baby in her desa: no digest
    officer("bpjs_utara", "73.22", role=Role.PETUGAS_BPJS)
    BidanFactory(username="bidan_masamba")
    Digest.objects.all().delete()
    flag_deadlines(full=True)
    totals = dict(Digest.objects.values_list("recipient__username", "total"))
    assert totals == {
        "staf_utara": 2,
        "kab_utara": 2,
        "staf_masamba": 1,
        "kec_masamba": 1,
        "bidan_masamba": 1,
        "staf_timur": 1,
        "bidan_timur": 1,
    }
