"""Worklist XLSX exports built by a Celery worker into a file that only their requester downloads.

The worker tests run a real worker (tests/celery_worker.py): it cannot see a test transaction, so those
tests commit for real (``transaction=True``)."""

import datetime
import io
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from enrollment import export_jobs, exports, tasks
from enrollment.flagging import flag_deadlines
from enrollment.models import ExportJob, ExportJobStatus, ExportLog
from newborns.services import correct_birth
from sejagad.models import Region
from sejagad.roles import Role
from tests.celery_worker import real_worker, wait_for
from tests.factories import BidanFactory, UserFactory, mother_nik, register

TODAY = timezone.localdate
FORMULA = '=HYPERLINK("http://contoh.invalid","klik")'
BABIES = 7


@pytest.fixture
def celery_worker():
    with real_worker() as worker:
        yield worker


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.EXPORT_FILES_DIR = tmp_path / "ekspor"
    return settings.EXPORT_FILES_DIR


@pytest.fixture
def liaison(district):
    return UserFactory(username="bpjs", role=Role.PETUGAS_BPJS)


@pytest.fixture
def babies(district):
    """Seven unregistered babies at risk, in Masamba and Malangke; one named like a spreadsheet formula."""
    malangke = Region.objects.get(code="73.22.01.2001")
    made = [
        register(
            birth_date=TODAY() - datetime.timedelta(days=10 + serial),
            mother_nik=mother_nik(serial),
            mother_name=f"Ibu {serial}",
            **({"desa": malangke, "kk_number": "7322010101200002"} if serial % 2 else {}),
        )
        for serial in range(1, BABIES + 1)
    ]
    correct_birth(newborn=made[0], by=UserFactory(role=Role.STAF_DINKES), given_name=FORMULA)
    flag_deadlines()
    return made


def page_names(client, params) -> list[str]:
    page = client.get(reverse("enrollment:worklist"), params).context["page"]
    return [e.newborn.temporary_name for e in page.paginator.object_list]


def finished(pk):
    job = ExportJob.objects.get(pk=pk)
    return job if not job.is_running else None


def sheet_rows(response) -> list[tuple]:
    data = b"".join(response.streaming_content)
    return list(load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))


def built(client, params=None) -> ExportJob:
    """Click "Unduh Excel", then wait for the worker to finish the job."""
    pk = ask(client, params).pk
    return wait_for(lambda: finished(pk))


def ask(client, params=None) -> ExportJob:
    """Click "Unduh Excel" on the worklist with these filters; the job it leads to."""
    query = f"?{'&'.join(f'{k}={v}' for k, v in (params or {}).items())}" if params else ""
    response = client.post(reverse("enrollment:export_xlsx") + query)
    assert response.status_code == 302
    job = ExportJob.objects.latest("id")
    assert response.url == reverse("enrollment:export_job", args=[job.pk])
    return job


@pytest.mark.django_db(transaction=True)
def test_a_worker_builds_the_xlsx_with_the_rows_of_the_list_and_only_its_owner_downloads_it(
    client, liaison, babies, celery_worker, export_dir
):
    client.force_login(liaison)
    job = ask(client, {"kecamatan": "73.22.01"})
    job = wait_for(lambda: finished(job.pk))
    assert job.status == ExportJobStatus.SELESAI, job.error

    page = client.get(reverse("enrollment:export_job", args=[job.pk])).text
    download_url = reverse("enrollment:export_job_download", args=[job.pk])
    assert download_url in page and "Selesai" in page and "4 baris ditulis" in page

    response = client.get(download_url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"] == f'attachment; filename="risiko-{TODAY():%Y-%m-%d}.xlsx"'
    rows = sheet_rows(response)
    assert list(rows[0]) == exports.HEADERS
    assert [r[1] for r in rows[1:]] == page_names(client, {"kecamatan": "73.22.01"})
    assert len(rows) - 1 == 4 == job.rows_written == job.rows_total

    # The file lies under the export folder, by a name that says nothing about the list or its babies.
    on_disk = Path(job.file.path)
    assert on_disk.parent == export_dir and on_disk.is_file()
    assert not str(on_disk).startswith(str(django_settings.STATIC_ROOT))
    assert "risiko" not in on_disk.name and "73" not in download_url

    log = ExportLog.objects.get()
    assert job.export_log == log
    assert (log.user, log.format, log.rows, log.filters) == (
        liaison,
        "xlsx",
        4,
        {"kind": "risiko", "kecamatan": "73.22.01"},
    )

    # Another liaison, even with the same capability, does not learn that the job exists.
    client.force_login(UserFactory(username="bpjs_lain", role=Role.PETUGAS_BPJS))
    for name in ("export_job", "export_job_progress", "export_job_download"):
        assert client.get(reverse(f"enrollment:{name}", args=[job.pk])).status_code == 404, name
    assert client.post(reverse("enrollment:export_job_retry", args=[job.pk])).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_whole_list_holds_the_same_cells_as_the_in_request_writer(client, liaison, babies, celery_worker):
    client.force_login(liaison)
    job = built(client)
    rows = sheet_rows(client.get(reverse("enrollment:export_job_download", args=[job.pk])))
    assert [r[1] for r in rows[1:]] == page_names(client, {})
    formula_row = next(r for r in rows[1:] if r[2] and FORMULA in r[2])
    assert formula_row[2] == "'" + FORMULA  # escaped: the spreadsheet shows it, never runs it
    assert formula_row[6] == datetime.datetime.combine(babies[0].birth_date, datetime.time())  # a real date
    assert isinstance(formula_row[13], int)
    assert formula_row[4] == babies[0].mother.nik  # the liaison sees whole numbers, as text


@pytest.mark.django_db(transaction=True)
def test_the_job_reports_rows_written_while_it_runs(client, liaison, babies, celery_worker, monkeypatch):
    monkeypatch.setattr(export_jobs, "PROGRESS_EVERY", 2)
    seen = []
    real_rows = exports.export_rows

    def watched(queryset, user, **kw):
        # What the progress page would read between rows: the job's row in the database.
        for row in real_rows(queryset, user, **kw):
            seen.append(ExportJob.objects.get(user=user).rows_written)
            yield row

    monkeypatch.setattr(exports, "export_rows", watched)
    client.force_login(liaison)
    job = built(client)
    assert job.status == ExportJobStatus.SELESAI and job.rows_written == BABIES
    assert seen == sorted(seen) and 0 < max(seen) < BABIES  # moved during the run, in steps
    assert len(set(seen)) < len(seen)  # not one UPDATE per row


@pytest.mark.django_db
def test_the_progress_fragment_counts_rows_in_indonesian_then_asks_for_a_reload(client, liaison):
    job = ExportJob.objects.create(
        user=liaison, kind="risiko", params={"kind": ["risiko"]}, fingerprint="x", status=ExportJobStatus.BERJALAN
    )
    ExportJob.objects.filter(pk=job.pk).update(rows_written=12_000, rows_total=100_000)
    client.force_login(liaison)
    url = reverse("enrollment:export_job_progress", args=[job.pk])
    response = client.get(url, headers={"HX-Request": "true"})
    assert "12.000 baris ditulis" in response.text and "dari 100.000" in response.text
    assert f'hx-get="{url}"' in response.text and "HX-Refresh" not in response
    page = client.get(reverse("enrollment:export_job", args=[job.pk])).text
    assert "htmx.min.js" in page and "<style" not in page and "onclick" not in page

    ExportJob.objects.filter(pk=job.pk).update(status=ExportJobStatus.SELESAI, finished_at=timezone.now())
    response = client.get(url, headers={"HX-Request": "true"})
    assert response["HX-Refresh"] == "true" and "hx-get" not in response.text


@pytest.mark.django_db
def test_a_double_click_starts_one_job_and_a_get_starts_none(client, liaison, babies):
    client.force_login(liaison)
    assert client.get(reverse("enrollment:export_xlsx")).status_code == 405
    assert not ExportJob.objects.exists()
    first = ask(client, {"kecamatan": "73.22.01"})
    second = ask(client, {"kecamatan": "73.22.01"})
    assert first == second and ExportJob.objects.count() == 1
    other_list = ask(client, {"kecamatan": "73.22.03"})
    assert other_list != first  # other filters: another file
    # Once the first has finished, the same list can be asked for again.
    ExportJob.objects.filter(pk=first.pk).update(status=ExportJobStatus.SELESAI)
    assert ask(client, {"kecamatan": "73.22.01"}) not in (first, other_list)


@pytest.mark.django_db
def test_a_search_for_a_number_is_rebuilt_for_the_worker_without_landing_in_the_log(client, liaison, babies):
    nik = babies[1].mother.nik
    client.force_login(liaison)
    listed = client.post(reverse("enrollment:worklist"), {"q": nik})
    key = listed.url.split("cari=")[1]
    job = ask(client, {"cari": key})
    assert nik not in reverse("enrollment:export_job", args=[job.pk])
    job = export_jobs.build_worklist_export(job_id=job.pk)  # the service the task calls, in this thread
    rows = sheet_rows(client.get(reverse("enrollment:export_job_download", args=[job.pk])))
    assert [r[1] for r in rows[1:]] == [babies[1].temporary_name]
    assert nik not in str(ExportLog.objects.get().filters) and job.filters["q"] == "(nomor)"


@pytest.mark.django_db(transaction=True)
def test_the_sweep_deletes_files_older_than_the_setting(client, liaison, babies, celery_worker, settings):
    settings.EXPORT_FILE_HOURS = 24
    client.force_login(liaison)
    old = built(client)
    recent = built(client, {"kecamatan": "73.22.01"})
    old_path, recent_path = Path(old.file.path), Path(recent.file.path)
    ExportJob.objects.filter(pk=old.pk).update(finished_at=timezone.now() - datetime.timedelta(hours=25))

    tasks.sweep_export_files.delay()
    wait_for(lambda: not old_path.exists())
    assert recent_path.exists()
    old.refresh_from_db()
    assert not old.file and old.params == {}  # the query (a search may hold a NIK) goes with its file
    assert client.get(reverse("enrollment:export_job_download", args=[old.pk])).status_code == 404
    assert "sudah dihapus" in client.get(reverse("enrollment:export_job", args=[old.pk])).text
    assert client.get(reverse("enrollment:export_job_download", args=[recent.pk])).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_failing_job_shows_its_error_in_indonesian_and_can_be_retried(
    client, liaison, babies, celery_worker, settings, tmp_path
):
    blocked = tmp_path / "bukan-folder"
    blocked.write_text("")  # the export folder is a file: the disk refuses the write
    settings.EXPORT_FILES_DIR = blocked
    client.force_login(liaison)
    job = built(client)
    assert job.status == ExportJobStatus.GAGAL
    page = client.get(reverse("enrollment:export_job", args=[job.pk])).text
    assert "Berkas gagal dibuat karena kesalahan di server" in page and "Coba lagi" in page
    assert reverse("enrollment:export_job_download", args=[job.pk]) not in page

    settings.EXPORT_FILES_DIR = tmp_path / "ekspor"
    response = client.post(reverse("enrollment:export_job_retry", args=[job.pk]))
    assert response.url == reverse("enrollment:export_job", args=[job.pk])
    job = wait_for(lambda: finished(job.pk))
    assert job.status == ExportJobStatus.SELESAI and job.error == ""
    assert client.get(reverse("enrollment:export_job_download", args=[job.pk])).status_code == 200


@pytest.mark.django_db
def test_a_job_whose_worker_vanished_fails_at_the_sweep_and_can_be_retried(liaison):
    stuck = ExportJob.objects.create(
        user=liaison, kind="risiko", params={"kind": ["risiko"]}, fingerprint="a", status=ExportJobStatus.BERJALAN
    )
    ExportJob.objects.filter(pk=stuck.pk).update(started_at=timezone.now() - datetime.timedelta(hours=2))
    running = ExportJob.objects.create(
        user=liaison, kind="risiko", params={"kind": ["risiko"]}, fingerprint="b", status=ExportJobStatus.BERJALAN
    )
    ExportJob.objects.filter(pk=running.pk).update(started_at=timezone.now())
    assert export_jobs.sweep_export_files().jobs_abandoned == 1
    stuck.refresh_from_db()
    running.refresh_from_db()
    assert stuck.status == ExportJobStatus.GAGAL and stuck.can_retry and "berhenti" in stuck.error
    assert running.status == ExportJobStatus.BERJALAN


@pytest.mark.django_db
@pytest.mark.both_databases
def test_the_job_page_lists_the_users_own_jobs_newest_first(client, liaison, babies):
    client.force_login(liaison)
    first = ask(client)
    export_jobs.build_worklist_export(job_id=first.pk)
    second = ask(client, {"kecamatan": "73.22.01"})
    ExportJob.objects.create(user=UserFactory(username="lain", role=Role.PETUGAS_BPJS), kind="bpjs", fingerprint="z")
    page = client.get(reverse("enrollment:export_job", args=[second.pk]))
    assert [j.pk for j in page.context["jobs"]] == [second.pk, first.pk]
    assert client.get(reverse("enrollment:export_job_download", args=[first.pk])).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url_name", "stem"),
    [
        ("enrollment:worklist", "risiko"),
        ("enrollment:worklist_reactivation", "perlu-aktivasi-ulang"),
        ("enrollment:worklist_bpjs", "bpjs-nik-terbit"),
        ("enrollment:worklist_dinsos", "dinsos-calon-pbi"),
    ],
)
def test_each_lists_button_posts_its_filters_and_the_file_keeps_the_lists_name(client, district, url_name, stem):
    client.force_login(UserFactory(role=Role.STAF_DINKES))
    page = client.get(reverse(url_name), {"kecamatan": "73.22.03"}).text
    form = re.search(r'<form method="post" action="([^"]*ekspor\.xlsx[^"]*)">', page)
    assert form and ">Unduh Excel<" in page
    client.post(form.group(1).replace("&amp;", "&"))
    job = export_jobs.build_worklist_export(job_id=ExportJob.objects.get().pk)
    assert job.filters["kecamatan"] == "73.22.03"
    response = client.get(reverse("enrollment:export_job_download", args=[job.pk]))
    assert response["Content-Disposition"] == f'attachment; filename="{stem}-{TODAY():%Y-%m-%d}.xlsx"'


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "sees"),
    [("73.22", {"IBU MASAMBA", "IBU BAEBUNTA"}), ("73.22.03", {"IBU MASAMBA"}), ("73.24", {"IBU LUWU TIMUR"})],
)
def test_the_file_holds_only_the_officers_own_area(client, two_kabupaten, code, sees):
    region = Region.objects.get(code=code)
    client.force_login(UserFactory(username=f"bpjs_{code}", role=Role.PETUGAS_BPJS, region=region))
    job = export_jobs.build_worklist_export(job_id=ask(client).pk)
    rows = sheet_rows(client.get(reverse("enrollment:export_job_download", args=[job.pk])))
    assert {r[1].removeprefix("By. Ny. ") for r in rows[1:]} == sees


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.BIDAN, Role.PETUGAS_DINSOS, Role.PETUGAS_DUKCAPIL])
def test_roles_without_the_export_capability_start_no_job(client, babies, role):
    client.force_login(BidanFactory() if role == Role.BIDAN else UserFactory(role=role))
    assert client.post(reverse("enrollment:export_xlsx")).status_code == 403
    assert not ExportJob.objects.exists() and not ExportLog.objects.exists()
