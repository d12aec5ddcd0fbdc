"""The background path in a real Celery worker (a thread of this process) against the configured broker.

The worker cannot see a test transaction, so these tests commit for real (``transactional_db``).
On CI the broker is Redis (CELERY_BROKER_URL); elsewhere the in-memory broker, still through a real worker.
"""

import pytest
from django.urls import reverse

from coverage import services
from coverage.demo import allocate
from coverage.models import CoverageImport, CoverageSnapshot, ImportStatus, PopulationCount
from sejagad.models import Region
from tests.celery_worker import real_worker, wait_for
from tests.coverage.files import PARTICIPANT_HEADER, POPULATION_HEADER, csv_upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def celery_worker():
    with real_worker() as worker:
        yield worker


def finished(pk):
    record = CoverageImport.objects.get(pk=pk)
    return record if not record.is_running else None


def test_a_background_import_reports_progress_then_commits_and_rolls_up(
    client, district, staff, settings, celery_worker, monkeypatch
):
    settings.COVERAGE_IMPORT_SYNC_MAX_BYTES = 0  # every file goes to the worker
    seen = []
    real_progress = services._set_progress
    monkeypatch.setattr(services, "_set_progress", lambda pk, pct: (seen.append(pct), real_progress(pk, pct)))
    client.force_login(staff)
    desa = list(Region.objects.within(district).desa().order_by("code").values_list("code", flat=True))
    people = allocate(329_934, [1] * len(desa))
    rows = [[code, "", "2021-S2", f"{n:,}".replace(",", "."), "", ""] for code, n in zip(desa, people, strict=True)]

    response = client.post(
        reverse("coverage:imports"), {"kind": "population", "file": csv_upload(POPULATION_HEADER, rows)}
    )
    record = CoverageImport.objects.get()
    assert response.url == reverse("coverage:import_detail", args=[record.pk])
    record = wait_for(lambda: finished(record.pk))
    assert record.status == ImportStatus.PREVIEWED and record.rows_new == 173 and record.progress == 100
    assert seen == sorted(seen) and len(seen) >= 3 and 0 < seen[0] < 100  # the bar moved while the file was read
    assert not PopulationCount.objects.exists()

    client.post(reverse("coverage:import_commit", args=[record.pk]))
    assert CoverageImport.objects.get(pk=record.pk).status in (ImportStatus.COMMITTING, ImportStatus.DONE)
    assert wait_for(lambda: finished(record.pk)).status == ImportStatus.DONE
    assert PopulationCount.objects.count() == 173

    participants = csv_upload(PARTICIPANT_HEADER, [["73.22", "2021-S2", "PBI-APBN", "244.956", ""]])
    client.post(reverse("coverage:imports"), {"kind": "participants", "file": participants})
    second = CoverageImport.objects.latest("id")
    wait_for(lambda: finished(second.pk))
    client.post(reverse("coverage:import_commit", args=[second.pk]))
    wait_for(lambda: finished(second.pk))
    # The roll-up task enqueued after the commit computes desa > kecamatan > kabupaten.
    luwu = wait_for(
        lambda: CoverageSnapshot.objects.filter(region_id="73.22", period="2021-S2", participants__isnull=False).first()
    )
    assert str(luwu.coverage_pct) == "74.24" and luwu.gap == 68_482
    kecamatan = CoverageSnapshot.objects.filter(period="2021-S2", level="kecamatan")
    assert sum(k.population for k in kecamatan) == luwu.population == 329_934


def test_the_nightly_task_recomputes_every_period(district, celery_worker):
    from coverage import tasks

    PopulationCount.objects.create(region_id="73.22.03.2004", period="2023-S1", total=1_000)
    tasks.compute_coverage.delay()
    masamba = wait_for(lambda: CoverageSnapshot.objects.filter(region_id="73.22.03", period="2023-S1").first())
    assert masamba.population == 1_000
