import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from coverage.demo import seed_demo_coverage
from coverage.models import CoverageImport, ImportStatus, ParticipantCount, PopulationCount
from coverage.services import compute_coverage
from sejagad.models import Region
from sejagad.roles import Role
from tests.coverage.files import PARTICIPANT_HEADER, POPULATION_HEADER, csv_upload
from tests.factories import BidanFactory, UserFactory

pytestmark = pytest.mark.django_db
TABLE = reverse("coverage:table")


@pytest.fixture
def luwu_2021(district):
    PopulationCount.objects.create(region_id="73.22", period="2021-S2", total=329_934)
    ParticipantCount.objects.create(region_id="73.22", period="2021-S2", segment="PBI-APBN", total=244_956)
    compute_coverage()


@pytest.fixture
def demo(district):
    seed_demo_coverage()


def test_the_table_shows_luwu_utara_in_indonesian_number_format(client, staff, luwu_2021):
    client.force_login(staff)
    page = client.get(TABLE)
    assert page.status_code == 200
    text = page.text
    assert "329.934" in text and "244.956" in text
    assert "74,24 %" in text
    assert "68.482" in text
    assert "Belum UHC" in text
    assert "kurang 20,76 poin" in text
    # Its kecamatan have no figures of their own: shown as missing, never as 0 %.
    assert "data belum tersedia" in text
    assert "0,00 %" not in text


def test_drill_down_from_kabupaten_to_kecamatan_to_desa(client, staff, demo):
    client.force_login(staff)
    kabupaten = client.get(TABLE, {"periode": "2024-S2"})
    masamba_link = "?wilayah=73.22.03&amp;periode=2024-S2"
    assert masamba_link in kabupaten.text
    kecamatan = client.get(TABLE, {"wilayah": "73.22.03", "periode": "2024-S2"})
    assert kecamatan.status_code == 200
    rows = kecamatan.context["table"].rows
    assert {r.region.code for r in rows} == set(
        Region.objects.filter(parent_id="73.22.03").values_list("code", flat=True)
    )
    assert "Pincara" in kecamatan.text and "Luwu Utara" in kecamatan.text  # breadcrumb back up
    assert kecamatan.context["table"].total.snapshot.population == sum(r.snapshot.population for r in rows)


def test_sorting_by_coverage_puts_the_lowest_first_and_can_reverse(client, staff, demo):
    client.force_login(staff)
    ascending = client.get(TABLE, {"periode": "2024-S2", "urut": "cakupan"}).context["table"].rows
    values = [r.snapshot.coverage_pct for r in ascending]
    assert values == sorted(values)
    descending = client.get(TABLE, {"periode": "2024-S2", "urut": "-cakupan"}).context["table"].rows
    assert [r.snapshot.coverage_pct for r in descending] == sorted(values, reverse=True)
    by_gap = client.get(TABLE, {"periode": "2024-S2", "urut": "-kekurangan"}).context["table"].rows
    assert by_gap[0].snapshot.gap == max(r.snapshot.gap for r in by_gap)


def test_the_table_query_count_does_not_grow_with_the_number_of_regions(client, staff, demo):
    client.force_login(staff)
    assert Region.objects.filter(parent_id="73.22.03").count() > 3 * Region.objects.filter(parent_id="73.22.09").count()

    def queries(**params):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(TABLE, {"periode": "2024-S2", **params}).status_code == 200
        return len(captured)

    assert queries() == 8  # the kabupaten and its 15 kecamatan
    # A kecamatan adds the region and the breadcrumb: Masamba's 19 desa cost what Rampi's 6 cost.
    assert queries(wilayah="73.22.03") == queries(wilayah="73.22.09") == 10


def test_a_region_outside_the_users_area_is_not_found(client, district, mukomuko):
    user = UserFactory(role=Role.STAF_DINKES, region=Region.objects.get(code="73.22.03"))
    client.force_login(user)
    assert client.get(TABLE, {"wilayah": "73.22.04"}).status_code == 404
    assert client.get(TABLE, {"wilayah": "17.06"}).status_code == 404
    assert client.get(TABLE, {"wilayah": "73.22.03.2004"}).status_code == 200


def test_pages_need_the_coverage_capabilities(client, district):
    assert client.get(TABLE).status_code == 302  # to the login page
    client.force_login(BidanFactory())
    assert client.get(TABLE).status_code == 403
    dinsos = UserFactory(role=Role.PETUGAS_DINSOS)
    client.force_login(dinsos)
    assert client.get(TABLE).status_code == 200
    assert client.get(reverse("coverage:imports")).status_code == 403


def test_no_data_yet_invites_an_import(client, staff):
    client.force_login(staff)
    page = client.get(TABLE)
    assert "Belum ada data cakupan" in page.text
    assert reverse("coverage:imports") in page.text


def test_trend_lists_every_semester_with_its_change(client, staff, demo):
    client.force_login(staff)
    page = client.get(reverse("coverage:trend"), {"wilayah": "73.22"})
    assert page.status_code == 200
    points = page.context["points"]
    assert [p.period for p in points] == ["2021-S2", "2022-S1", "2022-S2", "2023-S1", "2023-S2", "2024-S1", "2024-S2"]
    assert points[0].change_points is None and all(p.change_points > 0 for p in points[1:])
    assert "74,24 %" in page.text and "+3,60 poin" in page.text


def test_export_csv_and_xlsx_hold_the_table(client, staff, demo):
    client.force_login(staff)
    response = client.get(reverse("coverage:export"), {"periode": "2021-S2", "format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode("utf-8-sig"))))
    assert len(rows) == 16  # the kabupaten and its 15 kecamatan
    assert rows[0]["kode_wilayah"] == "73.22" and rows[0]["jumlah_penduduk"] == "329934"
    assert rows[0]["cakupan_persen"] == "74.24" and rows[0]["kekurangan_peserta"] == "68482"
    xlsx = client.get(reverse("coverage:export"), {"periode": "2021-S2", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = list(sheet.values)
    assert values[1][0] == "73.22" and values[1][4] == 329_934 and len(values) == 17


def test_upload_preview_then_commit_from_the_pages(client, staff):
    client.force_login(staff)
    upload = csv_upload(POPULATION_HEADER, [["73.22", "Luwu Utara", "2021-S2", "329.934", "", ""]], name="dkb.csv")
    response = client.post(reverse("coverage:imports"), {"kind": "population", "file": upload}, follow=True)
    record = CoverageImport.objects.get()
    assert record.status == ImportStatus.PREVIEWED and record.uploaded_by == staff
    assert "Pratinjau" in response.text and "Simpan 1 baris" in response.text
    assert not PopulationCount.objects.exists()
    done = client.post(reverse("coverage:import_commit", args=[record.pk]), follow=True)
    assert "Tersimpan: 1 baris baru" in done.text
    assert PopulationCount.objects.get().total == 329_934


def test_an_upload_with_errors_shows_each_line_and_offers_no_commit(client, staff):
    client.force_login(staff)
    upload = csv_upload(PARTICIPANT_HEADER, [["73.22", "2021-S2", "PBI-APBN", "-3", ""]])
    response = client.post(reverse("coverage:imports"), {"kind": "participants", "file": upload}, follow=True)
    assert "1 kesalahan" in response.text and "tidak boleh negatif" in response.text
    assert '<td class="text-end">2</td>' in response.text
    assert "Simpan" not in response.text
    record = CoverageImport.objects.get()
    client.post(reverse("coverage:import_commit", args=[record.pk]))
    assert not ParticipantCount.objects.exists()


def test_a_refused_file_is_explained_on_the_form(client, staff, settings):
    settings.COVERAGE_IMPORT_MAX_BYTES = 10
    client.force_login(staff)
    upload = csv_upload(POPULATION_HEADER, [["73.22", "Luwu Utara", "2021-S2", "329.934", "", ""]])
    response = client.post(reverse("coverage:imports"), {"kind": "population", "file": upload})
    assert response.status_code == 200 and "terlalu besar" in response.text
    assert not CoverageImport.objects.exists()


def test_a_large_upload_goes_to_the_worker_and_the_page_polls_its_progress(
    client, staff, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from coverage import tasks

    settings.COVERAGE_IMPORT_SYNC_MAX_BYTES = 10
    queued = []
    monkeypatch.setattr(tasks.preview_import, "delay", lambda pk: queued.append(pk))
    client.force_login(staff)
    upload = csv_upload(POPULATION_HEADER, [["73.22", "Luwu Utara", "2021-S2", "329.934", "", ""]])
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(reverse("coverage:imports"), {"kind": "population", "file": upload}, follow=True)
    record = CoverageImport.objects.get()
    assert queued == [record.pk]
    assert "Menunggu pemeriksaan" in page.text and 'hx-trigger="every 1s"' in page.text
    CoverageImport.objects.filter(pk=record.pk).update(status=ImportStatus.VALIDATING, progress=40)
    fragment = client.get(reverse("coverage:import_progress", args=[record.pk]), headers={"HX-Request": "true"})
    assert "40 %" in fragment.text and "HX-Refresh" not in fragment
    CoverageImport.objects.filter(pk=record.pk).update(status=ImportStatus.PREVIEWED, progress=100)
    fragment = client.get(reverse("coverage:import_progress", args=[record.pk]), headers={"HX-Request": "true"})
    assert fragment["HX-Refresh"] == "true"


def test_region_names_a_spreadsheet_would_run_are_escaped_in_the_export(client, staff, luwu_2021):
    # A name edited in the admin could start with a formula trigger, a carriage return included.
    Region.objects.filter(code="73.22.03").update(name='=HYPERLINK("http://contoh.invalid","Masamba")')
    Region.objects.filter(code="73.22.11").update(name="\r=1+1")
    client.force_login(staff)
    response = client.get(reverse("coverage:export"), {"periode": "2021-S2", "format": "csv"})
    names = {
        row["kode_wilayah"]: row["nama_wilayah"]
        for row in csv.DictReader(io.StringIO(response.getvalue().decode("utf-8-sig")))
    }
    assert names["73.22.03"] == '\'=HYPERLINK("http://contoh.invalid","Masamba")'
    assert names["73.22.11"] == "'\r=1+1"
    xlsx = client.get(reverse("coverage:export"), {"periode": "2021-S2", "format": "xlsx"})
    cells = {row[0]: row[1] for row in load_workbook(io.BytesIO(xlsx.content)).active.values}
    assert cells["73.22.03"].startswith("'=")
    assert cells["73.22.11"].startswith("'")  # the sheet stores the carriage return as a line break
