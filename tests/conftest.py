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
