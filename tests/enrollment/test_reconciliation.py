import csv
import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from enrollment.flagging import flag_deadlines
from enrollment.models import Enrollment, EnrollmentStatus, ExportLog, FlagLevel, Reconciliation
from enrollment.services import update_enrollment
from newborns.services import record_documents
from sejagad import roles
from sejagad.models import Region
from sejagad.roles import Capability, Role
from tests.factories import BidanFactory, UserFactory, mother_nik, nik_for, register

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate
HEADER = ["nomor_kartu", "nik", "nama", "tanggal_lahir", "status", "tanggal_update"]
STATE = ("status", "jkn_number", "registered_on", "nik_updated_on", "deactivated_on", "updated_at")


def ago(days: int) -> datetime.date:
    return TODAY() - datetime.timedelta(days=days)


def born(days_ago, serial, **kw):
    return register(birth_date=ago(days_ago), mother_nik=mother_nik(serial), **kw)


def with_nik(baby, by, serial):
    return record_documents(
        newborn=baby,
        by=by,
        nik=nik_for(baby.birth_date, female=baby.sex == "P", serial=serial),
        nik_issued_on=baby.birth_date + datetime.timedelta(days=5),
    )


def enroll(baby, by, **changes):
    return update_enrollment(enrollment=Enrollment.objects.get(newborn=baby), by=by, **changes)


@pytest.fixture
def liaison(district):
    return UserFactory(username="bpjs", role=Role.PETUGAS_BPJS)


@pytest.fixture
def babies(district, liaison):
    dinkes = UserFactory(username="dinkes", role=Role.STAF_DINKES)
    siti = born(40, 1)
    nur = born(20, 2, mother_name="Nurhayati")
    hasnah = born(50, 3, mother_name="Hasnah", sex="L")
    rahma = born(60, 4, mother_name="Rahma")
    ani = born(30, 5, mother_name="Ani")
    wati_1 = born(15, 6, mother_name="Wati", birth_order=1)
    wati_2 = born(15, 6, mother_name="Wati", birth_order=2, sex="L")
    flag_deadlines()
    siti = with_nik(siti, dinkes, 1)
    rahma = with_nik(rahma, dinkes, 4)
    enroll(siti, dinkes, jkn_number="0001111111111", status=EnrollmentStatus.TERDAFTAR_SEMENTARA, registered_on=ago(35))
    enroll(
        hasnah, dinkes, jkn_number="0003333333333", status=EnrollmentStatus.TERDAFTAR_SEMENTARA, registered_on=ago(45)
    )
    enroll(
        rahma,
        dinkes,
        jkn_number="0004444444444",
        status=EnrollmentStatus.DIPERBARUI,
        registered_on=ago(55),
        nik_updated_on=ago(20),
    )
    enroll(ani, dinkes, jkn_number="0005555555555", status=EnrollmentStatus.TERDAFTAR_SEMENTARA, registered_on=ago(25))
    return {"siti": siti, "nur": nur, "hasnah": hasnah, "rahma": rahma, "ani": ani, "wati": [wati_1, wati_2]}


def table(rows, header=HEADER) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def mixed_rows(b):
    """Lines 2-10: three changes, one match, two unmatched, three conflicts."""
    return [
        [
            "0001111111111",
            b["siti"].nik,
            b["siti"].temporary_name,
            b["siti"].birth_date.isoformat(),
            "AKTIF",
            ago(2).isoformat(),
        ],
        ["0002222222222", "", "BY NY NURHAYATI", f"{b['nur'].birth_date:%d-%m-%Y}", "aktif", f"{ago(1):%d-%m-%Y}"],
        ["0003333333333", "", "By. Ny. HASNAH", f"{b['hasnah'].birth_date:%d/%m/%Y}", "NONAKTIF", f"{ago(3):%d/%m/%Y}"],
        [
            "0004444444444",
            b["rahma"].nik,
            "By. Ny. RAHMA",
            b["rahma"].birth_date.isoformat(),
            "AKTIF",
            ago(4).isoformat(),
        ],
        ["0009999999999", "", "By. Ny. TIDAK ADA", ago(12).isoformat(), "AKTIF", ago(1).isoformat()],
        ["", "", "=1+2", ago(13).isoformat(), "AKTIF", ago(1).isoformat()],
        ["", "", "By. Ny. WATI", ago(15).isoformat(), "AKTIF", ago(1).isoformat()],
        [
            "0004444444444",
            nik_for(b["rahma"].birth_date, female=True, serial=99),
            "By. Ny. RAHMA",
            "",
            "AKTIF",
            ago(1).isoformat(),
        ],
        ["0005555555555", "", "By. Ny. ANI", ago(31).isoformat(), "AKTIF", ago(1).isoformat()],
    ]


def upload(client, text: str | bytes, name="daftar-bpjs.csv"):
    content = text if isinstance(text, bytes) else ("\ufeff" + text).encode("utf-8")
    return client.post(reverse("enrollment:reconciliation_upload"), {"file": SimpleUploadedFile(name, content)})


def state():
    return list(Enrollment.objects.order_by("id").values_list(*STATE)), Enrollment.history.count()


def commit(client, item):
    return client.post(reverse("enrollment:reconciliation_detail", args=[item.pk]), follow=True)


@pytest.fixture
def previewed(client, liaison, babies):
    client.force_login(liaison)
    before = state()
    response = upload(client, table(mixed_rows(babies)))
    item = Reconciliation.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("enrollment:reconciliation_detail", args=[item.pk])
    return item, before


def test_preview_counts_each_class_and_changes_nothing(client, previewed, babies):
    item, before = previewed
    assert item.counts == {"cocok": 1, "berubah": 3, "tidak_cocok": 2, "konflik": 3}
    assert state() == before
    page = client.get(reverse("enrollment:reconciliation_detail", args=[item.pk]))
    assert page.status_code == 200
    text = page.text
    for kind, n in item.counts.items():
        assert f'data-count="{kind}">{n}<' in text
    assert "Pratinjau: belum ada data yang berubah" in text
    assert "Terapkan 3 perubahan" in text
    by_line = {r["line"]: r for r in item.rows}
    assert [by_line[n]["kind"] for n in range(2, 11)] == [
        "berubah",
        "berubah",
        "berubah",
        "cocok",
        "tidak_cocok",
        "tidak_cocok",
        "konflik",
        "konflik",
        "konflik",
    ]
    assert by_line[3]["matched_by"] == "nama" and by_line[3]["enrollment"] == babies["nur"].enrollment.pk
    assert "Cocok dengan 2 bayi" in by_line[8]["reason"]
    assert "NIK di berkas berbeda" in by_line[9]["reason"]
    assert "Tanggal lahir berbeda" in by_line[10]["reason"]
    assert "Status: Terdaftar sementara (By. Ny.) → Diperbarui (NIK di BPJS)" in text
    uploads = client.get(reverse("enrollment:reconciliation_upload")).text
    assert "daftar-bpjs.csv" in uploads and "Pratinjau" in uploads


def test_commit_applies_the_changes_and_history_names_the_liaison(client, previewed, liaison, babies):
    item, _ = previewed
    response = commit(client, item)
    assert "3 perubahan kepesertaan diterapkan" in response.text
    siti, nur, hasnah, rahma = (Enrollment.objects.get(newborn=babies[k]) for k in ("siti", "nur", "hasnah", "rahma"))
    assert (siti.status, siti.nik_updated_on, siti.nik_level) == (
        EnrollmentStatus.DIPERBARUI,
        ago(2),
        FlagLevel.SELESAI,
    )
    assert (nur.status, nur.jkn_number, nur.registered_on) == (
        EnrollmentStatus.TERDAFTAR_SEMENTARA,
        "0002222222222",
        ago(1),
    )
    assert nur.registration_level == FlagLevel.SELESAI
    assert (hasnah.status, hasnah.deactivated_on) == (EnrollmentStatus.NONAKTIF, ago(3))
    assert rahma.nik_updated_on == ago(20)  # the matching row changed nothing
    for enrollment in (siti, nur, hasnah):
        assert enrollment.history.latest().history_user == liaison
    item.refresh_from_db()
    assert (item.status, item.committed_by, item.committed_at is not None) == ("COMMITTED", liaison, True)


def test_a_second_commit_is_refused(client, previewed):
    item, _ = previewed
    commit(client, item)
    after_first = state()
    response = commit(client, item)
    assert "sudah diterapkan atau ditolak" in response.text
    assert state() == after_first
    assert "Terapkan 3 perubahan" not in response.text


def test_a_row_whose_baby_changed_since_the_preview_rolls_back_every_row(client, previewed, babies, liaison):
    item, _ = previewed
    enroll(babies["hasnah"], liaison, status=EnrollmentStatus.NONAKTIF, deactivated_on=ago(10))
    before = state()
    response = commit(client, item)
    assert "Baris 4: data bayi By. Ny. HASNAH berubah sejak pratinjau" in response.text
    assert "Tidak ada perubahan yang disimpan" in response.text
    assert state() == before  # lines 2 and 3 were applied first, then undone
    item.refresh_from_db()
    assert item.status == "REJECTED" and item.error.startswith("Baris 4")


def test_a_row_the_service_refuses_rolls_back_every_row(client, previewed, babies, liaison):
    item, _ = previewed
    # Dukcapil's NIK for Siti's baby is withdrawn after the preview: BPJS's NIK update can no longer be recorded.
    record_documents(newborn=babies["siti"], by=liaison, nik=None, nik_issued_on=None)
    before = state()
    response = commit(client, item)
    assert "Baris 2: Bayi belum memiliki NIK dari Dukcapil" in response.text
    assert state() == before
    assert Reconciliation.objects.get().status == "REJECTED"


def test_a_file_with_invalid_rows_is_rejected_with_line_numbers_and_nothing_is_written(client, liaison, babies):
    client.force_login(liaison)
    rows = mixed_rows(babies)
    rows[1][5] = "31-02-2025"  # line 3
    rows[3][4] = "AKTIP"  # line 5
    rows[4][0] = "00099A9999999"  # line 6
    before = state()
    response = upload(client, table(rows))
    assert response.status_code == 200
    text = response.text
    assert "Berkas ditolak: 3 kesalahan" in text
    assert "Baris 3: tanggal_update &quot;31-02-2025&quot; bukan tanggal" in text
    assert "Baris 5: status &quot;AKTIP&quot; tidak dikenal" in text
    assert "Baris 6: nomor_kartu" in text
    assert "Baris 2:" not in text
    assert not Reconciliation.objects.exists()
    assert state() == before


@pytest.mark.parametrize(
    "content, name, message",
    [
        (
            table([["0001111111111", "", "", "", "AKTIF", "2025-01-01"]], header=HEADER[:4] + HEADER[5:]),
            "a.csv",
            "Kolom wajib tidak ada: status",
        ),
        ("nomor_kartu,nik\n", "a.txt", "Hanya berkas CSV atau XLSX"),
        (b"PK\x03\x04 not a zip", "a.xlsx", "rusak atau bukan XLSX"),
        (table([]), "a.csv", "tidak berisi baris data"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(client, liaison, district, content, name, message):
    client.force_login(liaison)
    response = upload(client, content, name=name)
    assert response.status_code == 200
    assert message in response.text
    assert not Reconciliation.objects.exists()


def test_size_caps_for_the_upload_and_the_unpacked_xlsx(client, liaison, babies, settings):
    client.force_login(liaison)
    settings.RECONCILIATION_MAX_UPLOAD_BYTES = 100
    assert "Berkas terlalu besar" in upload(client, table(mixed_rows(babies))).text
    settings.RECONCILIATION_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    settings.RECONCILIATION_MAX_XLSX_UNPACKED_BYTES = 1000
    assert "terlalu besar setelah dibuka" in upload(client, xlsx(mixed_rows(babies)), name="b.xlsx").text
    assert not Reconciliation.objects.exists()


def test_unmatched_rows_download_as_csv_with_the_original_columns(client, previewed):
    item, _ = previewed
    response = client.get(reverse("enrollment:reconciliation_unmatched", args=[item.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="rekonsiliasi-{item.pk}-tidak-cocok.csv"'
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffnomor_kartu,nik,nama,tanggal_lahir,status,tanggal_update\n")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [r[2] for r in rows[1:]] == ["By. Ny. TIDAK ADA", "'=1+2"]
    assert rows[1][0] == "0009999999999"
    log = ExportLog.objects.get()
    assert (log.format, log.rows, log.filters) == ("rekon-csv", 2, {"rekonsiliasi": item.pk})


def xlsx(rows) -> bytes:
    """BPJS's sheet as Excel keeps it: card numbers as numbers (leading zeros lost), dates as dates."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([h.upper() for h in HEADER])
    for row in rows:
        cells = list(row)
        cells[0] = int(cells[0]) if cells[0].isdigit() else cells[0]
        for i in (3, 5):
            for fmt in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"):
                try:
                    cells[i] = datetime.datetime.strptime(cells[i], fmt)  # noqa: DTZ007
                    break
                except ValueError:
                    continue
        sheet.append(cells)
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # BPJS's text, not a formula
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_an_xlsx_upload_is_matched_like_a_csv(client, liaison, babies):
    client.force_login(liaison)
    response = upload(client, xlsx(mixed_rows(babies)), name="daftar-bpjs.xlsx")
    assert response.status_code == 302
    item = Reconciliation.objects.get()
    assert item.counts == {"cocok": 1, "berubah": 3, "tidak_cocok": 2, "konflik": 3}
    assert item.rows[0]["nomor_kartu"] == "0001111111111"
    commit(client, item)
    assert Enrollment.objects.get(newborn=babies["siti"]).status == EnrollmentStatus.DIPERBARUI


@pytest.mark.parametrize("name", ["By. Ny. SITI AMINAH", "BY NY SITI AMINAH", "Siti Aminah", "by.ny. siti  aminah"])
def test_the_name_and_birth_date_find_the_baby_however_bpjs_writes_the_name(client, liaison, babies, name):
    client.force_login(liaison)
    upload(client, table([["", "", name, babies["siti"].birth_date.isoformat(), "AKTIF", ago(1).isoformat()]]))
    row = Reconciliation.objects.get().rows[0]
    assert (row["kind"], row["matched_by"], row["newborn"]) == ("cocok", "nama", babies["siti"].pk)


@pytest.mark.parametrize(
    "row, reason",
    [
        # Ani's card with Siti's NIK: the card finds Ani, whose record has no such NIK.
        (["0005555555555", "siti", "", "", "AKTIF"], "NIK di berkas milik bayi lain (By. Ny. SITI AMINAH)."),
        # Rahma's NIK with a card we do not know: the NIK finds Rahma, whose card is another.
        (
            ["0007777777777", "rahma", "", "", "AKTIF"],
            "Nomor kartu berbeda: berkas 0007777777777, SEJAGAD 0004444444444.",
        ),
        (["", "", "By. Ny. NURHAYATI", "nur", "NONAKTIF"], "Nomor kartu JKN belum ada di SEJAGAD maupun di berkas."),
        (["", "", "By. Ny. HASNAH", "hasnah", "AKTIF"], ""),
    ],
)
def test_rows_that_describe_another_baby_or_lack_a_card_are_conflicts(client, liaison, babies, row, reason):
    client.force_login(liaison)
    cells = list(row)
    if cells[1]:
        cells[1] = babies[cells[1]].nik
    if cells[3]:
        cells[3] = babies[cells[3]].birth_date.isoformat()
    upload(client, table([[*cells, ago(1).isoformat()]]))
    result = Reconciliation.objects.get().rows[0]
    assert (result["kind"], result["reason"]) == ("konflik" if reason else "cocok", reason)


def test_bpjs_reactivation_with_the_nik_and_stale_rows(client, liaison, babies):
    ani = with_nik(babies["ani"], liaison, 5)
    enroll(ani, liaison, status=EnrollmentStatus.NONAKTIF, deactivated_on=ago(6))
    client.force_login(liaison)
    upload(
        client,
        table(
            [
                ["0005555555555", ani.nik, "", "", "AKTIF", ago(2).isoformat()],
                ["0004444444444", "", "", "", "NONAKTIF", ago(25).isoformat()],  # older than Rahma's NIK update
            ]
        ),
    )
    item = Reconciliation.objects.get()
    reactivated, stale = item.rows
    assert reactivated["kind"] == "berubah"
    assert stale["kind"] == "konflik" and "lebih lama dari data SEJAGAD" in stale["reason"]
    commit(client, item)
    enrollment = Enrollment.objects.get(newborn=ani)
    assert (enrollment.status, enrollment.nik_updated_on) == (EnrollmentStatus.AKTIF_KEMBALI, ago(2))
    assert Enrollment.objects.get(newborn=babies["rahma"]).status == EnrollmentStatus.DIPERBARUI


def test_only_babies_in_the_uploaders_area_are_candidates(client, babies):
    malangke_liaison = UserFactory(role=Role.PETUGAS_BPJS, region=Region.objects.get(code="73.22.01"))
    client.force_login(malangke_liaison)
    upload(client, table(mixed_rows(babies)[:4]))
    item = Reconciliation.objects.get()
    assert item.counts == {"cocok": 0, "berubah": 0, "tidak_cocok": 4, "konflik": 0}


def test_matching_takes_a_fixed_number_of_queries(client, liaison, babies):
    client.force_login(liaison)

    def queries(rows):
        with CaptureQueriesContext(connection) as ctx:
            upload(client, table(rows))
        return len(ctx)

    few = queries(mixed_rows(babies))
    many = queries(mixed_rows(babies) * 10)
    assert many == few


@pytest.mark.parametrize(
    "make_user", [lambda: BidanFactory(username="bidan"), lambda: UserFactory(role=Role.PETUGAS_DINSOS)]
)
def test_roles_without_the_export_capability_get_403(client, district, make_user):
    client.force_login(make_user())
    assert client.get(reverse("enrollment:reconciliation_upload")).status_code == 403


def test_commit_needs_the_update_capability_and_another_user_sees_nothing(client, previewed, monkeypatch):
    item, before = previewed
    monkeypatch.setitem(
        roles.CAPABILITIES, Role.PETUGAS_DINSOS, frozenset({Capability.VIEW_NEWBORNS, Capability.EXPORT_WORKLISTS})
    )
    viewer = UserFactory(role=Role.PETUGAS_DINSOS)
    item.uploaded_by = viewer
    item.save(update_fields=["uploaded_by"])
    client.force_login(viewer)
    page = client.get(reverse("enrollment:reconciliation_detail", args=[item.pk]))
    assert page.status_code == 200 and "Terapkan 3 perubahan" not in page.text
    assert client.post(reverse("enrollment:reconciliation_detail", args=[item.pk])).status_code == 403
    assert state() == before
    client.force_login(UserFactory(role=Role.PETUGAS_BPJS))
    assert client.get(reverse("enrollment:reconciliation_detail", args=[item.pk])).status_code == 404
    assert client.get(reverse("enrollment:reconciliation_unmatched", args=[item.pk])).status_code == 404


def test_the_sample_file_is_a_valid_upload(client, liaison, district):
    from pathlib import Path

    import enrollment

    client.force_login(liaison)
    sample = Path(enrollment.__file__).parent / "samples" / "rekonsiliasi-bpjs-contoh.csv"
    response = upload(client, sample.read_bytes(), name=sample.name)
    assert response.status_code == 302
    assert Reconciliation.objects.get().counts["tidak_cocok"] == 4
