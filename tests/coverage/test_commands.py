from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from coverage.models import CoverageSnapshot, PopulationCount
from tests.coverage.files import POPULATION_HEADER, csv_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def population_file(tmp_path):
    def write(rows):
        path = tmp_path / "penduduk.csv"
        path.write_text(csv_text(POPULATION_HEADER, rows))
        return path

    return write


def test_dry_run_shows_the_preview_and_writes_nothing(district, population_file, capsys):
    path = population_file([["73.22", "Luwu Utara", "2021-S2", "329.934", "", ""]])
    call_command("import_population", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert "baru 1" in out and "tidak ada yang tersimpan" in out
    assert not PopulationCount.objects.exists()


def test_the_command_imports_and_recomputes_coverage_and_a_rerun_changes_nothing(
    district, population_file, tmp_path, capsys
):
    call_command("import_population", str(population_file([["73.22", "Luwu Utara", "2021-S2", "329.934", "", ""]])))
    participants = tmp_path / "peserta.csv"
    participants.write_text("kode_wilayah;periode;segmen;jumlah_peserta\n7322;2021-S2;PBI-APBN;244.956\n")
    call_command("import_participants", str(participants))
    assert CoverageSnapshot.objects.get(region_id="73.22", period="2021-S2").gap == 68_482
    capsys.readouterr()
    call_command("import_participants", str(participants))
    assert "Tersimpan 0 baris" in capsys.readouterr().out


def test_errors_are_printed_with_line_numbers_and_the_command_fails(district, population_file, capsys):
    path = population_file([["73.22.03.2004", "", "2021-S2", "10", "", ""], ["99.99", "", "2021-S2", "-1", "", ""]])
    with pytest.raises(CommandError, match="2 kesalahan"):
        call_command("import_population", str(path))
    err = capsys.readouterr().err
    assert "baris 3" in err and "99.99 tidak ada" in err and "negatif" in err
    assert not PopulationCount.objects.exists()


SAMPLES = Path(__file__).resolve().parents[2] / "coverage" / "samples"


@pytest.mark.parametrize(
    ("command", "sample", "period", "rows"),
    [
        ("import_population", "penduduk_desa.csv", "", 4),
        ("import_population", "penduduk_kecamatan.xlsx", "2024-S2", 3),
        ("import_participants", "peserta.csv", "", 5),
        ("import_participants", "peserta_kabupaten.xlsx", "", 5),
    ],
)
def test_the_sample_files_of_the_docs_import_cleanly(district, command, sample, period, rows, capsys):
    args = [command, str(SAMPLES / sample)] + (["--period", period] if period else [])
    call_command(*args)
    assert f"Tersimpan {rows} baris" in capsys.readouterr().out


def test_the_xlsx_sample_gives_luwu_utaras_2021_participants(district):
    call_command("import_participants", str(SAMPLES / "peserta_kabupaten.xlsx"))
    assert CoverageSnapshot.objects.get(region_id="73.22", period="2021-S2").participants == 244_956
