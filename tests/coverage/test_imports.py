import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from coverage import services
from coverage.imports import FileRejected
from coverage.models import CoverageImport, ImportKind, ImportStatus, ParticipantCount, PopulationCount
from tests.coverage.files import POPULATION_HEADER, csv_upload, xlsx_upload

pytestmark = pytest.mark.django_db


def errors_by_line(record: CoverageImport) -> dict[int, str]:
    return {e["line"]: e["message"] for e in record.errors}


def test_dotted_and_undotted_codes_and_indonesian_thousands_are_read(district, import_population):
    record = import_population(
        [
            ["73.22", "Luwu Utara", "2021-S2", "329.934", "", ""],
            ["732203", "Masamba", "2021-S2", "35.120", "17.600", "17.520"],
            ["7322032004", "Pincara", "2021-S2", "2451", "", ""],
        ]
    )
    assert record.status == ImportStatus.DONE
    assert record.rows_new == 3 and record.error_count == 0
    assert PopulationCount.objects.get(region_id="73.22").total == 329_934
    masamba = PopulationCount.objects.get(region_id="73.22.03")
    assert (masamba.total, masamba.male, masamba.female) == (35_120, 17_600, 17_520)
    assert PopulationCount.objects.get(region_id="73.22.03.2004").total == 2_451


def test_every_bad_row_is_listed_with_its_line_number_and_nothing_is_written(district, import_population):
    record = import_population(
        [
            ["73.22.03.2004", "Pincara", "2021-S2", "2.451", "", ""],  # line 2: fine
            ["73.22.99.2999", "Tidak ada", "2021-S2", "100", "", ""],  # 3: unknown region
            ["73.22.03.2005", "Balebo", "2021-S2", "-5", "", ""],  # 4: negative
            ["73.22.03.2007", "Pombakka", "2021-S2", "banyak", "", ""],  # 5: not a number
            ["7322032004", "Pincara lagi", "2021-S2", "2.452", "", ""],  # 6: duplicate of line 2
            ["73.22.03.2008", "Rompu", "2021 semester 2", "100", "", ""],  # 7: bad period
            ["73.22.03.2009", "Lantang Tallang", "2021-S2", "1,5", "", ""],  # 8: decimal
            ["73.22.03.2010", "Lapapa", "2021-S2", "100", "60", "50"],  # 9: sexes do not add up
            ["abc", "?", "2021-S2", "100", "", ""],  # 10: not a code
        ]
    )
    assert record.status == ImportStatus.INVALID
    assert not record.can_commit
    lines = errors_by_line(record)
    assert sorted(lines) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "73.22.99.2999 tidak ada dalam daftar wilayah" in lines[3]
    assert "tidak boleh negatif" in lines[4]
    assert "bukan bilangan bulat" in lines[5] and "banyak" in lines[5]
    assert "Baris ganda" in lines[6] and "baris 2" in lines[6]
    assert "Periode" in lines[7]
    assert "bukan bilangan bulat" in lines[8]
    assert "tidak sama dengan jumlah penduduk" in lines[9]
    assert "tidak berbentuk kode Kemendagri" in lines[10]
    assert record.error_count == 8 and record.rows_new == 1  # line 2 would be added, once the rest is fixed
    assert not PopulationCount.objects.exists()
    # A file with errors cannot be committed, even by calling the service directly.
    outcome = services.commit_import(import_id=record.pk, schedule_rollup=False)
    assert outcome.written == 0 and outcome.record.status == ImportStatus.INVALID
    assert not PopulationCount.objects.exists()


def test_participant_errors_name_the_segment_and_active_above_total(district, import_participants):
    record = import_participants(
        [
            ["73.22.03", "2024-S2", "PBI APBN", "10.000", "9.000"],  # 2: fine (segment spelled with a space)
            ["73.22.03", "2024-S2", "ASURANSI", "10", "5"],  # 3: unknown segment
            ["73.22.03", "2024-S2", "PPU", "100", "150"],  # 4: active above total
            ["73.22.03", "2024-S2", "PBI-APBN", "1", "1"],  # 5: duplicate of line 2
            ["73.22.03", "2024-S2", "PBPU", "", ""],  # 6: empty count
        ]
    )
    lines = errors_by_line(record)
    assert sorted(lines) == [3, 4, 5, 6]
    assert "Segmen" in lines[3] and "ASURANSI" in lines[3]
    assert "melebihi" in lines[4]
    assert "baris 2" in lines[5]
    assert "kosong" in lines[6]
    assert not ParticipantCount.objects.exists()


@pytest.mark.both_databases
def test_preview_counts_rows_to_add_and_change_then_commit_writes_them_all(district, import_population):
    import_population(
        [["73.22.03.2004", "", "2024-S2", "1000", "", ""], ["73.22.03.2005", "", "2024-S2", "800", "", ""]]
    )
    record = import_population(
        [
            ["73.22.03.2004", "", "2024-S2", "1000", "", ""],  # unchanged
            ["73.22.03.2005", "", "2024-S2", "850", "", ""],  # changed
            ["73.22.03.2007", "", "2024-S2", "700", "", ""],  # new
        ],
        commit=False,
    )
    assert record.status == ImportStatus.PREVIEWED
    assert (record.rows_new, record.rows_changed, record.rows_unchanged) == (1, 1, 1)
    assert record.periods == ["2024-S2"]
    assert PopulationCount.objects.get(region_id="73.22.03.2005").total == 800  # a preview writes nothing
    outcome = services.commit_import(import_id=record.pk, schedule_rollup=False)
    assert outcome.record.status == ImportStatus.DONE and outcome.written == 2
    assert PopulationCount.objects.get(region_id="73.22.03.2005").total == 850
    assert PopulationCount.objects.count() == 3


def test_importing_the_same_file_again_changes_nothing(district, import_participants):
    rows = [["73.22.03", "2024-S2", "PBI-APBN", "10.000", "9.000"], ["73.22.03", "2024-S2", "PPU", "500", ""]]
    first = import_participants(rows)
    stamps = dict(ParticipantCount.objects.values_list("segment", "updated_at"))
    second = import_participants(rows, commit=False)
    assert (second.rows_new, second.rows_changed, second.rows_unchanged) == (0, 0, 2)
    outcome = services.commit_import(import_id=second.pk, schedule_rollup=False)
    assert first.status == outcome.record.status == ImportStatus.DONE
    assert outcome.written == 0
    assert dict(ParticipantCount.objects.values_list("segment", "updated_at")) == stamps


@pytest.mark.both_databases
def test_the_commit_is_all_or_nothing_when_the_database_refuses_a_row(district, import_population, monkeypatch):
    record = import_population(
        [["73.22.03.2004", "", "2024-S2", "1000", "", ""], ["73.22.03.2005", "", "2024-S2", "800", "", ""]],
        commit=False,
    )
    from coverage import bulk

    real_upsert = bulk.upsert_from_stage

    def upsert_then_fail(cursor, **kwargs):
        real_upsert(cursor, **kwargs)
        raise RuntimeError("disk penuh")

    monkeypatch.setattr(bulk, "upsert_from_stage", upsert_then_fail)
    outcome = services.commit_import(import_id=record.pk, schedule_rollup=False)
    assert outcome.record.status == ImportStatus.FAILED
    assert "tidak ada yang tersimpan" in outcome.record.message
    assert not PopulationCount.objects.exists()


def test_xlsx_with_typed_numbers_and_a_default_period(district, run_import):
    upload = xlsx_upload(
        ["Kode Wilayah", "Nama Wilayah", "Jumlah Penduduk"],
        [[7322032004, "Pincara", 2451], ["73.22.03.2005", "Balebo", "1.204"], ["73.22.03.2007", "Pombakka", 12.5]],
    )
    record = run_import(ImportKind.POPULATION, None, None, upload=upload, period="2021-S2")
    assert errors_by_line(record).keys() == {4}
    assert "12,5" in errors_by_line(record)[4]
    fixed = xlsx_upload(["Kode Wilayah", "Jumlah Penduduk"], [[7322032004, 2451], ["73.22.03.2005", "1.204"]])
    record = run_import(ImportKind.POPULATION, None, None, upload=fixed, period="2021-S2")
    assert record.status == ImportStatus.DONE
    assert dict(PopulationCount.objects.values_list("region_id", "total")) == {
        "73.22.03.2004": 2451,
        "73.22.03.2005": 1204,
    }


def test_semicolon_separated_csv_from_excel_is_read(district, run_import):
    upload = csv_upload(POPULATION_HEADER, [["73.22.03.2004", "Pincara", "2021-S2", "2.451", "", ""]], sep=";")
    assert run_import(ImportKind.POPULATION, None, None, upload=upload).status == ImportStatus.DONE


def test_a_file_without_a_required_column_is_refused_with_the_columns_it_has(district, run_import):
    upload = csv_upload(["kode_wilayah", "periode", "jumlah_peserta"], [["73.22.03", "2024-S2", "100"]])
    record = run_import(ImportKind.PARTICIPANTS, None, None, upload=upload)
    assert record.status == ImportStatus.INVALID
    assert "segmen" in record.message and "jumlah_peserta" in record.message


def test_a_file_without_periods_needs_a_default_period(district, run_import):
    upload = csv_upload(["kode_wilayah", "jumlah_penduduk"], [["73.22.03", "100"]])
    record = run_import(ImportKind.POPULATION, None, None, upload=upload)
    assert record.status == ImportStatus.INVALID and "periode bawaan" in record.message


def test_oversize_uploads_and_other_file_types_are_refused(district, settings):
    settings.COVERAGE_IMPORT_MAX_BYTES = 100
    big = csv_upload(POPULATION_HEADER, [["73.22.03.2004", "Pincara", "2021-S2", "2451", "", ""]] * 10)
    with pytest.raises(FileRejected, match="terlalu besar"):
        services.start_import(kind=ImportKind.POPULATION, uploaded=big, by=None)
    with pytest.raises(FileRejected, match="CSV atau XLSX"):
        services.start_import(kind=ImportKind.POPULATION, uploaded=SimpleUploadedFile("x.exe", b"MZ"), by=None)
    assert not CoverageImport.objects.exists()


def test_an_xlsx_that_unpacks_too_large_is_refused(district, settings):
    settings.COVERAGE_IMPORT_MAX_XLSX_UNPACKED_BYTES = 1024 * 1024
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (5 * 1024 * 1024))
    bomb = SimpleUploadedFile("bom.xlsx", buffer.getvalue())
    assert bomb.size < 50_000
    with pytest.raises(FileRejected, match="setelah dibuka"):
        services.start_import(kind=ImportKind.POPULATION, uploaded=bomb, by=None)


@pytest.mark.both_databases
def test_the_staging_path_for_other_databases_gives_the_same_result(district, import_population, monkeypatch):
    """SQLite (the embedded default) fills staging with batched inserts, PostgreSQL with COPY: same outcome."""
    from coverage import bulk

    monkeypatch.setattr(bulk, "_use_copy", lambda: False)
    monkeypatch.setattr(bulk, "BATCH_SIZE", 2)
    rows = [
        [f"73.22.03.{c}", "", "2024-S2", str(100 + i), "", ""]
        for i, c in enumerate(["2004", "2005", "2007", "2008", "2009"])
    ]
    record = import_population(rows)
    assert record.status == ImportStatus.DONE
    assert PopulationCount.objects.count() == 5
