"""Everyday things a user expects: her own password (change, reset by e-mail), her API token, error pages
in Indonesian with the layout, Indonesian whatever the browser says, correct Indonesian on the login and in
the admin, sample files on the import pages, and printing a whole list."""

import re
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.views.defaults import server_error
from rest_framework.authtoken.models import Token

from sejagad import pagination
from sejagad.roles import Role
from sejagad.tokens import issue_token
from tests.factories import BidanFactory, UserFactory, mother_nik, register

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "rahasia-uji-123"  # tests.factories.UserFactory's
NEW_PASSWORD = "Sandi-baru-yang-panjang-42"


def visible_text(response) -> str:
    text = re.sub(r"<script.*?</script>|<[^>]+>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", text)


def sign_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


# --- Password change, the account page and the API token ---------------------------------------------


@pytest.mark.parametrize("role", Role.values)
def test_every_role_changes_her_own_password(client, district, role):
    user = (
        BidanFactory(username="pemakai", role=role)
        if role in (Role.BIDAN, Role.SISTEM_FASKES)
        else UserFactory(username="pemakai", role=role)
    )
    client.force_login(user)
    home = client.get(reverse("home"), follow=True)
    assert reverse("password_change") in home.text  # the user menu links the account page

    wrong = client.post(
        reverse("password_change"),
        {"old_password": "bukan-ini", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert wrong.status_code == 200 and "Kata sandi lama" in wrong.text

    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert "Kata sandi Anda sudah diganti." in response.text
    assert response.context["user"].is_authenticated  # still signed in after the change
    fresh = Client()
    assert sign_in(fresh, "pemakai", PASSWORD).status_code == 200  # the old one is refused
    assert sign_in(fresh, "pemakai", NEW_PASSWORD).status_code == 302


def test_the_account_page_shows_and_revokes_her_api_token(client, district):
    user = UserFactory(username="petugas", role=Role.PETUGAS_BPJS)
    issue_token(user=user)
    client.force_login(user)
    page = client.get(reverse("password_change"))
    assert "Token dibuat" in page.text and "Cabut token" in page.text

    response = client.post(reverse("api_token_revoke"), follow=True)
    assert "Token API Anda dicabut" in response.text
    assert "Anda tidak punya token API yang aktif." in response.text
    assert not Token.objects.filter(user=user).exists()


def test_revoking_a_token_needs_a_post(client, district):
    user = UserFactory(role=Role.PETUGAS_BPJS)
    issue_token(user=user)
    client.force_login(user)
    assert client.get(reverse("api_token_revoke")).status_code == 405
    assert Token.objects.filter(user=user).exists()


# --- Password reset by e-mail ---------------------------------------------------------------------------


def reset_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/akun/atur-ulang/\S+/)", message.body).group(1)


def test_reset_by_email_sends_an_indonesian_link_that_sets_a_new_password(client, district, mailoutbox):
    UserFactory(username="ani", email="ani@example.id", role=Role.STAF_DINKES)
    login_page = client.get(reverse("login"))
    assert reverse("password_reset") in login_page.text

    response = client.post(reverse("password_reset"), {"email": "ANI@example.id"})
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["ani@example.id"]
    assert mail.subject == "Atur ulang kata sandi SEJAGAD SEHAT"
    assert "Nama pengguna Anda: ani" in mail.body and "Tautan ini berlaku sekali saja" in mail.body

    form = client.get(reverse_link := reset_link(mail), follow=True)
    assert form.context["validlink"]
    done = client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )
    assert "Kata sandi baru tersimpan" in done.text
    assert sign_in(Client(), "ani", NEW_PASSWORD).status_code == 302
    # The link works once.
    again = client.get(reverse_link, follow=True)
    assert "Tautan ini tidak berlaku lagi" in again.text


def test_reset_answers_the_same_whether_or_not_the_address_exists(client, district, mailoutbox):
    UserFactory(username="ani", email="ani@example.id", role=Role.STAF_DINKES)
    known = client.post(reverse("password_reset"), {"email": "ani@example.id"}, follow=True)
    unknown = client.post(reverse("password_reset"), {"email": "siapa@example.id"}, follow=True)
    assert known.redirect_chain == unknown.redirect_chain
    assert visible_text(known) == visible_text(unknown)
    assert [m.to for m in mailoutbox] == [["ani@example.id"]]


def test_a_reset_lifts_the_lockout_of_her_user_name(client, district, mailoutbox, settings):
    settings.AXES_LOCKOUT_PARAMETERS = ["username"]
    UserFactory(username="ani", email="ani@example.id", role=Role.STAF_DINKES)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "ani", "salah-sekali")
    assert sign_in(client, "ani", PASSWORD).status_code == 429  # locked, even with the right password

    client.post(reverse("password_reset"), {"email": "ani@example.id"})
    form = client.get(reset_link(mailoutbox[0]), follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert not AccessAttempt.objects.filter(username="ani").exists()
    assert sign_in(Client(), "ani", NEW_PASSWORD).status_code == 302


# --- Error pages ----------------------------------------------------------------------------------------


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.SECURE_SSL_REDIRECT = False


def test_404_is_indonesian_with_the_layout(client, district, production):
    client.force_login(UserFactory(role=Role.STAF_DINKES))
    response = client.get("/tidak-ada-halaman-ini/", headers={"accept-language": "en"})
    assert response.status_code == 404
    assert "Halaman tidak ditemukan" in response.text
    assert "navbar-sejagad" in response.text and "Keluar" in response.text  # our layout, signed in
    assert "Page not found" not in response.text and "Traceback" not in response.text


def test_403_is_indonesian_with_the_layout(client, district, production):
    client.force_login(BidanFactory())
    response = client.get(reverse("coverage:imports"))
    assert response.status_code == 403
    assert "Anda tidak punya akses ke halaman ini" in response.text and "navbar-sejagad" in response.text
    assert "Forbidden" not in response.text


def test_500_page_needs_no_request_context(rf):
    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "Maaf, terjadi kesalahan pada server" in response.content.decode()
    assert "css/sejagad.css" in response.content.decode()


def test_a_failed_csrf_check_explains_itself_in_indonesian(district, production):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    assert "Formulir tidak dapat diterima" in response.content.decode()


# --- Language -------------------------------------------------------------------------------------------


def test_indonesian_whatever_the_browser_says_and_english_only_when_chosen(client, district):
    client.force_login(UserFactory(role=Role.STAF_DINKES))
    response = client.get(reverse("newborns:list"), headers={"accept-language": "en-US,en;q=0.9"})
    assert '<html lang="id">' in response.text and "Keluar" in response.text
    assert response["Content-Language"] == "id"

    client.post(reverse("set_language"), {"language": "en", "next": reverse("newborns:list")})
    response = client.get(reverse("newborns:list"), headers={"accept-language": "id"})
    assert '<html lang="en">' in response.text and "Sign out" in response.text

    client.post(reverse("set_language"), {"language": "id", "next": "/"})
    assert "Keluar" in client.get(reverse("newborns:list")).text


def test_an_unknown_language_cookie_falls_back_to_indonesian(client, district):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    assert '<html lang="id">' in client.get(reverse("login")).text


# --- Login message and admin ----------------------------------------------------------------------------


def test_a_wrong_password_is_told_in_correct_indonesian(client, district):
    UserFactory(username="ani", role=Role.STAF_DINKES)
    response = sign_in(client, "ani", "salah")
    assert "Masukkan nama pengguna dan kata sandi yang benar." in response.text
    assert "nama pengguna nama pengguna" not in response.text


# English an Indonesian admin used to show: Django's permission names, django-import-export's buttons and
# export page, django-axes's columns, model names without a verbose_name, simple_history's "historical ...".
ENGLISH = [
    "Can add",
    "Can change",
    "Can view",
    "Import",
    "This exporter will export",
    "Select all",
    "Submit",
    "User Agent",
    "Locked Out",
    "Path",
    "Notifications",
    "Digests",
    "Flag runs",
    "Export logs",
    "historical",
]


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/auth/group/add/",
        "/admin/sejagad/user/",
        "/admin/coverage/participantcount/",
        "/admin/enrollment/enrollment/export/",
        "/admin/axes/accessattempt/",
        "/admin/axes/accesslog/",
    ],
)
def test_the_admin_speaks_indonesian(client, district, url):
    admin_user = UserFactory(username="admin_uji", role=Role.ADMIN_DINKES, is_staff=True, is_superuser=True)
    register()
    sign_in(client, "admin_uji", PASSWORD)  # an access log row for the axes pages
    client.force_login(admin_user)
    response = client.get(url)
    assert response.status_code == 200
    text = visible_text(response)
    found = [w for w in ENGLISH if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)]
    assert found == [], found


def test_the_admin_import_and_export_buttons_are_indonesian(client, district):
    client.force_login(UserFactory(role=Role.ADMIN_DINKES, is_staff=True, is_superuser=True))
    text = visible_text(client.get("/admin/coverage/participantcount/"))
    assert "Impor" in text and "Ekspor" in text
    assert not re.search(r"(?<![\w-])Export", text)


def test_permission_labels_are_indonesian(district):
    from django.contrib.auth.models import Permission

    from sejagad.admin import permission_label

    label = permission_label(Permission.objects.get(codename="add_group"))
    assert label == "Autentikasi dan Otorisasi | grup | Boleh menambah grup"
    assert admin.site.is_registered(Permission.objects.get(codename="add_group").content_type.model_class())


# --- Sample files -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "page", "download", "name", "folder"),
    [
        (Role.STAF_DINKES, "coverage:imports", "coverage:import_sample", "penduduk_kecamatan.xlsx", "coverage"),
        (Role.STAF_DINKES, "coverage:imports", "coverage:import_sample", "peserta.csv", "coverage"),
        (
            Role.PETUGAS_BPJS,
            "enrollment:reconciliation_upload",
            "enrollment:reconciliation_sample",
            "rekonsiliasi-bpjs-contoh.csv",
            "enrollment",
        ),
    ],
)
def test_sample_files_are_offered_on_the_upload_pages(client, district, role, page, download, name, folder):
    client.force_login(UserFactory(role=role))
    url = reverse(download, kwargs={"name": name})
    listing = client.get(reverse(page))
    assert url in listing.text and "docs/" not in listing.text
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert b"".join(response.streaming_content) == (ROOT / folder / "samples" / name).read_bytes()


@pytest.mark.parametrize("name", ["../views.py", "..%2Fviews.py", "tidak-ada.csv", "__init__.py"])
def test_only_the_sample_files_can_be_downloaded(client, district, name):
    client.force_login(UserFactory(role=Role.STAF_DINKES))
    assert client.get(f"/cakupan/impor/contoh/{name}").status_code == 404


# --- Printing -----------------------------------------------------------------------------------------------


@pytest.fixture
def five_babies(district):
    return [register(mother_nik=mother_nik(serial), mother_name=f"Ibu Nomor {serial}") for serial in range(1, 6)]


def test_printing_a_list_shows_every_row_of_the_filter(client, district, five_babies, monkeypatch):
    monkeypatch.setattr("newborns.views.PAGE_SIZE", 2)
    client.force_login(UserFactory(username="staf_cetak", first_name="Rina", role=Role.STAF_DINKES))
    screen = client.get(reverse("newborns:list"))
    assert len(screen.context["page"].object_list) == 2
    assert "cetak=1" in screen.text

    printed = client.get(reverse("newborns:list"), {"cetak": "1", "page": "2"})
    assert len(printed.context["page"].object_list) == 5
    assert 'class="print-mode"' in printed.text
    assert "Semua 5 baris siap dicetak." in printed.text
    header = re.search(r'<header class="print-header".*?</header>', printed.text, re.S).group(0)
    assert "Data bayi" in header and "Dicetak" in header and "Rina" in header


def test_the_printout_names_its_filter_and_keeps_a_number_search_out_of_it(client, district, five_babies):
    client.force_login(UserFactory(role=Role.STAF_DINKES))
    searched = client.post(reverse("newborns:list"), {"q": mother_nik(3), "status": ""})
    printed = client.get(f"{searched['Location']}&cetak=1")
    header = re.search(r'<header class="print-header".*?</header>', printed.text, re.S).group(0)
    assert "Cari" in header and mother_nik(3) not in header
    assert len(printed.context["page"].object_list) == 1


def test_printing_stops_at_the_cap_and_says_so(client, district, five_babies, monkeypatch):
    monkeypatch.setattr(pagination, "PRINT_LIMIT", 3)
    client.force_login(UserFactory(role=Role.STAF_DINKES))
    printed = client.get(reverse("newborns:list"), {"cetak": "1"})
    assert len(printed.context["page"].object_list) == 3
    assert "Hanya 3 baris pertama yang dicetak." in printed.text


def test_the_print_stylesheet_hides_navigation_and_controls():
    css = (ROOT / "static" / "css" / "sejagad.css").read_text()
    printing = css[css.index("@media print") :]
    for hidden in ("nav.navbar", "footer.container", "form[method]", ".btn.btn", ".pagination"):
        assert re.search(rf"(^|[\s,]){re.escape(hidden)}[\s,{{]", printing), hidden
    assert ".print-header { display: block" in printing


def test_an_import_with_errors_offers_the_sample_files(client, district):
    from coverage.models import CoverageImport, ImportKind, ImportStatus

    user = UserFactory(role=Role.STAF_DINKES)
    record = CoverageImport.objects.create(
        kind=ImportKind.POPULATION,
        file_name="penduduk.csv",
        uploaded_by=user,
        region=user.scope_region,
        status=ImportStatus.INVALID,
        error_count=1,
    )
    client.force_login(user)
    page = client.get(reverse("coverage:import_detail", args=[record.pk]))
    assert reverse("coverage:import_sample", kwargs={"name": "penduduk_desa.csv"}) in page.text


@pytest.mark.parametrize(
    ("url", "views", "role"),
    [
        ("enrollment:worklist_reactivation", "enrollment.views", Role.STAF_DINKES),
        ("enrollment:worklist", "enrollment.views", Role.STAF_DINKES),
        ("newborns:nik_worklist", "newborns.views", Role.PETUGAS_DUKCAPIL),
        ("newborns:voided", "newborns.views", Role.STAF_DINKES),
    ],
)
def test_every_worklist_prints_all_rows_of_its_filter(client, district, url, views, role, monkeypatch):
    import datetime

    from django.utils import timezone

    from newborns.services import void_birth

    born = timezone.localdate() - datetime.timedelta(days=100)  # past 3 months: reactivation and Dukcapil lists
    babies = [register(mother_nik=mother_nik(n), mother_name=f"Ibu Cetak {n}", birth_date=born) for n in range(1, 4)]
    if url == "newborns:voided":
        for baby in babies:
            void_birth(newborn=baby, by=UserFactory(role=Role.STAF_DINKES), reason="Data uji")
    if url == "enrollment:worklist":
        born = timezone.localdate() - datetime.timedelta(days=20)  # 8 days left to register: at risk
        for n in range(4, 7):
            register(mother_nik=mother_nik(n), mother_name=f"Ibu Cetak {n}", birth_date=born)
    monkeypatch.setattr(f"{views}.PAGE_SIZE", 2)
    client.force_login(UserFactory(role=role))

    screen = client.get(reverse(url))
    assert len(screen.context["page"].object_list) == 2 and "cetak=1" in screen.text
    printed = client.get(reverse(url), {"cetak": "1"})
    assert len(printed.context["page"].object_list) == 3
    assert 'class="print-mode"' in printed.text and "Semua 3 baris siap dicetak." in printed.text


def test_history_models_have_indonesian_names():
    from enrollment.models import Enrollment
    from newborns.models import Mother, Newborn

    names = [str(model.history.model._meta.verbose_name) for model in (Mother, Newborn, Enrollment)]
    assert names == ["riwayat ibu", "riwayat bayi", "riwayat kepesertaan JKN"]
