"""Files that are not what they claim: NUL bytes, other encodings, broken rows and workbooks, huge headers.

Each is refused with a short Indonesian message (line numbers where known), nothing is written, and no
import is left half done."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from tablib import Dataset

from coverage import imports
from coverage.models import CoverageImport, ImportKind, ImportStatus, PopulationCount
from coverage.resources import PopulationResource
from sejagad.roles import Role
from sejagad.text import MAX_MESSAGE_CHARS
from tests.coverage.files import (
    PARTICIPANT_HEADER,
    POPULATION_HEADER,
    bytes_upload,
    csv_text,
    csv_upload,
    csv_upload_in,
    xlsx_upload_patched,
    zip_without_a_workbook,
)
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PINCARA = ["73.22.03.2004", "Pincara", "2021-S2", "2451", "", ""]
BALEBO = ["73.22.03.2005", "Balebo", "2021-S2", "1204", "", ""]
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def population(run_import, upload, **kwargs):
    return run_import(ImportKind.POPULATION, None, None, upload=upload, **kwargs)


def errors_by_line(record: CoverageImport) -> dict[int, str]:
    return {e["line"]: e["message"] for e in record.errors}


@pytest.mark.parametrize("column", [0, 1, 3])
def test_a_nul_byte_in_a_cell_fails_its_row_with_a_message_and_saves_nothing(district, import_population, column):
    bad = list(BALEBO)
    bad[column] = bad[column][:3] + "\x00" + bad[column][3:]

    record = import_population([PINCARA, bad])

    assert record.status == ImportStatus.INVALID
    assert errors_by_line(record) == {3: "Sel berisi karakter tidak sah (NUL)."}
    assert record.error_count == 1
    assert not PopulationCount.objects.exists()


def test_other_control_characters_in_a_cell_are_refused_by_name(district, import_population):
    record = import_population([PINCARA, ["73.22.03.2005", "Bale\x07bo", "2021-S2", "1204", "", ""]])

    assert errors_by_line(record) == {3: "Sel berisi karakter tidak sah (U+0007)."}


@pytest.mark.parametrize("byte", [b"\x00", b"\x07"])
def test_an_xlsx_with_a_control_byte_in_its_sheet_is_refused_without_internals(district, run_import, byte):
    upload = xlsx_upload_patched(
        ["kode_wilayah", "periode", "jumlah_penduduk"], [["73.22", "2021-S2", "12"]], b"12", byte
    )

    record = population(run_import, upload)

    assert record.status == ImportStatus.INVALID
    assert record.message == "Berkas XLSX tidak dapat dibaca; buka di Excel lalu simpan ulang sebagai XLSX."
    assert not PopulationCount.objects.exists()


@pytest.mark.parametrize(
    "digits",
    [
        str.maketrans("0123456789", "０１２３４５６７８９"),
        str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"),
        str.maketrans("0123456789", "०१२३४५६७८९"),
    ],
    ids=["full-width", "arabic", "devanagari"],
)
def test_codes_counts_and_periods_in_other_digits_are_read_as_ascii(district, import_population, digits):
    record = import_population([[cell.translate(digits) for cell in PINCARA]])

    assert record.status == ImportStatus.DONE, record.errors
    assert list(PopulationCount.objects.values_list("region_id", "period", "total")) == [
        ("73.22.03.2004", "2021-S2", 2451)
    ]


def test_a_superscript_in_a_count_is_not_a_number(district, import_population):
    record = import_population([["73.22.03.2004", "Pincara", "2021-S2", "245¹", "", ""]])

    assert "bukan bilangan bulat" in errors_by_line(record)[2]
    assert not PopulationCount.objects.exists()


def test_a_count_too_large_for_any_district_is_an_error_on_its_line(district, import_population):
    record = import_population([PINCARA, ["73.22.03.2005", "Balebo", "2021-S2", "9" * 30, "", ""]])

    assert record.status == ImportStatus.INVALID
    assert "terlalu besar" in errors_by_line(record)[3]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig", "cp1252"])
def test_utf16_utf32_utf8_and_windows_files_are_read_with_their_headers(district, run_import, encoding):
    text = csv_text(POPULATION_HEADER, [PINCARA])
    if encoding == "utf-16-be":
        raw = b"\xfe\xff" + text.encode("utf-16-be")
    else:
        raw = text.encode(encoding)
    record = population(run_import, bytes_upload(raw))

    assert record.status == ImportStatus.DONE, record.message
    assert PopulationCount.objects.get().total == 2451


def test_a_participant_file_saved_as_utf16_by_excel_is_read(district, run_import):
    upload = csv_upload_in("utf-16", PARTICIPANT_HEADER, [["73.22.03", "2021-S2", "PBI-APBN", "100", "90"]])

    record = run_import(ImportKind.PARTICIPANTS, None, None, upload=upload)

    assert record.status == ImportStatus.DONE, record.message


@pytest.mark.parametrize(
    "raw, message",
    [
        (
            b"kode_wilayah,jumlah_penduduk\n73.22,\x81\x8d\x90\n",
            "Berkas bukan teks UTF-8; simpan ulang sebagai CSV UTF-8.",
        ),
        (
            csv_text(POPULATION_HEADER, [PINCARA]).encode("utf-16-le"),
            "Berkas ini bukan teks CSV biasa (mungkin UTF-16 tanpa penanda BOM); simpan ulang sebagai CSV UTF-8.",
        ),
        (b"", "Berkas kosong: tidak ada baris judul kolom."),
    ],
    ids=["invalid-bytes", "utf16-without-bom", "empty"],
)
def test_a_file_that_is_not_readable_text_is_refused_with_an_indonesian_message(district, run_import, raw, message):
    record = population(run_import, bytes_upload(raw))

    assert record.status == ImportStatus.INVALID
    assert record.message == message
    assert not PopulationCount.objects.exists()


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "kode_wilayah,jumlah_penduduk\n73.22.03.2004,2451\n73.22.03.2005,12,04\n",
            "Baris 3: jumlah kolom tidak sesuai (3, seharusnya 2).",
        ),
        ('kode_wilayah,jumlah_penduduk\n73.22.03.2004,2451\n73.22.03.2005,"1204\n', 'Baris 3: tanda kutip (") dibuka'),
    ],
    ids=["extra-column", "open-quote"],
)
def test_a_malformed_row_is_named_by_its_line(district, run_import, text, message):
    record = population(run_import, bytes_upload(text.encode()), period="2021-S2")

    assert record.status == ImportStatus.INVALID
    assert record.message.startswith(message)
    assert "C error" not in record.message and "tokenizing" not in record.message


def test_a_zip_that_is_not_a_workbook_is_refused_without_internals(district, run_import):
    record = population(run_import, zip_without_a_workbook())

    assert record.status == ImportStatus.INVALID
    assert record.message == "Berkas XLSX tidak dapat dibaca; buka di Excel lalu simpan ulang sebagai XLSX."


def test_a_megabyte_header_row_is_refused_with_a_short_message(district, run_import):
    header = "kode_wilayah," + "x" * (1024 * 1024)

    record = population(run_import, bytes_upload(f"{header}\n73.22,1\n".encode()))

    assert record.status == ImportStatus.INVALID
    assert record.message.startswith("Baris 1 (judul kolom) terlalu panjang")
    assert len(record.message) <= MAX_MESSAGE_CHARS
    assert record.errors == []


def test_many_long_column_names_are_quoted_short_when_a_column_is_missing(district, run_import):
    header = [f"kolom_{n}_" + "x" * 500 for n in range(30)]

    record = population(run_import, csv_upload(header, [["1"] * 30]))

    assert record.status == ImportStatus.INVALID
    assert record.message.startswith(
        "Kolom wajib tidak ada: kode_wilayah, jumlah_penduduk. Kolom yang terbaca: kolom_0_"
    )
    assert len(record.message) <= MAX_MESSAGE_CHARS


def test_too_many_columns_are_refused(district, run_import):
    record = population(run_import, csv_upload([f"k{n}" for n in range(500)], [["1"] * 500]))

    assert record.message == "Baris 1 (judul kolom) memiliki 500 kolom; paling banyak 200."


def test_a_huge_cell_is_quoted_short_in_its_error(district, import_population):
    record = import_population([PINCARA, ["7" * 200_000, "Balebo", "2021-S2", "1204", "", ""]])

    message = errors_by_line(record)[3]
    assert message.startswith("Kode wilayah “7777")
    assert len(message) <= MAX_MESSAGE_CHARS


def test_stored_errors_are_capped_however_many_rows_fail(district, import_population):
    record = import_population([["abc", "", "2021-S2", "1", "", ""]] * (imports.MAX_STORED_ERRORS + 50))

    assert record.error_count == imports.MAX_STORED_ERRORS + 50
    assert len(record.errors) == imports.MAX_STORED_ERRORS


def test_the_same_column_twice_is_refused_by_name(district, run_import):
    upload = csv_upload(["Kode Wilayah", "kode_wilayah", "jumlah_penduduk"], [["73.22", "73.22", "1"]])

    record = population(run_import, upload, period="2021-S2")

    assert record.message == "Kolom kode_wilayah ada lebih dari sekali; sisakan satu."


def test_an_unexpected_failure_shows_no_internals(district, run_import, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("cannot access local variable 'text' 7322035708950001")

    monkeypatch.setattr(imports, "parse_file", broken)
    record = population(run_import, csv_upload(POPULATION_HEADER, [PINCARA]))

    assert record.status == ImportStatus.FAILED
    assert record.message == "Berkas tidak dapat dibaca (kesalahan sistem)."


def test_the_command_reports_a_bad_file_in_indonesian(district, tmp_path):
    path = tmp_path / "penduduk.csv"
    path.write_bytes(b"kode_wilayah,jumlah_penduduk\n73.22,\x81\x8d\x90\n")

    with pytest.raises(CommandError, match="^Berkas bukan teks UTF-8"):
        call_command("import_population", str(path), "--period", "2021-S2")


def test_the_command_reads_a_utf16_file(district, tmp_path):
    path = tmp_path / "penduduk.csv"
    path.write_bytes(csv_text(POPULATION_HEADER, [PINCARA]).encode("utf-16"))

    call_command("import_population", str(path))

    assert PopulationCount.objects.get().total == 2451


def test_the_upload_page_shows_the_message_of_a_refused_file(client, district, staff):
    client.force_login(staff)
    response = client.post(
        "/cakupan/impor/",
        {"kind": ImportKind.POPULATION, "period": "", "file": bytes_upload(b"kode_wilayah\n\x81\x8d\n")},
        follow=True,
    )

    assert response.status_code == 200
    assert "Berkas bukan teks UTF-8" in response.text


# --- The admin's import (django-import-export) ----------------------------------------------------


def test_the_admin_import_refuses_a_nul_byte_with_a_message_not_a_database_error(district):
    admin = UserFactory(role=Role.ADMIN_DINKES, is_staff=True, is_superuser=True, region=None)
    client = Client(raise_request_exception=False)
    client.force_login(admin)
    content = b"kode_wilayah,periode,jumlah_penduduk,sumber\n73.22,2021-S2,5,ab\x00c\n"

    response = client.post(
        "/admin/coverage/populationcount/import/",
        {"format": "0", "import_file": SimpleUploadedFile("a.csv", content)},
    )

    assert response.status_code == 200
    assert "Sel sumber berisi karakter tidak sah (NUL)." in response.text
    assert "PostgreSQL" not in response.text
    assert not PopulationCount.objects.exists()


def test_the_admin_import_reads_other_digits_as_ascii(district):
    dataset = Dataset(headers=["kode_wilayah", "periode", "jumlah_penduduk", "sumber"])
    dataset.append(["７３.２２", "２０２１-S2", "２４５１", "Dukcapil"])

    result = PopulationResource().import_data(dataset, dry_run=False)

    assert not result.has_errors() and not result.has_validation_errors()
    assert list(PopulationCount.objects.values_list("region_id", "period", "total")) == [("73.22", "2021-S2", 2451)]


def test_a_default_period_typed_in_full_width_digits_is_stored_in_ascii(district, run_import):
    upload = csv_upload(["kode_wilayah", "jumlah_penduduk"], [["73.22.03.2004", "2451"]])

    # The check of the period field takes "\d" after a literal "20"; the counts must still get ASCII.
    record = population(run_import, upload, period="20２１-S2")

    assert record.status == ImportStatus.DONE, record.errors
    assert list(PopulationCount.objects.values_list("period", flat=True)) == ["2021-S2"]


def test_the_admin_import_refuses_a_region_outside_the_admins_own(two_kabupaten):
    admin = UserFactory(role=Role.ADMIN_DINKES, is_staff=True, is_superuser=True)  # region 73.22
    client = Client(raise_request_exception=False)
    client.force_login(admin)
    content = b"kode_wilayah,periode,jumlah_penduduk,sumber\n73.22,2021-S2,5,DKB\n73.24,2021-S2,7,DKB\n"

    response = client.post(
        "/admin/coverage/populationcount/import/",
        {"format": "0", "import_file": SimpleUploadedFile("a.csv", content)},
    )

    assert response.status_code == 200
    assert "Wilayah 73.24 di luar wilayah Anda." in response.text
    assert not PopulationCount.objects.exists()
