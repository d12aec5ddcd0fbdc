import importlib

import pytest

from coverage import services
from coverage.models import ImportKind
from sejagad.models import Region
from sejagad.roles import Role
from sejagad.services import load_regions
from sejagad.wilayah import read_regions
from tests.coverage.files import PARTICIPANT_HEADER, POPULATION_HEADER, csv_upload
from tests.factories import UserFactory

LUWU_UTARA = "73.22"
MUKOMUKO = "17.06"


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _uhc_criteria(request):
    """The UHC criteria come from a data migration, which a transactional test elsewhere flushes: put them
    back (idempotently) before every coverage test that uses the database."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None and "db" not in request.fixturenames:
        return
    request.getfixturevalue("transactional_db" if marker and marker.kwargs.get("transaction") else "db")
    from django.apps import apps

    importlib.import_module("coverage.migrations.0002_seed_uhc_criteria").seed(apps, None)


@pytest.fixture(scope="session")
def mukomuko_rows():
    return [r for r in read_regions() if r["code"] == "17" or r["code"].startswith(MUKOMUKO)]


@pytest.fixture
def mukomuko(db, mukomuko_rows) -> Region:
    load_regions(code=MUKOMUKO, rows=mukomuko_rows)
    return Region.objects.get(code=MUKOMUKO)


@pytest.fixture
def staff(district):
    return UserFactory(username="dinkes", role=Role.STAF_DINKES)


@pytest.fixture
def run_import():
    """Upload, preview and (unless told otherwise) commit a file the way the page does, without a worker."""

    def run(kind, header, rows, *, commit=True, by=None, period="", upload=None):
        record = services.start_import(kind=kind, uploaded=upload or csv_upload(header, rows), by=by, period=period)
        record = services.preview_import(import_id=record.pk)
        if commit and record.can_commit:
            record = services.commit_import(import_id=record.pk, schedule_rollup=False).record
        return record

    return run


@pytest.fixture
def import_population(run_import):
    def run(rows, **kwargs):
        return run_import(ImportKind.POPULATION, POPULATION_HEADER, rows, **kwargs)

    return run


@pytest.fixture
def import_participants(run_import):
    def run(rows, **kwargs):
        return run_import(ImportKind.PARTICIPANTS, PARTICIPANT_HEADER, rows, **kwargs)

    return run
