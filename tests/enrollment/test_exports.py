import csv
import datetime
import io
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from enrollment import export_jobs, selectors
from enrollment.flagging import flag_deadlines
from enrollment.forms import WorklistFilterForm
from enrollment.models import Enrollment, EnrollmentStatus, ExportJob, ExportLog
from enrollment.resources import EnrollmentResource
from enrollment.services import update_enrollment
from newborns.privacy import mask_number
from newborns.services import correct_birth, record_documents
from sejagad import roles
from sejagad.models import Region
from sejagad.roles import Capability, Role
from tests.factories import BidanFactory, UserFactory, mother_nik, nik_for, register

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate
HEADER = [
    "Nomor kartu",
    "Nama sementara",
    "Nama",
    "NIK",
    "NIK ibu",
    "Nomor KK",
    "Tanggal lahir",
    "Jenis kelamin",
    "Segmen",
    "Fasilitas",
    "Desa",
    "Kecamatan",
    "Batas waktu",
    "Sisa hari",
    "Status",
]
FORMULA = '=HYPERLINK("http://contoh.invalid","klik")'


def born(days_ago, serial, **kw):
    return register(birth_date=TODAY() - datetime.timedelta(days=days_ago), mother_nik=mother_nik(serial), **kw)


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.EXPORT_FILES_DIR = tmp_path / "ekspor"


@pytest.fixture
def liaison(district):
    return UserFactory(username="bpjs", role=Role.PETUGAS_BPJS)


@pytest.fixture
def babies(district, liaison):
    """Four babies: two unregistered at risk (Masamba, Malangke), one registered whose NIK is out and whose
    NIK deadline is near (with a formula for a name), one registered and safe."""
    masamba = born(10, 1, kk_number="7322030101200001")
    malangke = born(
        25,
        2,
        sex="L",
        mother_name="Nurhayati",
        kk_number="7322010101200002",
        desa=Region.objects.get(code="73.22.01.2001"),
    )
    formula = born(80, 3, mother_name=FORMULA)
    safe = born(5, 4, mother_name="Hasnah")
    flag_deadlines()
    formula = record_documents(
        newborn=formula,
        by=liaison,
        nik=nik_for(formula.birth_date, female=True, serial=7),
        nik_issued_on=TODAY() - datetime.timedelta(days=3),
    )
    correct_birth(newborn=formula, by=UserFactory(role=Role.STAF_DINKES), given_name=FORMULA)
    for baby, number in ((formula, "0001234567893"), (safe, "0001234567894")):
        update_enrollment(
            enrollment=Enrollment.objects.get(newborn=baby),
            by=liaison,
            jkn_number=number,
            status=EnrollmentStatus.TERDAFTAR_SEMENTARA,
            registered_on=baby.birth_date,
        )
    return {"masamba": masamba, "malangke": malangke, "formula": formula, "safe": safe}


def read_csv(response) -> tuple[str, list[list[str]]]:
    raw = b"".join(response.streaming_content).decode("utf-8")
    return raw, list(csv.reader(io.StringIO(raw.removeprefix("\ufeff"))))


def xlsx_response(client, params=None):
    """ "Unduh Excel": the job is queued on commit (never, inside a test's transaction), so it is built
    here by the service its task calls; then its file is downloaded."""
    query = f"?{urlencode(params)}" if params else ""
    assert client.post(reverse("enrollment:export_xlsx") + query).status_code == 302
    job = ExportJob.objects.latest("id")
    export_jobs.build_worklist_export(job_id=job.pk)
    return client.get(reverse("enrollment:export_job_download", args=[job.pk]))


def page_names(client, params) -> list[str]:
    page = client.get(reverse("enrollment:worklist"), params).context["page"]
    return [e.newborn.temporary_name for e in page.paginator.object_list]


def test_csv_starts_with_a_bom_and_the_bpjs_header(client, liaison, babies):
    client.force_login(liaison)
    response = client.get(reverse("enrollment:export_csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="risiko-{TODAY():%Y-%m-%d}.csv"'
    raw, rows = read_csv(response)
    assert raw.startswith("\ufeffNomor kartu,Nama sementara,Nama,NIK,")
    assert rows[0] == HEADER


def test_csv_row_carries_whole_numbers_iso_dates_and_days_left_for_bpjs(client, liaison, babies):
    client.force_login(liaison)
    _, rows = read_csv(client.get(reverse("enrollment:export_csv"), {"kind": "bpjs"}))
    baby = babies["formula"]
    enrollment = Enrollment.objects.get(newborn=baby)
    assert rows[1:] == [
        [
            "0001234567893",
            baby.temporary_name,
            "'" + FORMULA,
            baby.nik,
            mother_nik(3),
            "7322030101200001",
            baby.birth_date.isoformat(),
            "P",
            "",
            "Puskesmas Masamba",
            baby.desa.name,
            "Masamba",
            enrollment.nik_deadline.isoformat(),
            str((enrollment.nik_deadline - TODAY()).days),
            "Terdaftar sementara (By. Ny.)",
        ]
    ]


@pytest.mark.parametrize(
    "params", [{}, {"kecamatan": "73.22.03"}, {"kind": "bpjs"}, {"level": "3"}, {"kecamatan": "73.22.99"}]
)
def test_export_holds_exactly_the_rows_the_worklist_shows(client, liaison, babies, params):
    client.force_login(liaison)
    on_screen = page_names(client, params)
    selected = selectors.worklist(liaison, **WorklistFilterForm(params, user=liaison).filters())
    assert on_screen == list(selected.values_list("newborn__temporary_name", flat=True))
    _, rows = read_csv(client.get(reverse("enrollment:export_csv"), params))
    assert [r[1] for r in rows[1:]] == on_screen


def test_kecamatan_filter_leaves_out_other_kecamatan_and_safe_babies(client, liaison, babies):
    client.force_login(liaison)
    _, rows = read_csv(client.get(reverse("enrollment:export_csv"), {"kecamatan": "73.22.03"}))
    names = {r[1] for r in rows[1:]}
    assert names == {babies["masamba"].temporary_name, babies["formula"].temporary_name}


def test_numbers_are_masked_for_a_role_that_may_export_but_not_see_them_whole(client, liaison, babies, monkeypatch):
    # No role has that pair today; the export must still mask if one is given the export.
    monkeypatch.setitem(
        roles.CAPABILITIES, Role.PETUGAS_DINSOS, frozenset({Capability.VIEW_NEWBORNS, Capability.EXPORT_WORKLISTS})
    )
    client.force_login(UserFactory(role=Role.PETUGAS_DINSOS))
    _, rows = read_csv(client.get(reverse("enrollment:export_csv"), {"kind": "bpjs"}))
    nik, mother, kk = rows[1][3:6]
    assert (nik, mother, kk) == (
        mask_number(babies["formula"].nik),
        mask_number(mother_nik(3)),
        mask_number("7322030101200001"),
    )
    assert nik.startswith("7322") and "*" in nik
    client.force_login(liaison)
    _, rows = read_csv(client.get(reverse("enrollment:export_csv"), {"kind": "bpjs"}))
    assert rows[1][3] == babies["formula"].nik


def test_cells_that_a_spreadsheet_would_run_as_formulas_are_escaped(client, liaison, babies):
    baby = babies["masamba"]
    for given_name in ("+62 812", "-1+1", "@SUM(A1)", "\tdata", "aman"):
        correct_birth(newborn=baby, by=UserFactory(role=Role.STAF_DINKES), given_name=given_name)
        client.force_login(liaison)
        _, rows = read_csv(client.get(reverse("enrollment:export_csv"), {"kecamatan": "73.22.03", "level": "2"}))
        assert rows[1][2] == (given_name if given_name == "aman" else "'" + given_name)
    _, rows = read_csv(client.get(reverse("enrollment:export_csv"), {"kind": "bpjs"}))
    assert rows[1][1] == 'By. Ny. =HYPERLINK("HTTP://CONTOH.INVALID","KLIK")'  # not at the start: harmless
    assert rows[1][2] == "'" + FORMULA


def test_xlsx_opens_with_the_header_real_dates_and_escaped_text(client, liaison, babies):
    client.force_login(liaison)
    response = xlsx_response(client)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="risiko-{TODAY():%Y-%m-%d}.xlsx"'
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert [r[1] for r in rows[1:]] == page_names(client, {})
    formula_row = next(r for r in rows[1:] if r[1] == babies["formula"].temporary_name)
    assert formula_row[2] == "'" + FORMULA
    assert formula_row[3] == babies["formula"].nik  # text, not a number that loses digits
    assert formula_row[6] == datetime.datetime.combine(babies["formula"].birth_date, datetime.time())
    assert isinstance(formula_row[13], int)
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_each_export_is_logged_with_its_filters_and_row_count(client, liaison, babies):
    client.force_login(liaison)
    read_csv(client.get(reverse("enrollment:export_csv"), {"kecamatan": "73.22.03", "kind": "risiko"}))
    xlsx_response(client, {"kind": "bpjs"})
    csv_log, xlsx_log = ExportLog.objects.order_by("id")
    assert (csv_log.user, csv_log.format, csv_log.rows, csv_log.complete) == (liaison, "csv", 2, True)
    assert csv_log.filters == {"kind": "risiko", "kecamatan": "73.22.03"}
    assert (xlsx_log.format, xlsx_log.filters, xlsx_log.rows) == ("xlsx", {"kind": "bpjs"}, 1)
    assert csv_log.at <= timezone.now()


def test_export_query_count_does_not_grow_with_rows(client, liaison, babies):
    client.force_login(liaison)

    def queries(path):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse(path)) if path.endswith("csv") else xlsx_response(client)
            b"".join(response.streaming_content)
        return len(ctx)

    few = {path: queries(path) for path in ("enrollment:export_csv", "enrollment:export_xlsx")}
    for serial in range(10, 30):
        born(12, serial, mother_name=f"Ibu {serial}")
    flag_deadlines()
    assert Enrollment.objects.at_risk().count() > 20
    assert {path: queries(path) for path in few} == few


@pytest.mark.parametrize(
    "make_user",
    [
        lambda: BidanFactory(username="bidan"),
        lambda: UserFactory(role=Role.PETUGAS_DINSOS),
        lambda: UserFactory(role=Role.PETUGAS_DUKCAPIL),
    ],
)
@pytest.mark.parametrize("path", ["enrollment:export_csv", "enrollment:export_xlsx"])
def test_roles_without_the_export_capability_get_403_and_nothing_is_logged(client, babies, make_user, path):
    client.force_login(make_user())
    ask = client.get if path.endswith("csv") else client.post
    assert ask(reverse(path)).status_code == 403
    assert not ExportLog.objects.exists()


def test_export_needs_a_sign_in(client, district):
    response = client.get(reverse("enrollment:export_csv"))
    assert response.status_code == 302 and "/masuk/" in response["Location"]


def test_admin_export_resource_has_the_same_headers_and_cells(liaison, babies, settings):
    settings.IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
    dataset = EnrollmentResource(user=liaison).export(queryset=Enrollment.objects.filter(newborn=babies["formula"]))
    assert dataset.headers == HEADER
    row = dataset[0]
    assert row[2] == "'" + FORMULA
    assert row[3] == babies["formula"].nik
    masked = EnrollmentResource(user=UserFactory(role=Role.PETUGAS_DINSOS)).export(
        queryset=Enrollment.objects.filter(newborn=babies["formula"])
    )
    assert masked[0][3] == mask_number(babies["formula"].nik)


def test_admin_changelist_exports_csv_with_import_exports_formula_setting(client, babies, settings):
    settings.IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
    admin = UserFactory(username="admin", role=Role.ADMIN_DINKES, is_staff=True, is_superuser=True)
    # Both deadlines met: no "Batas waktu", no "Sisa hari".
    update_enrollment(
        enrollment=Enrollment.objects.get(newborn=babies["formula"]),
        by=admin,
        status=EnrollmentStatus.DIPERBARUI,
        nik_updated_on=TODAY(),
    )
    client.force_login(admin)
    url = reverse("admin:enrollment_enrollment_export")
    form = client.get(url)
    assert form.status_code == 200
    fields = {name: "on" for name in form.context["form"].fields if name.startswith("enrollmentresource_")}
    response = client.post(url, {"format": "0", "resource": "0", **fields})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == HEADER
    assert len(rows) == 1 + Enrollment.objects.count()
    done = next(r for r in rows if r[0] == "0001234567893")
    assert (done[2], done[12], done[13]) == ("'" + FORMULA, "", "")
    assert done[14] == "Diperbarui (NIK di BPJS)"
