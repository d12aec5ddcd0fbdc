"""One reader for every uploaded spreadsheet: a coverage import and a BPJS reconciliation read the same file
the same way, and refuse the same broken file with the same Indonesian sentence."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from coverage import imports, services
from coverage.models import ImportKind, ImportStatus, PopulationCount
from enrollment import reconciliation
from sejagad import spreadsheets
from sejagad.models import Region
from tests.coverage.files import zip_without_a_workbook

pytestmark = pytest.mark.django_db

# Both kinds' columns in one header, so that each reader finds what it needs and the rows decide.
BOTH_HEADER = "kode_wilayah,jumlah_penduduk,nomor_kartu,nik,nama,tanggal_lahir,status,tanggal_update"
GOOD_ROW = "73.22.03.2004,2451,0001111111111,7322030101240001,By. Ny. Siti,2024-01-01,AKTIF,2024-02-01"


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def coverage_refusal(content: bytes, name: str) -> str:
    """Refused at the upload (type, size, zip index) or by the worker's reading, as the page shows it."""
    try:
        record = services.start_import(kind=ImportKind.POPULATION, uploaded=SimpleUploadedFile(name, content), by=None)
    except spreadsheets.UploadRejected as refused:
        return refused.message
    record = services.preview_import(import_id=record.pk)
    assert record.status == ImportStatus.INVALID
    return record.message


def reconciliation_refusal(content: bytes, name: str) -> str:
    with pytest.raises(spreadsheets.UploadRejected) as refused:
        reconciliation.read_rows(SimpleUploadedFile(name, content))
    return refused.value.message


@pytest.mark.parametrize(
    "content, name, message",
    [
        (b"", "a.csv", "Berkas kosong: tidak ada baris judul kolom."),
        (b"\xef\xbb\xbf\n", "a.csv", "Berkas kosong: tidak ada baris judul kolom."),
        (b"kode_wilayah,nik\n\x81\x8d\x90,1\n", "a.csv", "Berkas bukan teks UTF-8; simpan ulang sebagai CSV UTF-8."),
        (
            BOTH_HEADER.encode("utf-16-le"),
            "a.csv",
            "Berkas ini bukan teks CSV biasa (mungkin UTF-16 tanpa penanda BOM); simpan ulang sebagai CSV UTF-8.",
        ),
        (
            f"{BOTH_HEADER}\n{GOOD_ROW}\n{GOOD_ROW},lebih\n".encode(),
            "a.csv",
            "Baris 3: jumlah kolom tidak sesuai (9, seharusnya 8).",
        ),
        (
            f'{BOTH_HEADER}\n{GOOD_ROW}\n\n"73.22.03.2005,1\n'.encode(),
            "a.csv",
            'Baris 4: tanda kutip (") dibuka tetapi tidak ditutup.',
        ),
        (
            ("kode_wilayah," + "x" * 30_000 + "\n1,2\n").encode(),
            "a.csv",
            "Baris 1 (judul kolom) terlalu panjang: 30.013 karakter, paling banyak 20.000. Periksa berkasnya.",
        ),
        (
            (",".join(f"k{n}" for n in range(250)) + "\n").encode(),
            "a.csv",
            "Baris 1 (judul kolom) memiliki 250 kolom; paling banyak 200.",
        ),
        (b"PK\x03\x04 bukan zip", "a.xlsx", "Berkas XLSX ini rusak atau bukan XLSX."),
        (
            zip_without_a_workbook().read(),
            "a.xlsx",
            "Berkas XLSX tidak dapat dibaca; buka di Excel lalu simpan ulang sebagai XLSX.",
        ),
        (b"MZ", "a.exe", "Hanya berkas CSV atau XLSX yang dapat diunggah."),
    ],
    ids=[
        "empty",
        "only-a-byte-order-mark",
        "not-utf8",
        "utf16-without-mark",
        "extra-column",
        "open-quote",
        "huge-header",
        "too-many-columns",
        "not-a-zip",
        "zip-without-workbook",
        "other-type",
    ],
)
def test_a_broken_file_gets_the_same_refusal_from_a_coverage_import_and_a_reconciliation(
    district, content, name, message
):
    from_coverage = coverage_refusal(content, name)

    assert from_coverage == message
    assert reconciliation_refusal(content, name) == message
    assert not PopulationCount.objects.exists()


def test_a_file_without_its_columns_is_refused_for_them_before_a_short_row_further_down(district):
    content = b"kolom_lain,keterangan\n1,2\n1,2,3\n"

    assert coverage_refusal(content, "a.csv").startswith("Kolom wajib tidak ada: kode_wilayah, jumlah_penduduk.")
    assert reconciliation_refusal(content, "a.csv").startswith("Kolom wajib tidak ada: nomor_kartu, nik, nama")


def test_the_same_column_twice_is_refused_by_both(district):
    content = f"{BOTH_HEADER},NIK,Jumlah Penduduk\n{GOOD_ROW},1,2\n".encode()

    assert coverage_refusal(content, "a.csv") == "Kolom jumlah_penduduk ada lebih dari sekali; sisakan satu."
    assert reconciliation_refusal(content, "a.csv") == "Kolom nik ada lebih dari sekali; sisakan satu."


def test_identity_numbers_keep_their_zeros_and_rows_keep_their_line_numbers_past_blank_lines():
    content = b"nik;nama\n0012345678901234;Siti\n\n  \n0000000000000001; Aminah \n"

    frame = spreadsheets.read_table(io.BytesIO(content), name="a.csv", max_unpacked_bytes=1024)

    assert list(frame.columns) == ["nik", "nama"]
    assert frame.index.tolist() == [2, 5]
    assert frame.to_numpy(dtype=object).tolist() == [["0012345678901234", "Siti"], ["0000000000000001", "Aminah"]]


def test_a_coverage_error_after_a_blank_line_names_the_line_the_spreadsheet_shows(district):
    content = b"kode_wilayah,periode,jumlah_penduduk\n73.22.03.2004,2021-S2,10\n\n73.22.03.2005,2021-S2,abc\n"

    record = services.start_import(kind=ImportKind.POPULATION, uploaded=SimpleUploadedFile("a.csv", content), by=None)
    record = services.preview_import(import_id=record.pk)

    assert [(e["line"], e["message"]) for e in record.errors] == [(4, "jumlah_penduduk bukan bilangan bulat: “abc”.")]


def test_typed_workbook_cells_are_read_as_the_text_people_typed():
    book = Workbook()
    book.active.append(["nomor_kartu", "tanggal_update", "jumlah", "kode"])
    book.active.append([1111111111, datetime.datetime(2024, 2, 1, 8, 30), 1.5, "0012"])  # noqa: DTZ001 - a cell has no zone
    out = io.BytesIO()
    book.save(out)
    out.seek(0)

    frame = spreadsheets.read_table(out, name="a.xlsx", max_unpacked_bytes=10 * 1024 * 1024)

    assert frame.to_numpy(dtype=object).tolist() == [["1111111111", "2024-02-01", "1,5", "0012"]]


def test_a_reconciliation_and_a_coverage_import_refuse_a_file_too_large_by_their_own_limit(district, settings):
    settings.RECONCILIATION_MAX_UPLOAD_BYTES = 1024 * 1024
    settings.COVERAGE_IMPORT_MAX_BYTES = 2 * 1024 * 1024
    content = f"{BOTH_HEADER}\n".encode() + f"{GOOD_ROW}\n".encode() * 20_000  # about 1.7 MB

    assert reconciliation_refusal(content, "a.csv") == "Berkas terlalu besar (1.7 MB); batasnya 1 MB."
    record = services.start_import(kind=ImportKind.POPULATION, uploaded=SimpleUploadedFile("a.csv", content), by=None)
    assert record.pk


# --- The commit reuses the preview's reading -----------------------------------------------------

POPULATION = b"kode_wilayah,periode,jumlah_penduduk\n73.22.03.2004,2024-S2,1000\n73.22.03.2005,2024-S2,800\n"


@pytest.fixture
def reads(monkeypatch):
    """How many times the file itself is read."""
    calls = []
    read_table = imports.read_table
    monkeypatch.setattr(imports, "read_table", lambda *a, **kw: (calls.append(1), read_table(*a, **kw))[1])
    return calls


def test_the_commit_writes_what_the_preview_checked_without_reading_the_file_again(district, reads):
    record = services.start_import(
        kind=ImportKind.POPULATION, uploaded=SimpleUploadedFile("a.csv", POPULATION), by=None
    )
    record = services.preview_import(import_id=record.pk)
    assert len(reads) == 1

    outcome = services.commit_import(import_id=record.pk, schedule_rollup=False)

    assert outcome.record.status == ImportStatus.DONE
    assert len(reads) == 1
    assert sorted(PopulationCount.objects.values_list("region_id", "total")) == [
        ("73.22.03.2004", 1000),
        ("73.22.03.2005", 800),
    ]


def test_the_commit_reads_the_file_again_when_the_regions_changed_since_the_preview(district, reads):
    record = services.start_import(
        kind=ImportKind.POPULATION, uploaded=SimpleUploadedFile("a.csv", POPULATION), by=None
    )
    record = services.preview_import(import_id=record.pk)
    Region.objects.filter(code="73.22.03.2005").delete()

    outcome = services.commit_import(import_id=record.pk, schedule_rollup=False)

    assert len(reads) == 2
    assert outcome.record.status == ImportStatus.INVALID
    assert not PopulationCount.objects.exists()
