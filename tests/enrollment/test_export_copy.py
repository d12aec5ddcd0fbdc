"""The worklist CSV streamed by PostgreSQL's COPY is, byte for byte, the CSV the plain Python path writes
(the path of the embedded SQLite default), for every list, for a role that sees whole numbers and one that
sees them masked, with filters, over names a spreadsheet or a CSV reader would trip on."""

import csv
import datetime
import io
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from enrollment import exports, selectors
from enrollment.flagging import flag_deadlines
from enrollment.forms import WorklistFilterForm
from enrollment.models import Enrollment, EnrollmentStatus, ExportLog
from newborns.models import AccessPoint, IdentityAccess, Mother, Newborn
from newborns.privacy import mask_number
from sejagad import roles
from sejagad.models import Facility, Region
from sejagad.roles import Capability, Role
from tests.factories import UserFactory, mother_nik, nik_for, register

pytestmark = [pytest.mark.django_db, pytest.mark.skipif("connection.vendor != 'postgresql'")]

TODAY = timezone.localdate
# Each name is stored as is (an admin edit or an old import could hold it), bypassing the form's checks.
NASTY = [
    "=cmd|' /C calc'!A0",
    "+62 812",
    "-1+1",
    "@SUM(A1)",
    "\tberawal tab",
    "\r\nberawal CRLF",
    'kutip "ganda" di tengah',
    "koma, di tengah",
    "titik;koma",
    "",
    "Éloïse é",
    "عائشة بنت",
    "Bayi 👶🏽 sehat",
    "baris\nbaru",
    "\\.",
    '"',
    " spasi di tepi ",
]
KINDS = ["risiko", "aktivasi", "bpjs", "dinsos"]


def born(days_ago, serial, **kw):
    return register(birth_date=TODAY() - datetime.timedelta(days=days_ago), mother_nik=mother_nik(serial), **kw)


@pytest.fixture
def nasty(district):
    """Babies on every list, with the NASTY names as given names, temporary names, facility and desa names,
    an empty KK, a short and a formula-like number, NIKs issued for some, deadlines past for others."""
    babies = []
    malangke = Region.objects.get(code="73.22.01.2001")
    for serial, name in enumerate(NASTY, start=1):
        days = (10, 25, 40, 100, 130)[serial % 5]
        baby = born(days, serial, **({"desa": malangke} if serial % 2 else {}))
        Newborn.objects.filter(pk=baby.pk).update(given_name=name, temporary_name=f"{name} {serial}")
        babies.append(baby)
    flag_deadlines()
    # Some NIKs out (the bpjs list), one of them a number no validator would pass.
    for index, baby in enumerate(babies[:6]):
        nik = nik_for(baby.birth_date, female=True, serial=index + 1) if index else "-123456789012345"
        Newborn.objects.filter(pk=baby.pk).update(nik=nik, nik_issued_on=TODAY() - datetime.timedelta(days=2))
    Mother.objects.filter(pk=babies[1].mother_id).update(kk_number="")
    Mother.objects.filter(pk=babies[2].mother_id).update(nik="12345")
    Mother.objects.filter(pk=babies[3].mother_id).update(jkn_segment="PBI-APBN")
    Mother.objects.filter(pk=babies[4].mother_id).update(jkn_segment="PPU")
    # Registered, NIK at BPJS: both deadlines met, no due date (NULL) for the "every enrollment" export.
    Enrollment.objects.filter(newborn=babies[-1]).update(
        status=EnrollmentStatus.DIPERBARUI, jkn_number="=0001234567", registered_on=TODAY(), nik_updated_on=TODAY()
    )
    Enrollment.objects.filter(newborn=babies[-2]).update(status=EnrollmentStatus.NONAKTIF, segment="PBI-APBD")
    Enrollment.objects.filter(newborn=babies[-3]).update(status="KODE_LAMA")  # a status no label knows
    Facility.objects.filter(code="PKM-732203").update(name='Puskesmas "Masamba", =unit\r\n2')
    Region.objects.filter(code="73.22.01").update(name="+Malangke; é")
    flag_deadlines()
    return babies


@pytest.fixture
def whole():
    return UserFactory(username="bpjs", role=Role.PETUGAS_BPJS)


@pytest.fixture
def masked():
    return UserFactory(username="dinsos", role=Role.PETUGAS_DINSOS)


def both_paths(rows, user) -> bytes:
    """The CSV of ``rows`` through COPY and through Python; asserts they are the same bytes."""
    copied = b"".join(exports.csv_stream(rows, user, today=TODAY(), copy=True))
    plain = b"".join(exports.csv_stream(rows, user, today=TODAY(), copy=False))
    assert copied == plain
    return copied


def parsed(raw: bytes) -> list[list[str]]:
    text = raw.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("who", ["whole", "masked"])
@pytest.mark.parametrize("head", [exports.HEAD_ROWS, 2])
def test_copy_bytes_equal_the_plain_paths_for_every_list_and_role(request, nasty, kind, who, head, monkeypatch):
    monkeypatch.setattr(exports, "HEAD_ROWS", head)  # 2: the list's first rows and the rest read apart
    user = request.getfixturevalue(who)
    rows = selectors.worklist(user, kind=kind)
    assert rows.exists(), "the data must put babies on this list"
    lines = parsed(both_paths(rows, user))
    assert lines[0] == exports.HEADERS
    assert len(lines) - 1 == rows.count()
    assert [line[1] for line in lines[1:]] == [
        exports.escape_formula(n) for n in rows.values_list("newborn__temporary_name", flat=True)
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"kecamatan": "73.22.01"},
        {"kecamatan": "73.22.03", "level": "3"},
        {"kind": "bpjs", "kecamatan": "73.22.03"},
        {"kind": "aktivasi", "status": "NONAKTIF"},
        {"kind": "dinsos", "segment": ""},
        {"q": "spasi"},
    ],
)
@pytest.mark.parametrize("who", ["whole", "masked"])
def test_copy_bytes_equal_the_plain_paths_with_filters(request, nasty, params, who):
    user = request.getfixturevalue(who)
    rows = selectors.worklist(user, **WorklistFilterForm(params, user=user).filters())
    lines = parsed(both_paths(rows, user))
    assert len(lines) - 1 == rows.count()


@pytest.mark.parametrize("who", ["whole", "masked"])
def test_every_enrollment_with_empty_dates_and_unknown_status_is_the_same_bytes(request, nasty, who):
    user = request.getfixturevalue(who)
    lines = parsed(both_paths(Enrollment.objects.for_lists().order_by("id"), user))
    done = next(line for line in lines[1:] if line[0] == "'=0001234567")
    assert (done[12], done[13], done[14]) == ("", "", "Diperbarui (NIK di BPJS)")
    assert any(line[14] == "KODE_LAMA" for line in lines[1:])


def test_cells_are_escaped_quoted_and_masked_as_the_plain_path_writes_them(nasty, whole, masked):
    raw = both_paths(Enrollment.objects.for_lists().order_by("id"), whole).decode()
    by_name = {line[1]: line for line in parsed(raw.encode())[1:]}
    assert by_name["'=cmd|' /C calc'!A0 1"][2] == "'=cmd|' /C calc'!A0"
    assert by_name["'\tberawal tab 5"][2] == "'\tberawal tab"
    assert by_name["'\r\nberawal CRLF 6"][2] == "'\r\nberawal CRLF"
    assert by_name['kutip "ganda" di tengah 7'][2] == 'kutip "ganda" di tengah'
    assert by_name["Bayi 👶🏽 sehat 13"][2] == "Bayi 👶🏽 sehat"
    assert by_name["'+62 812 2"][5] == ""  # the KK left empty
    assert by_name["'=cmd|' /C calc'!A0 1"][3] == "'-123456789012345"
    assert '\n,"koma, di tengah 8","koma, di tengah",' in raw and ",,," in raw  # quoted only where needed
    lines = parsed(raw.encode())
    assert raw.count("\r\n") == sum(cell.count("\r\n") for line in lines for cell in line)  # LF line ends
    assert raw.count("\n") == len(lines) + sum(cell.count("\n") for line in lines for cell in line)
    masked_rows = {
        line[1]: line for line in parsed(both_paths(Enrollment.objects.for_lists().order_by("id"), masked))[1:]
    }
    assert masked_rows["'=cmd|' /C calc'!A0 1"][3] == "'" + mask_number("-123456789012345")
    assert masked_rows["'-1+1 3"][4] == mask_number("12345")  # short: what mask_number makes of it


@pytest.fixture
def exporter(nasty, monkeypatch):
    # A role that may export but sees numbers masked (none has that pair today).
    monkeypatch.setitem(
        roles.CAPABILITIES, Role.PETUGAS_DINSOS, frozenset({Capability.VIEW_NEWBORNS, Capability.EXPORT_WORKLISTS})
    )


@pytest.mark.parametrize("who", ["whole", "masked"])
def test_the_view_streams_the_copy_bytes_and_logs_the_row_count_after_the_stream(client, request, exporter, who):
    user = request.getfixturevalue(who)
    client.force_login(user)
    params = {"kind": "risiko", "kecamatan": "73.22.01"}
    response = client.get(reverse("enrollment:export_csv"), params)
    log = ExportLog.objects.get()
    assert (log.rows, log.complete) == (0, False)  # logged before the first byte
    body = b"".join(response.streaming_content)
    rows = selectors.worklist(user, **WorklistFilterForm(params, user=user).filters())
    assert body == b"".join(exports.csv_stream(rows, user, copy=True))
    log.refresh_from_db()
    assert (log.rows, log.complete, log.filters) == (rows.count(), True, params) and log.rows > 0
    access = list(IdentityAccess.objects.values_list("where", "count"))
    assert access == ([(AccessPoint.EXPORT, log.rows)] if who == "whole" else [])


def test_no_count_before_the_first_chunk_of_rows(client, nasty, whole):
    client.force_login(whole)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("enrollment:export_csv"))
        stream = iter(response.streaming_content)
        first = next(stream)
        rows = next(stream)  # the first chunk of rows
    assert first.startswith("\ufeffNomor kartu,".encode()) and rows.count(b"\n") >= 1
    assert not [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert [q["sql"] for q in queries if q["sql"].startswith("COPY (")]
    b"".join(stream)
    assert ExportLog.objects.get().rows == selectors.worklist(whole).count()


def test_an_export_cut_off_midway_stays_logged_with_the_rows_sent(nasty, whole):
    stream = exports.worklist_csv(user=whole, filters={"kind": "risiko"}, log_filters={"kind": "risiko"})
    next(stream)  # the header: logged already
    log = ExportLog.objects.get()
    assert (log.rows, log.complete) == (0, False)
    next(stream)  # rows, read from COPY (the connection is the stream's until it ends)
    stream.close()  # the browser went away; the server closes the response
    log.refresh_from_db()
    assert log.complete is False and log.rows == selectors.worklist(whole).count() > 0
    assert IdentityAccess.objects.get().count == log.rows


def rows_in(chunk: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(chunk.decode("utf-8"), newline="")))


def test_the_first_rows_go_out_before_the_rest_of_the_list_is_read(nasty, whole, monkeypatch):
    monkeypatch.setattr(exports, "HEAD_ROWS", 3)
    rows = selectors.worklist(whole)
    with CaptureQueriesContext(connection) as queries:
        stream = exports.csv_stream(rows, whole, today=TODAY())
        next(stream)  # BOM and header
        first = next(stream)
    copies = [q["sql"] for q in queries if q["sql"].startswith("COPY (")]
    assert len(copies) == 1 and copies[0].endswith("LIMIT 3) TO STDOUT WITH (FORMAT csv)")
    assert len(rows_in(first)) == 3
    rest = b"".join(stream)
    assert len(rows_in(first + rest)) == rows.count() > 3


@pytest.mark.django_db(transaction=True)
def test_a_row_moved_while_the_export_runs_is_neither_sent_twice_nor_skipped(nasty, whole, monkeypatch):
    """The list's first rows and the rest are two statements: they read one snapshot, so a baby that moves
    from the first rows to the rest in between is still sent once, where it was when the export began."""
    monkeypatch.setattr(exports, "HEAD_ROWS", 3)
    rows = selectors.worklist(whole)
    expected = b"".join(exports.csv_stream(rows, whole, today=TODAY(), copy=False))
    first_baby = rows.values_list("pk", flat=True)[0]
    stream = exports.csv_stream(rows, whole, today=TODAY())
    try:
        sent = next(stream) + next(stream)  # the header and the first rows
        moved = []

        def move_to_the_end():  # another request, on its own connection, commits while the export waits
            Enrollment.objects.filter(pk=first_baby).update(registration_level=0, nik_level=0)
            moved.append(rows.values_list("pk", flat=True)[0] != first_baby)
            connection.close()

        writer = threading.Thread(target=move_to_the_end)
        writer.start()
        writer.join()
        assert moved == [True], "the baby left the first rows"
        sent += b"".join(stream)
    finally:
        stream.close()  # else its open transaction would hold the tables
    assert sent == expected
