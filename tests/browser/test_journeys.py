import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from newborns.models import Newborn
from tests.browser.conftest import log_in
from tests.factories import BidanFactory, mother_nik

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.mark.django_db(transaction=True)
def test_bidan_on_a_phone_corrects_a_wrong_nik_then_registers_a_birth(live_server, district, phone):
    BidanFactory(username="bidan", first_name="Rahmawati", last_name="Amir")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    log_in(phone, live_server.url, "bidan", "rahasia-uji-123")

    phone.get_by_role("button", name="Buka menu").click()
    phone.get_by_role("navigation", name="Navigasi utama").get_by_role("link", name="Catat kelahiran").click()
    phone.get_by_label("NIK ibu").fill("7322031708950001")  # a man's NIK
    phone.get_by_label("Nama ibu").fill("Siti Aminah")
    phone.get_by_label("Kecamatan domisili").select_option(label="Masamba")
    phone.get_by_label("Desa/kelurahan domisili").select_option(label="Pincara")
    born = timezone.localdate() - datetime.timedelta(days=2)
    phone.get_by_label("Tanggal lahir").fill(born.isoformat())
    phone.get_by_label("Perempuan").check()
    phone.get_by_label("Berat lahir (gram)").fill("3100")
    phone.get_by_role("button", name="Simpan kelahiran").click()

    error = phone.get_by_text("NIK ibu harus NIK perempuan")
    error.wait_for()
    phone.screenshot(path=str(SCREENSHOTS / "bidan-nik-salah.png"), full_page=True)
    assert not Newborn.objects.exists()
    # What she typed is kept; only the NIK needs fixing.
    assert phone.get_by_label("Nama ibu").input_value() == "Siti Aminah"

    phone.get_by_label("NIK ibu").fill(mother_nik())
    phone.get_by_role("button", name="Simpan kelahiran").click()
    phone.get_by_role("heading", name="By. Ny. SITI AMINAH").wait_for()
    phone.screenshot(path=str(SCREENSHOTS / "bidan-bayi-tersimpan.png"), full_page=True)

    baby = Newborn.objects.get()
    assert baby.temporary_name == "By. Ny. SITI AMINAH"
    assert baby.facility.code == "PKM-732203"
    assert baby.desa_id == "73.22.03.2004"
    assert phone.url.endswith(f"/bayi/{baby.pk}/")
    # Both deadlines, from the birth date: 28 days to register, 3 months to give BPJS the NIK.
    jkn = phone.locator("section", has=phone.get_by_role("heading", name="Kepesertaan JKN"))
    assert f"{baby.registration_deadline.day} " in jkn.inner_text()
    assert jkn.get_by_text("Batas daftar JKN").is_visible()
    assert jkn.get_by_text("Batas pembaruan NIK").is_visible()
    assert _id_date(baby.registration_deadline) in jkn.inner_text()
    assert _id_date(baby.nik_deadline) in jkn.inner_text()


def _id_date(day: datetime.date) -> str:
    """A date as the Indonesian pages write it: 22 Des 2026."""
    from django.utils import formats, translation

    with translation.override("id"):
        return formats.date_format(day, "j M Y")


@pytest.mark.django_db(transaction=True)
def test_dinkes_finds_a_baby_at_risk_and_drills_down_to_its_kecamatan(live_server, district, browser):
    from enrollment.flagging import flag_deadlines
    from sejagad.roles import Role
    from tests.factories import UserFactory, register

    UserFactory(username="dinkes", role=Role.STAF_DINKES, first_name="Nurul", last_name="Hidayah")
    baby = register(birth_date=timezone.localdate() - datetime.timedelta(days=24), mother_name="Hasnah Baso")
    flag_deadlines()  # the morning job, as beat runs it
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="id-ID")
    log_in(page, live_server.url, "dinkes", "rahasia-uji-123")

    page.get_by_role("link", name="Tenggat JKN").click()
    row = page.get_by_role("row", name="By. Ny. HASNAH BASO")
    assert "Kritis" in row.inner_text()
    assert "4 hari" in row.inner_text()
    page.screenshot(path=str(SCREENSHOTS / "dinkes-tenggat.png"), full_page=True)

    page.get_by_role("link", name="Beranda").click()
    page.get_by_role("heading", name="Dasbor Kabupaten Luwu Utara").wait_for()
    assert page.get_by_role("link", name="By. Ny. HASNAH BASO").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "dinkes-dasbor.png"), full_page=True)
    page.get_by_role("link", name="Masamba", exact=True).click()
    page.get_by_role("heading", name="Dasbor Masamba").wait_for()
    assert "wilayah=73.22.03" in page.url  # the view is shareable
    assert page.get_by_role("link", name="Kabupaten Luwu Utara").is_visible()
    assert page.get_by_role("link", name="By. Ny. HASNAH BASO").is_visible()
    page.screenshot(path=str(SCREENSHOTS / "dinkes-kecamatan.png"), full_page=True)
    page.close()
    assert baby.desa.parent_id == "73.22.03"


@pytest.mark.django_db(transaction=True)
def test_bpjs_downloads_the_csv_worklist_and_it_holds_the_rows_on_screen(live_server, district, browser):
    import csv

    from enrollment.flagging import flag_deadlines
    from sejagad.roles import Role
    from tests.factories import UserFactory, register

    UserFactory(username="bpjs", role=Role.PETUGAS_BPJS)
    first = register(birth_date=timezone.localdate() - datetime.timedelta(days=20), mother_name="Siti Aminah")
    second = register(
        birth_date=timezone.localdate() - datetime.timedelta(days=26), mother_name="Rahmawati", mother_nik=mother_nik(2)
    )
    flag_deadlines()
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="id-ID", accept_downloads=True)
    log_in(page, live_server.url, "bpjs", "rahasia-uji-123")
    page.get_by_role("link", name="Tenggat JKN").click()
    on_screen = page.locator("tbody tr").count()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV (untuk sistem)").click()
    path = download_info.value.path()
    raw = open(path, "rb").read()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][:3] == ["Nomor kartu", "Nama sementara", "Nama"]
    names = [r[1] for r in rows[1:]]
    assert names == [second.temporary_name, first.temporary_name]  # fewest days left first, as on screen
    assert len(names) == on_screen
    assert rows[1][rows[0].index("NIK ibu")] == second.mother.nik  # BPJS sees the whole number
    page.screenshot(path=str(SCREENSHOTS / "bpjs-tenggat.png"), full_page=True)
    page.close()
