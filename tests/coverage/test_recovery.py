"""Jobs that recover: time limits and the broker's visibility timeout, a worker killed mid-job, queueing that
fails, the sweeper, the page's truth about a stalled job, XLSX read by the worker.

Real workers throughout (a thread of this process, or ``celery worker`` subprocesses); the database is
committed for real (``transactional_db``) so they see it."""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone

from coverage import imports, services, tasks
from coverage.models import CoverageImport, CoverageSnapshot, ImportKind, ImportStatus, PopulationCount
from sejagad.celery import app
from sejagad.models import Region
from sejagad.roles import Role
from tests.celery_worker import real_worker, wait_for
from tests.coverage.files import POPULATION_HEADER, csv_upload, xlsx_upload
from tests.factories import UserFactory

# Every task with a time limit of its own: a new task is checked as soon as it gets one.
OUR_TASKS = list(django_settings.JOB_TIME_LIMITS)
pytestmark = pytest.mark.django_db(transaction=True)
CLOSED_PORT = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused at once


def population_rows(district, period="2021-S2"):
    desa = Region.objects.within(district).desa().order_by("code").values_list("code", flat=True)
    return [[code, "", period, "1.000", "", ""] for code in desa]


def finished(pk):
    record = CoverageImport.objects.get(pk=pk)
    return record if not record.is_running else None


@contextlib.contextmanager
def broker_at(url):
    """Publish to another broker for a while (Celery reads CELERY_BROKER_URL from the environment first)."""
    original, from_env = app.conf.broker_url, os.environ.get("CELERY_BROKER_URL")
    app.conf.broker_url = os.environ["CELERY_BROKER_URL"] = url
    app._pool, app.amqp._producer_pool = None, None
    try:
        yield
    finally:
        app.conf.broker_url = original
        if from_env is None:
            del os.environ["CELERY_BROKER_URL"]
        else:
            os.environ["CELERY_BROKER_URL"] = from_env
        app._pool, app.amqp._producer_pool = None, None


@pytest.fixture
def broker_down():
    """The app's broker is a closed port, as when Redis is down; the database stays real."""
    with broker_at(CLOSED_PORT):
        yield


def test_every_job_has_a_time_limit_and_the_visibility_timeout_is_just_above_the_longest():
    app.loader.import_default_modules()
    visibility = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    for name in OUR_TASKS:
        task = app.tasks[name]
        assert task.time_limit and 0 < task.soft_time_limit < task.time_limit, name
        assert task.acks_late is True, name
        assert task.time_limit < visibility, name  # a running job is never handed to a second worker
    assert visibility <= max(app.tasks[n].time_limit for n in OUR_TASKS) + 120
    assert visibility < 30 * 60  # a killed worker's job comes back within minutes, not 4 hours
    assert app.conf.task_reject_on_worker_lost is True


def test_the_sweeper_runs_every_few_minutes():
    entry = app.conf.beat_schedule["sweep-stuck-imports"]
    assert entry["task"] == "coverage.tasks.sweep_stuck_imports"
    assert entry["schedule"] <= 10 * 60


# --- A worker killed mid-job --------------------------------------------------------------------


def _worker(env_extra: dict) -> subprocess.Popen:
    db = django_settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "CELERY_VISIBILITY_TIMEOUT": "5",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
        **env_extra,
    }
    command = [sys.executable, "-m", "celery", "-A", "sejagad", "worker", "--concurrency=1", "--loglevel=WARNING"]
    command += ["--include=tests.coverage.hold_commit", "--without-mingle", "--without-gossip"]
    return subprocess.Popen(command, cwd=django_settings.BASE_DIR, env=env, start_new_session=True)


def _stop(process: subprocess.Popen) -> None:
    """Stop a worker and its pool processes, and leave the broker empty for the next test."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    app.control.purge()
    with app.connection_for_write() as connection:
        connection.default_channel.client.delete("unacked", "unacked_index")


def test_a_worker_killed_mid_commit_is_redelivered_and_the_rows_are_written_once(district, tmp_path):
    assert django_settings.CELERY_BROKER_URL.startswith("redis://"), "this test needs Redis (CELERY_BROKER_URL)"
    app.control.purge()
    record = services.start_import(
        kind=ImportKind.POPULATION, uploaded=csv_upload(POPULATION_HEADER, population_rows(district)), by=None
    )
    assert services.preview_import(import_id=record.pk).rows_new == 173
    assert services.queue_commit(import_id=record.pk)
    marker = tmp_path / "rows-written"
    first = _worker({"SEJAGAD_TEST_HOLD_COMMIT": str(marker)})
    second = None
    try:
        tasks.commit_import.delay(record.pk)
        wait_for(marker.exists, timeout=30)  # the first worker wrote the rows and has not committed
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        killed_at = time.monotonic()
        assert CoverageImport.objects.get(pk=record.pk).status == ImportStatus.COMMITTING
        assert not PopulationCount.objects.exists()  # its transaction died with it

        second = _worker({})
        done = wait_for(lambda: finished(record.pk), timeout=30)
        redelivered_after = time.monotonic() - killed_at
    finally:
        for worker in (first, second):
            if worker:
                _stop(worker)
    assert done.status == ImportStatus.DONE and done.attempts == 2
    assert done.rows_new == 173 and PopulationCount.objects.count() == 173
    assert redelivered_after < 5 + 20  # the visibility timeout, plus the second worker's start-up
    print(f"redelivered and committed {redelivered_after:.1f} s after the kill")


# --- Queueing that fails ------------------------------------------------------------------------


def test_a_commit_whose_rollup_cannot_be_queued_is_saved_and_the_sweeper_rolls_it_up(district, broker_down):
    record = services.start_import(
        kind=ImportKind.POPULATION, uploaded=csv_upload(POPULATION_HEADER, population_rows(district)), by=None
    )
    services.preview_import(import_id=record.pk)

    outcome = services.commit_import(import_id=record.pk)

    record = outcome.record
    assert record.status == ImportStatus.DONE and outcome.written == 173
    assert "tidak ada yang tersimpan" not in record.message
    assert PopulationCount.objects.count() == 173
    assert record.rollup_pending and not CoverageSnapshot.objects.exists()


@pytest.mark.usefixtures("district")
def test_the_sweeper_queues_a_rollup_that_never_ran(district):
    record = services.start_import(
        kind=ImportKind.POPULATION, uploaded=csv_upload(POPULATION_HEADER, population_rows(district)), by=None
    )
    services.preview_import(import_id=record.pk)
    services.commit_import(import_id=record.pk, schedule_rollup=False)  # as if its queueing had failed
    assert CoverageImport.objects.get(pk=record.pk).rollup_pending
    later = timezone.now() + timezone.timedelta(hours=1)
    with real_worker():
        assert services.sweep_stuck_imports(now=later).rollups == 1
        luwu = wait_for(lambda: CoverageSnapshot.objects.filter(region_id="73.22", period="2021-S2").first())
        wait_for(lambda: not CoverageImport.objects.get(pk=record.pk).rollup_pending)
    assert luwu.population == 173_000


def test_an_upload_with_the_broker_down_is_kept_and_the_sweeper_checks_it(client, district, settings):
    settings.COVERAGE_IMPORT_SYNC_MAX_BYTES = 0  # every file goes to the worker
    client.force_login(UserFactory(role=Role.PETUGAS_BPJS))
    rows = population_rows(district)
    with broker_at(CLOSED_PORT):
        started = time.monotonic()
        response = client.post(
            reverse("coverage:imports"),
            {"kind": "population", "file": csv_upload(POPULATION_HEADER, rows)},
            follow=True,
        )
        answered_in = time.monotonic() - started
    assert response.status_code == 200 and answered_in < 10  # not a 500, and not a hang
    print(f"upload with the broker down answered in {answered_in:.1f} s")
    record = CoverageImport.objects.get()
    assert record.status == ImportStatus.PENDING and record.queue_unavailable and record.file
    page = response.content.decode()
    assert "Antrean sedang tidak tersedia; pemeriksaan akan berjalan otomatis" in page
    assert "Menunggu antrean" in page and "progress" not in page.split("kemajuan-impor")[1][:600]

    with real_worker():
        tasks.sweep_stuck_imports.delay()  # as beat sends it a few minutes later
        record = wait_for(lambda: finished(record.pk))
    assert record.status == ImportStatus.PREVIEWED and record.rows_new == 173 and record.message == ""


def test_a_background_commit_with_the_broker_down_waits_and_the_sweeper_saves_it(client, district, staff, settings):
    settings.COVERAGE_IMPORT_SYNC_MAX_BYTES = 0
    record = services.start_import(
        kind=ImportKind.POPULATION, uploaded=csv_upload(POPULATION_HEADER, population_rows(district)), by=staff
    )
    services.preview_import(import_id=record.pk)
    client.force_login(staff)
    with broker_at(CLOSED_PORT):
        page = client.post(reverse("coverage:import_commit", args=[record.pk]), follow=True).content.decode()
    assert "Antrean sedang tidak tersedia; penyimpanan akan berjalan otomatis" in page
    assert CoverageImport.objects.get(pk=record.pk).status == ImportStatus.COMMITTING
    assert not PopulationCount.objects.exists()

    with real_worker():
        assert services.sweep_stuck_imports().requeued == 1
        record = wait_for(lambda: finished(record.pk))
    assert record.status == ImportStatus.DONE and PopulationCount.objects.count() == 173


# --- The page's truth, and retry ------------------------------------------------------------------


def test_a_stalled_import_says_so_and_retry_from_the_page_finishes_it(client, district, staff):
    record = services.start_import(
        kind=ImportKind.POPULATION, uploaded=csv_upload(POPULATION_HEADER, population_rows(district)), by=staff
    )
    # A worker claimed it, then died: no sign of life for longer than the job's time limit.
    long_ago = timezone.now() - timezone.timedelta(hours=1)
    CoverageImport.objects.filter(pk=record.pk).update(
        status=ImportStatus.VALIDATING, progress=10, heartbeat_at=long_ago, attempts=1
    )
    client.force_login(staff)
    page = client.get(reverse("coverage:import_detail", args=[record.pk])).content.decode()
    assert "Terhenti — coba lagi" in page and "<progress" not in page
    assert reverse("coverage:import_retry", args=[record.pk]) in page

    dinsos = UserFactory(role=Role.PETUGAS_DINSOS)
    client.force_login(dinsos)
    assert client.post(reverse("coverage:import_retry", args=[record.pk])).status_code == 403
    client.force_login(staff)
    with real_worker():
        client.post(reverse("coverage:import_retry", args=[record.pk]))
        record = wait_for(lambda: finished(record.pk))
    assert record.status == ImportStatus.PREVIEWED and record.attempts == 2


def test_a_running_import_shows_its_progress_not_a_retry(client, district, staff):
    record = services.start_import(
        kind=ImportKind.POPULATION, uploaded=csv_upload(POPULATION_HEADER, population_rows(district)), by=staff
    )
    CoverageImport.objects.filter(pk=record.pk).update(status=ImportStatus.VALIDATING, progress=40)
    client.force_login(staff)
    page = client.get(reverse("coverage:import_detail", args=[record.pk])).content.decode()
    assert "<progress" in page and "Terhenti" not in page
    response = client.post(reverse("coverage:import_retry", args=[record.pk]), follow=True)
    assert "tidak sedang terhenti" in response.content.decode()
    assert CoverageImport.objects.get(pk=record.pk).attempts == 0  # nothing was queued


def test_a_job_that_keeps_killing_its_worker_is_failed_not_requeued_for_ever(district, settings):
    record = services.start_import(
        kind=ImportKind.POPULATION, uploaded=csv_upload(POPULATION_HEADER, population_rows(district)), by=None
    )
    CoverageImport.objects.filter(pk=record.pk).update(attempts=settings.JOB_MAX_ATTEMPTS)
    record = services.preview_import(import_id=record.pk)
    assert record.status == ImportStatus.FAILED and "terhenti 3 kali" in record.message
    assert not CoverageImport.objects.stalled(timezone.now() + timezone.timedelta(days=1)).exists()


# --- XLSX in the worker ----------------------------------------------------------------------------


def test_an_xlsx_upload_is_read_by_the_worker_not_in_the_request(client, district, staff, monkeypatch):
    readers = []
    read_table = imports.read_table
    monkeypatch.setattr(
        imports, "read_table", lambda *a, **kw: (readers.append(threading.current_thread()), read_table(*a, **kw))[1]
    )
    client.force_login(staff)
    upload = xlsx_upload(POPULATION_HEADER, population_rows(district)[:5])
    assert upload.size < 10_000  # small: the size of the file says nothing of what it unpacks to
    with real_worker():
        response = client.post(reverse("coverage:imports"), {"kind": "population", "file": upload})
        assert response.status_code == 302
        record = wait_for(lambda: finished(CoverageImport.objects.get().pk))
    assert record.status == ImportStatus.PREVIEWED and record.rows_new == 5
    assert readers and threading.main_thread() not in readers  # the request thread never opened the sheet
