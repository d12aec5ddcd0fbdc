"""The reminder card printed to PDF by headless Chromium, as a midwife prints it at discharge or KN1; and the
baby's page showing the messages sent to the family."""

import datetime
import io
from pathlib import Path

import pytest
from django.utils import timezone
from pypdf import PdfReader

from enrollment import reminders
from enrollment.card import long_date
from newborns.models import Mother
from sejagad.roles import Role
from tests.browser.conftest import log_in
from tests.enrollment.reminder_steps import ensure_default_steps
from tests.factories import BidanFactory, UserFactory, mother_nik, register


@pytest.fixture(autouse=True)
def default_schedule(request):
    """The seeded steps, back in place after any transactional test emptied the tables."""
    if request.node.get_closest_marker("django_db"):
        request.getfixturevalue("db")  # the test's own kind of database access, as its marker says
        ensure_default_steps()


SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


@pytest.mark.django_db(transaction=True)
def test_the_card_prints_on_half_an_a4_sheet_with_the_dates_and_no_nik(live_server, district, browser, settings):
    settings.REMINDER_GATEWAY = "file"
    settings.REMINDER_FILES_DIR = Path(settings.VAR_DIR) / "test-reminders"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    staf = UserFactory(username="staf", first_name="Andi", role=Role.STAF_DINKES)
    born = timezone.localdate() - datetime.timedelta(days=2)
    baby = register(by=staf, birth_date=born, phone="0812 3456 7890", reminder_consent=True)
    reminders.send_reminders(
        now=timezone.make_aware(datetime.datetime.combine(born, datetime.time(10))) + datetime.timedelta(days=1)
    )

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
    page = context.new_page()
    log_in(page, live_server.url, "staf", "rahasia-uji-123")
    page.goto(f"{live_server.url}/bayi/{baby.pk}/")
    messages = page.locator("[data-reminder-messages]")
    assert "Hari 1: selamat dan daftar periksa" in messages.inner_text()
    assert "Terkirim ke gateway" in messages.inner_text()
    page.locator("#h-pesan").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "pesan-pengingat.png"), full_page=True)

    page.get_by_role("link", name="Kartu pengingat").click()
    page.wait_for_url("**/kartu/")
    page.screenshot(path=str(SCREENSHOTS / "kartu-pengingat.png"), full_page=True)
    page.emulate_media(media="print")
    assert not page.locator("[data-no-print]").is_visible()
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    width, height = (float(v) * 25.4 / 72 for v in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (148, 210)  # A5, half an A4 sheet
    text = " ".join(reader.pages[0].extract_text().split())
    assert baby.temporary_name in text
    for date in (baby.birth_date, baby.registration_deadline, baby.nik_deadline):
        assert long_date(date) in text
    assert "Daftarkan ke JKN paling lambat" in text and "Perbarui NIK bayi di BPJS paling lambat" in text
    assert "Kartu Keluarga (KK)" in text and "Akta kelahiran" in text and "Mobile JKN" in text
    assert baby.mother.nik not in text.replace(" ", "")
    size = page.locator("[data-deadline=nik]").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 30  # large type: 26 pt
    context.close()


@pytest.mark.django_db(transaction=True)
def test_a_bidan_on_a_phone_records_the_number_and_the_mothers_consent(live_server, district, phone):
    BidanFactory(username="bidan", first_name="Rahmawati")
    log_in(phone, live_server.url, "bidan", "rahasia-uji-123")
    phone.goto(f"{live_server.url}/bayi/baru/")
    phone.get_by_label("NIK ibu").fill(mother_nik())
    phone.get_by_label("Nama ibu").fill("Siti Aminah")
    phone.get_by_label("Nomor HP keluarga").fill("0812-3456-7890")
    phone.get_by_label("Ibu setuju menerima pengingat").check()
    phone.get_by_label("Kecamatan domisili").select_option(label="Masamba")
    phone.get_by_label("Desa/kelurahan domisili").select_option(label="Pincara")
    phone.get_by_label("Tanggal lahir").fill((timezone.localdate() - datetime.timedelta(days=1)).isoformat())
    phone.get_by_label("Perempuan").check()
    phone.get_by_label("Berat lahir (gram)").fill("3100")
    phone.get_by_role("button", name="Simpan kelahiran").click()
    phone.get_by_role("heading", name="By. Ny. SITI AMINAH").wait_for()
    assert "Ibu setuju sejak" in phone.locator("#status-pengingat").inner_text()
    mother = Mother.objects.get()
    assert (mother.phone, mother.reminder_consent_by.username) == ("+6281234567890", "bidan")
