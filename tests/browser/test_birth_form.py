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
    phone.get_by_role("link", name="Catat kelahiran").click()
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
