import pytest

from sejagad.demo import DEMO_DISTRICT, seed_demo_facilities
from sejagad.models import Region
from sejagad.services import load_regions
from sejagad.wilayah import read_regions


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def luwu_utara_rows():
    """The official rows of Kabupaten Luwu Utara and its province, read once per session."""
    return [r for r in read_regions() if r["code"] == "73" or r["code"].startswith(DEMO_DISTRICT)]


@pytest.fixture
def district(db, luwu_utara_rows) -> Region:
    """Luwu Utara's real regions and the demo facilities, loaded as `make run` loads them."""
    load_regions(code=DEMO_DISTRICT, rows=luwu_utara_rows)
    seed_demo_facilities()
    return Region.objects.get(code=DEMO_DISTRICT)


SECOND_KABUPATEN = "73.24"  # Luwu Timur, Luwu Utara's neighbour


@pytest.fixture(scope="session")
def luwu_timur_rows():
    """The official rows of Kabupaten Luwu Timur (a second kabupaten loaded beside Luwu Utara)."""
    return [r for r in read_regions() if r["code"] == "73" or r["code"].startswith(SECOND_KABUPATEN)]


@pytest.fixture
def two_kabupaten(district, luwu_timur_rows):
    """Luwu Utara (``district``) and Luwu Timur loaded together, with people and babies in each:

    - Luwu Timur: a puskesmas, its bidan, a Dinkes officer of the kabupaten and one baby (``timur_baby``);
    - Luwu Utara: a kabupaten officer (``staf``), a kecamatan-level officer of Masamba (``kecamatan_staf``),
      one baby in Masamba (``masamba_baby``) and one in Baebunta (``baebunta_baby``).
    Every baby is 20 days old, unregistered and without a NIK, so it is on every worklist."""
    import datetime
    from types import SimpleNamespace

    from django.utils import timezone

    from sejagad.models import Facility, FacilityKind
    from sejagad.roles import Role
    from tests.factories import BidanFactory, UserFactory, mother_nik, register

    load_regions(code=SECOND_KABUPATEN, rows=luwu_timur_rows)
    timur = Region.objects.get(code=SECOND_KABUPATEN)
    facility = Facility.objects.create(
        code="PKM-732401", name="Puskesmas Mangkutana", kind=FacilityKind.PUSKESMAS, region_id="73.24.01"
    )
    born = timezone.localdate() - datetime.timedelta(days=20)
    timur_staf = UserFactory(username="staf_timur", role=Role.STAF_DINKES, region=timur)
    timur_bidan = BidanFactory(username="bidan_timur", facility=facility)
    return SimpleNamespace(
        luwu_utara=district,
        luwu_timur=timur,
        timur_facility=facility,
        timur_staf=timur_staf,
        timur_bidan=timur_bidan,
        staf=UserFactory(username="staf_utara", role=Role.STAF_DINKES),
        kecamatan_staf=UserFactory(
            username="staf_masamba", role=Role.STAF_DINKES, region=Region.objects.get(code="73.22.03")
        ),
        timur_baby=register(
            by=timur_staf,
            mother_nik=mother_nik(91, kecamatan="732401"),
            mother_name="Ibu Luwu Timur",
            kk_number="7324010101200001",
            desa=Region.objects.get(code="73.24.01.2001"),
            facility=facility,
            birth_date=born,
        ),
        masamba_baby=register(mother_nik=mother_nik(92), mother_name="Ibu Masamba", birth_date=born),
        baebunta_baby=register(
            mother_nik=mother_nik(93, kecamatan="732211"),
            mother_name="Ibu Baebunta",
            kk_number="7322110101200001",
            desa=Region.objects.get(code="73.22.11.1005"),
            facility=Facility.objects.get(code="PKM-732211"),
            birth_date=born,
        ),
    )
