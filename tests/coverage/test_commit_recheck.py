"""A preview is a promise about the file as it was; the commit checks it again against today's regions."""

import pytest

from coverage import services
from coverage.models import ImportStatus, PopulationCount
from sejagad.models import Region

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]

ROWS = [
    ["73.22.03.2004", "", "2024-S2", "1000", "", ""],
    ["73.22.03.2005", "", "2024-S2", "800", "", ""],
    ["73.22.03.2007", "", "2024-S2", "700", "", ""],
]


def test_a_region_removed_between_preview_and_commit_stops_the_whole_file(district, import_population):
    record = import_population(ROWS, commit=False)
    assert record.status == ImportStatus.PREVIEWED
    Region.objects.filter(code="73.22.03.2007").delete()  # the region list was reloaded without it

    outcome = services.commit_import(import_id=record.pk, schedule_rollup=False)

    assert outcome.record.status == ImportStatus.INVALID
    assert outcome.written == 0
    assert not PopulationCount.objects.exists()  # not even the rows whose regions still exist
    assert outcome.record.error_count == 1
    assert "73.22.03.2007" in str(outcome.record.errors)


def test_a_file_still_valid_at_commit_is_written_whole(district, import_population):
    record = import_population(ROWS, commit=False)
    outcome = services.commit_import(import_id=record.pk, schedule_rollup=False)
    assert outcome.record.status == ImportStatus.DONE
    assert PopulationCount.objects.count() == 3
