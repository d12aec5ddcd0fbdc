import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from newborns.models import Newborn
from sejagad.roles import Role
from tests.browser.conftest import log_in
from tests.factories import BidanFactory, UserFactory, mother_nik, nik_for

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.mark.django_db(transaction=True)
def test_bidan_registers_a_kritis_baby_corrects_its_sex_and_dukcapil_records_the_matching_nik(
    live_server, district, phone, browser
):
    BidanFactory(username="bidan", first_name="Rahmawati", last_name="Amir")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    today = timezone.localdate()
    born = today - datetime.timedelta(days=27)
    log_in(phone, live_server.url, "bidan", "rahasia-uji-123")

    # 1. She records the birth, ticking the wrong sex.
    phone.get_by_role("button", name="Buka menu").click()
    phone.get_by_role("navigation", name="Navigasi utama").get_by_role("link", name="Catat kelahiran").click()
    phone.get_by_label("NIK ibu").fill(mother_nik())
    phone.get_by_label("Nama ibu").fill("Siti Aminah")
    phone.get_by_label("Kecamatan domisili").select_option(label="Masamba")
    phone.get_by_label("Desa/kelurahan domisili").select_option(label="Pincara")
    phone.get_by_label("Tanggal lahir").fill(born.isoformat())
    phone.get_by_label("Laki-laki").check()
    phone.get_by_label("Berat lahir (gram)").fill("3100")
    phone.get_by_role("button", name="Simpan kelahiran").click()
    phone.get_by_role("heading", name="By. Ny. SITI AMINAH").wait_for()
    baby = Newborn.objects.get()
    assert baby.sex == "L"
    assert phone.url.endswith(f"/bayi/{baby.pk}/")

    # 2. No morning job has run, yet one day before the 28-day deadline she is Kritis at once.
    phone.goto(f"{live_server.url}/kepesertaan/?level=4")
    assert phone.get_by_role("link", name="By. Ny. SITI AMINAH").first.is_visible()
    assert phone.locator('[data-level="4"]').inner_text().strip() == "Kritis: 1"
    phone.screenshot(path=str(SCREENSHOTS / "bidan-kritis.png"), full_page=True)

    # Her home has no district dashboard (a bidan lacks it): it lists her own babies.
    phone.goto(f"{live_server.url}/")
    assert phone.get_by_role("link", name="By. Ny. SITI AMINAH").first.is_visible()
    assert not phone.locator('[data-kpi="level_4"]').count()

    # 3. She corrects the sex, giving a reason.
    phone.goto(f"{live_server.url}/bayi/{baby.pk}/")
    phone.get_by_role("link", name="Perbaiki data lahir").click()
    assert phone.get_by_label("Nama ibu").input_value() == "SITI AMINAH"  # prefilled, as stored
    assert phone.get_by_label("Laki-laki").is_checked()
    phone.get_by_label("Perempuan").check()
    phone.get_by_label("Alasan perbaikan").fill("salah input")
    phone.get_by_role("button", name="Simpan perbaikan").click()
    phone.get_by_text("Data kelahiran diperbaiki.").wait_for()
    history = phone.locator("section", has=phone.get_by_role("heading", name="Riwayat"))
    assert (
        "Jenis kelamin diubah dari Laki-laki menjadi Perempuan oleh Rahmawati Amir: salah input" in history.inner_text()
    )
    phone.screenshot(path=str(SCREENSHOTS / "bidan-perbaikan.png"), full_page=True)
    baby.refresh_from_db()
    assert baby.sex == "P"

    # 4. Dukcapil, on another phone, records the NIK: a boy's NIK no longer fits, a girl's does.
    UserFactory(username="dukcapil", role=Role.PETUGAS_DUKCAPIL)
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="id-ID", is_mobile=True, has_touch=True
    )
    try:
        page = context.new_page()
        log_in(page, live_server.url, "dukcapil", "rahasia-uji-123")
        page.goto(f"{live_server.url}/bayi/{baby.pk}/")
        page.get_by_role("link", name="Perbarui dokumen").click()

        page.get_by_label("NIK bayi").fill(nik_for(born, female=False))
        page.get_by_label("Tanggal NIK terbit").fill(today.isoformat())
        page.get_by_role("button", name="Simpan", exact=True).click()
        error = page.get_by_text("NIK tidak cocok dengan bayi")
        error.wait_for()
        assert "perempuan" in error.inner_text()
        page.screenshot(path=str(SCREENSHOTS / "dukcapil-nik-tidak-cocok.png"), full_page=True)
        baby.refresh_from_db()
        assert baby.nik is None

        page.get_by_label("NIK bayi").fill(nik_for(born, female=True))
        page.get_by_label("Tanggal NIK terbit").fill(today.isoformat())
        page.get_by_role("button", name="Simpan", exact=True).click()
        page.get_by_text("Dokumen By. Ny. SITI AMINAH diperbarui.").wait_for()
        assert page.url.endswith(f"/bayi/{baby.pk}/")
        page.screenshot(path=str(SCREENSHOTS / "dukcapil-nik.png"), full_page=True)
    finally:
        context.close()

    baby = Newborn.objects.get()
    assert baby.nik == nik_for(born, female=True)
    assert baby.sex == "P"
    assert baby.nik_issued_on == today
