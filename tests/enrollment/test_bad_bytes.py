"""BPJS's files and card numbers with bad bytes: other scripts' digits read as ASCII; NUL, other encodings,
broken rows and workbooks refused with a short Indonesian message; never a server error, nothing changed."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from enrollment import reconciliation
from enrollment.models import Enrollment, EnrollmentStatus, Reconciliation
from sejagad.roles import Role
from sejagad.text import MAX_MESSAGE_CHARS
from tests.coverage.files import zip_without_a_workbook
from tests.enrollment.test_api import client_for
from tests.enrollment.test_reconciliation import HEADER, ago, born, enroll, table, upload, with_nik
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


@pytest.fixture
def liaison(district):
    return UserFactory(username="bpjs", role=Role.PETUGAS_BPJS)


@pytest.fixture
def siti(liaison):
    """A baby with a NIK and a card, registered at BPJS."""
    dinkes = UserFactory(username="dinkes", role=Role.STAF_DINKES)
    baby = with_nik(born(40, 1), dinkes, 1)
    enroll(baby, dinkes, jkn_number="0001111111111", status=EnrollmentStatus.TERDAFTAR_SEMENTARA, registered_on=ago(35))
    return baby


def row(baby, **cells):
    values = {
        "nomor_kartu": "0001111111111",
        "nik": baby.nik,
        "nama": baby.temporary_name,
        "tanggal_lahir": baby.birth_date.isoformat(),
        "status": "AKTIF",
        "tanggal_update": ago(2).isoformat(),
    } | cells
    return [values[column] for column in HEADER]


def rejected(response):
    assert response.status_code == 200
    assert not Reconciliation.objects.exists()
    return response.context["rejected"]


@pytest.fixture
def signed_in(client, liaison):
    client.force_login(liaison)
    return client


@pytest.mark.parametrize("column", ["nama", "nik", "status"])
def test_a_nul_byte_in_a_cell_rejects_the_file_naming_its_line(signed_in, siti, column):
    bad = row(siti)
    bad[HEADER.index(column)] = bad[HEADER.index(column)][:3] + "\x00" + bad[HEADER.index(column)][3:]

    refusal = rejected(upload(signed_in, table([row(siti), bad])))

    assert refusal.errors == ["Baris 3: sel berisi karakter tidak sah (NUL)."]


def test_a_nul_byte_in_a_column_we_do_not_read_is_refused_too(signed_in, siti):
    text = table([[*row(siti), "catatan\x00"]], header=[*HEADER, "keterangan"])

    refusal = rejected(upload(signed_in, text))

    assert refusal.errors == ["Baris 2: sel berisi karakter tidak sah (NUL)."]


def test_a_control_character_in_the_header_is_refused(signed_in, siti):
    refusal = rejected(upload(signed_in, table([row(siti)], header=[*HEADER[:-1], "tanggal_update\x07"])))

    assert refusal.message.startswith("Baris 1 (judul kolom): berisi karakter tidak sah (U+0007).")


@pytest.mark.parametrize("script", [FULL_WIDTH, ARABIC_INDIC], ids=["full-width", "arabic"])
def test_card_number_nik_and_dates_in_other_digits_match_the_baby(signed_in, siti, script):
    cells = row(siti, status="NONAKTIF")
    response = upload(signed_in, table([[cell.translate(script) for cell in cells]]))

    assert response.status_code == 302
    (entry,) = Reconciliation.objects.get().rows
    assert (entry["kind"], entry["matched_by"]) == ("berubah", "nomor_kartu")
    assert (entry["nomor_kartu"], entry["nik"]) == ("0001111111111", siti.nik)
    assert entry["changes"]["deactivated_on"] == ago(2).isoformat()


def test_a_superscript_in_a_nik_is_refused(signed_in, siti):
    refusal = rejected(upload(signed_in, table([row(siti, nik=siti.nik[:-1] + "²")])))

    assert refusal.errors == [f'Baris 2: nik "{siti.nik[:-1]}²" harus 16 digit angka.']


def test_a_utf16_file_with_its_byte_order_mark_is_read(signed_in, siti):
    response = upload(signed_in, table([row(siti)]).encode("utf-16"))

    assert response.status_code == 302
    assert Reconciliation.objects.get().columns == HEADER


@pytest.mark.parametrize(
    "content, message",
    [
        (b"nomor_kartu,nik\n\x81\x8d\x90,1\n", "Berkas bukan teks UTF-8; simpan ulang sebagai CSV UTF-8."),
        (",".join(HEADER).encode("utf-16-le"), "Berkas ini bukan teks CSV biasa (mungkin UTF-16 tanpa penanda BOM)"),
        (b"\xef\xbb\xbf\n", "Berkas kosong: tidak ada baris judul kolom."),
    ],
    ids=["invalid-bytes", "utf16-without-bom", "empty"],
)
def test_a_file_that_is_not_readable_text_is_refused_in_indonesian(signed_in, district, content, message):
    refusal = rejected(upload(signed_in, content))

    assert refusal.message.startswith(message)


def test_a_row_with_too_many_columns_is_named_by_its_line(signed_in, siti):
    text = table([row(siti)]) + "1,2,3,4,5,6,7,8\n"

    refusal = rejected(upload(signed_in, text.encode()))

    assert refusal.message == "Baris 3: jumlah kolom tidak sesuai (8, seharusnya 6)."


def test_a_broken_workbook_is_refused_without_internals(signed_in, district):
    broken = zip_without_a_workbook("daftar.xlsx")
    response = signed_in.post(reverse("enrollment:reconciliation_upload"), {"file": broken})

    refusal = rejected(response)
    assert refusal.message == "Berkas XLSX tidak dapat dibaca; buka di Excel lalu simpan ulang sebagai XLSX."
    assert "Berkas XLSX tidak dapat dibaca" in response.text


def test_huge_cells_and_headers_are_quoted_short(signed_in, siti):
    refusal = rejected(upload(signed_in, table([row(siti, nik="9" * 100_000, status="X" * 100_000)])))

    assert refusal.error_count == 2
    assert all(len(e) <= MAX_MESSAGE_CHARS for e in refusal.errors)
    long_header = table([["1"]], header=["k" * 5000 + str(n) for n in range(3)])
    refusal = rejected(upload(signed_in, long_header))
    assert refusal.message.startswith("Kolom wajib tidak ada: nomor_kartu")
    assert len(refusal.message) <= MAX_MESSAGE_CHARS


def test_a_megabyte_header_row_is_refused_with_a_short_message(signed_in, district):
    refusal = rejected(upload(signed_in, ("nomor_kartu," + "x" * 1024 * 1024 + "\n1,2\n").encode()))

    assert refusal.message.startswith("Baris 1 (judul kolom) terlalu panjang")
    assert len(refusal.message) <= MAX_MESSAGE_CHARS


def test_the_stored_header_names_are_capped(signed_in, siti):
    long_name = "catatan_" + "x" * 1000
    upload(signed_in, table([[*row(siti), "-"]], header=[*HEADER, long_name]))

    columns = Reconciliation.objects.get().columns
    assert columns[:6] == HEADER
    assert columns[6] == long_name[: reconciliation.MAX_HEADER_NAME_CHARS]


def test_the_upload_page_never_errors_on_bad_bytes(liaison, district):
    client = Client(raise_request_exception=False)
    client.force_login(liaison)
    for content in (b"\x00\x00\xff\xfe", b"\xff\xfe\x00", "\ufeffnomor_kartu\x00,nik\n1,2\n".encode(), b"\xef\xbb\xbf"):
        response = client.post(
            reverse("enrollment:reconciliation_upload"), {"file": SimpleUploadedFile("a.csv", content)}
        )
        assert response.status_code == 200, content


# --- Card numbers typed by hand ------------------------------------------------------------------


@pytest.fixture
def critical(district):
    baby = born(24, 1)
    return Enrollment.objects.get(newborn=baby)


def registration(jkn_number: str) -> dict:
    return {
        "status": EnrollmentStatus.TERDAFTAR_SEMENTARA,
        "jkn_number": jkn_number,
        "registered_on": (timezone.localdate() - datetime.timedelta(days=1)).isoformat(),
    }


def test_api_stores_a_full_width_card_number_as_ascii(critical):
    api = client_for(UserFactory(role=Role.PETUGAS_BPJS))

    response = api.patch(f"/api/enrollments/{critical.pk}/", registration("０００１２３４５６７８９０"), format="json")

    assert response.status_code == 200, response.json()
    critical.refresh_from_db()
    assert critical.jkn_number == "0001234567890"


@pytest.mark.parametrize(
    "number, message",
    [
        ("000123456789²", "Nomor kartu JKN hanya boleh berisi angka."),
        ("0001234567890\u0000", "Karakter null tidak diizinkan."),
    ],
)
def test_api_refuses_a_card_number_with_a_superscript_or_nul(critical, number, message):
    api = client_for(UserFactory(role=Role.PETUGAS_BPJS))

    response = api.patch(f"/api/enrollments/{critical.pk}/", registration(number), format="json")

    assert response.status_code == 400
    assert message in response.json()["jkn_number"]
    critical.refresh_from_db()
    assert critical.jkn_number == ""


def test_the_form_stores_a_full_width_card_number_as_ascii(client, critical):
    client.force_login(UserFactory(role=Role.PETUGAS_BPJS))

    response = client.post(
        reverse("enrollment:edit", args=[critical.pk]),
        registration("０００１２３４５６７８９０") | {"segment": "PBPU"},
    )

    assert response.status_code == 302
    critical.refresh_from_db()
    assert critical.jkn_number == "0001234567890"


def test_the_form_refuses_a_control_character_in_the_card_number(client, critical):
    client.force_login(UserFactory(role=Role.PETUGAS_BPJS))

    response = client.post(
        reverse("enrollment:edit", args=[critical.pk]), registration("0001234567890\x07") | {"segment": "PBPU"}
    )

    assert response.status_code == 200
    assert "Berisi karakter tidak sah (U+0007)" in response.text
    critical.refresh_from_db()
    assert critical.jkn_number == ""
