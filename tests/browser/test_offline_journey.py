"""Issue #15's journey: a midwife with no signal records births on her phone, and each is saved exactly once
when the signal returns, even when the sending is cut halfway and done again."""

import datetime
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from newborns.models import Newborn
from tests.browser.conftest import log_in
from tests.factories import BidanFactory, mother_nik, nik_for, register

# Written under var/ as the other journeys do; the copies in docs/screenshots/ were taken from these.
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
API = "**/api/newborns/"


def wait_until_kept_offline(page):
    """The service worker controls the page and holds the birth form in its cache."""
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15_000)
    for _ in range(100):
        if page.evaluate("async () => !!(await caches.match(location.pathname))"):
            return
        page.wait_for_timeout(100)
    raise AssertionError("the birth form was never kept in the service worker's cache")


def fill_birth(page, *, nik: str, name: str, born: datetime.date, sex: str, weight: str = "3100"):
    page.get_by_label("NIK ibu").fill(nik)
    page.get_by_label("Nama ibu").fill(name)
    page.get_by_label("Kecamatan domisili").select_option(label="Masamba")
    page.get_by_label("Desa/kelurahan domisili").select_option(label="Pincara")
    page.get_by_label("Tanggal lahir").fill(born.isoformat())
    page.get_by_label(sex).check()
    page.get_by_label("Berat lahir (gram)").fill(weight)
    page.get_by_role("button", name="Simpan kelahiran").click()


def waiting(page) -> int:
    return int(page.locator("#kotak-keluar").get_attribute("data-waiting") or 0)


@pytest.mark.django_db(transaction=True)
def test_births_kept_offline_survive_a_reload_and_are_saved_once_after_an_interrupted_sync(
    live_server, district, phone
):
    BidanFactory(username="bidan", first_name="Rahmawati", last_name="Amir")
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = phone.context
    log_in(phone, live_server.url, "bidan", "rahasia-uji-123")
    phone.goto(f"{live_server.url}/bayi/baru/")
    wait_until_kept_offline(phone)

    # No signal at the village.
    context.set_offline(True)
    born = timezone.localdate() - datetime.timedelta(days=1)
    fill_birth(phone, nik=mother_nik(1), name="Siti Aminah", born=born, sex="Perempuan")
    phone.get_by_text("Kelahiran disimpan di HP ini, menunggu sinyal.").wait_for()
    assert waiting(phone) == 1

    # A man's NIK as the mother's: the phone explains, keeps what she typed, and keeps nothing.
    fill_birth(phone, nik="7322031708950001", name="Nur Halimah", born=born, sex="Laki-laki")
    phone.get_by_text(
        "NIK ibu harus NIK perempuan (tanggal lahir pada NIK ditambah 40); NIK ini milik laki-laki."
    ).wait_for()
    assert phone.get_by_label("Nama ibu").input_value() == "Nur Halimah"
    assert waiting(phone) == 1
    phone.screenshot(path=str(DOCS_SCREENSHOTS / "offline-nik-salah.png"), full_page=True)

    fill_birth(phone, nik=mother_nik(2), name="Nur Halimah", born=born, sex="Laki-laki", weight="2900")
    phone.get_by_text("Kelahiran disimpan di HP ini, menunggu sinyal.").wait_for()
    assert waiting(phone) == 2

    # Still no signal: the page comes from the phone, the two births are still waiting.
    phone.reload()
    phone.get_by_role("heading", name="2 kelahiran menunggu sinyal").wait_for()
    items = phone.locator("#kotak-keluar [data-outbox-list] > li")
    assert items.count() == 2
    assert "SITI AMINAH" in items.nth(0).inner_text().upper()
    assert "menunggu sinyal" in items.nth(1).inner_text()
    phone.screenshot(path=str(DOCS_SCREENSHOTS / "offline-menunggu-sinyal.png"), full_page=True)
    assert not Newborn.objects.exists()

    # The signal returns, but the first answer is lost on the way: the server saved the birth, the phone never
    # heard so. The send stops there and says why.
    cut = {"done": False}

    def lose_first_answer(route):
        if not cut["done"]:
            cut["done"] = True
            route.fetch()  # the server receives and saves it
            route.abort("internetdisconnected")
        else:
            route.continue_()

    context.route(API, lose_first_answer)
    context.set_offline(False)
    phone.get_by_text("Belum terkirim: sinyal putus.").wait_for()
    assert Newborn.objects.count() == 1
    assert waiting(phone) == 2

    # She sends again: the first is recognised by its key, the second is saved; nothing twice.
    phone.get_by_role("button", name="Kirim sekarang").click()
    phone.locator("[data-outbox-sent] > li").nth(1).wait_for()
    assert waiting(phone) == 0
    sent = phone.locator("[data-outbox-sent]")
    assert sent.get_by_role("link", name="By. Ny. SITI AMINAH").is_visible()
    assert sent.get_by_role("link", name="By. Ny. NUR HALIMAH").is_visible()
    siti = Newborn.objects.get(mother__name="SITI AMINAH")
    assert f"Daftar JKN paling lambat {siti.registration_deadline.isoformat()}" in sent.inner_text()
    assert f"NIK ke BPJS paling lambat {siti.nik_deadline.isoformat()}" in sent.inner_text()
    phone.screenshot(path=str(DOCS_SCREENSHOTS / "offline-terkirim.png"), full_page=True)

    # A third run (another tap, a reload) sends nothing more.
    phone.evaluate("window.SejagadOutbox.sync()")
    phone.reload()
    phone.locator("[data-outbox-sent] > li").nth(1).wait_for()
    assert waiting(phone) == 0
    assert Newborn.objects.count() == 2
    assert sorted(Newborn.objects.values_list("mother__name", "sex", "weight_grams")) == [
        ("NUR HALIMAH", "L", 2900),
        ("SITI AMINAH", "P", 3100),
    ]
    assert Newborn.objects.values("submission_key").distinct().count() == 2


@pytest.mark.django_db(transaction=True)
def test_outbox_waits_for_a_new_login_then_shows_each_answer_and_a_refused_birth_is_fixed(live_server, district, phone):
    bidan = BidanFactory(username="bidan")
    born = timezone.localdate() - datetime.timedelta(days=2)
    existing = register(by=bidan, mother_nik=mother_nik(3), mother_name="Andi Rahma", birth_date=born)
    context = phone.context
    log_in(phone, live_server.url, "bidan", "rahasia-uji-123")
    phone.goto(f"{live_server.url}/bayi/baru/")
    wait_until_kept_offline(phone)

    context.set_offline(True)
    births = [
        (mother_nik(3), "Andi Rahma", "Perempuan"),  # already recorded
        ("7322995708950004", "Wa Ode Sari", "Laki-laki"),  # a kecamatan code only the server's list refuses
        (mother_nik(5), "Salah Ketik", "Perempuan"),
        (mother_nik(6), "Hasnah", "Laki-laki"),
    ]
    for count, (nik, name, sex) in enumerate(births, start=1):
        fill_birth(phone, nik=nik, name=name, born=born, sex=sex)
        phone.get_by_role("heading", name=f"{count} kelahiran menunggu sinyal").wait_for()

    # The login expired while she was away: nothing is dropped, the outbox waits for her.
    context.clear_cookies()
    context.set_offline(False)
    phone.get_by_text("Sesi masuk sudah berakhir.").first.wait_for()
    assert waiting(phone) == 4
    assert Newborn.objects.count() == 1

    # A birth typed by mistake is discarded before it is ever sent.
    mistaken = phone.locator("[data-outbox-list] > li", has_text="Salah Ketik")
    phone.once("dialog", lambda dialog: dialog.accept())
    mistaken.get_by_role("button", name="Hapus").click()
    phone.get_by_role("heading", name="3 kelahiran menunggu sinyal").wait_for()

    phone.get_by_role("link", name="Masuk lagi").first.click()
    phone.get_by_label("Nama pengguna").fill("bidan")
    phone.get_by_label("Kata sandi").fill("rahasia-uji-123")
    phone.get_by_role("button", name="Masuk").click()
    phone.wait_for_url(f"{live_server.url}/bayi/baru/")

    # Each answer: one already recorded (a link to it), one refused (the server's words), one saved.
    sent = phone.locator("[data-outbox-sent]")
    sent.get_by_role("link", name="By. Ny. HASNAH").wait_for()
    duplicate = sent.locator("li", has_text="Sudah tercatat")
    assert (
        duplicate.get_by_role("link", name="Buka data yang sudah ada")
        .get_attribute("href")
        .endswith(f"/bayi/{existing.pk}/")
    )
    refused = phone.locator("[data-outbox-list] > li", has_text="Wa Ode Sari")
    assert "Kode kecamatan 732299 pada NIK tidak ada dalam daftar Kemendagri saat ini" in refused.inner_text()
    assert waiting(phone) == 1
    assert Newborn.objects.count() == 2

    # She checks the card, confirms the number is written so, and saves again: it is sent with the same key.
    refused.get_by_role("button", name="Perbaiki").click()
    phone.get_by_text("Memperbaiki kelahiran yang menunggu").wait_for()
    assert "tidak ada dalam daftar Kemendagri" in phone.locator("#id_mother_nik ~ [data-offline-error]").inner_text()
    assert phone.get_by_label("NIK ibu").input_value() == "7322995708950004"
    assert phone.get_by_label("Nama ibu").input_value() == "Wa Ode Sari"
    phone.get_by_label("Saya sudah memeriksa: nomor ini memang tertulis demikian di dokumen").check()
    phone.get_by_role("button", name="Simpan kelahiran").click()
    sent.get_by_role("link", name="By. Ny. WA ODE SARI").wait_for()
    assert waiting(phone) == 0
    assert sorted(Newborn.objects.values_list("mother__name", flat=True)) == ["ANDI RAHMA", "HASNAH", "WA ODE SARI"]
    assert not Newborn.objects.filter(mother__name="SALAH KETIK").exists()


@pytest.mark.django_db(transaction=True)
def test_the_phone_keeps_only_the_app_shell_and_the_empty_birth_form(live_server, district, phone):
    """Pages that show NIKs (lists, a baby's page) and API answers are never stored by the service worker."""
    bidan = BidanFactory(username="bidan")
    baby = register(by=bidan)
    log_in(phone, live_server.url, "bidan", "rahasia-uji-123")
    phone.goto(f"{live_server.url}/bayi/baru/")
    wait_until_kept_offline(phone)
    phone.goto(f"{live_server.url}/bayi/")
    phone.goto(f"{live_server.url}/bayi/{baby.pk}/")
    phone.evaluate("() => fetch('/api/newborns/').then(r => r.json())")

    kept = phone.evaluate(
        """async () => {
          const urls = [];
          for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
          }
          return urls;
        }"""
    )
    assert "/bayi/baru/" in kept
    assert [url for url in kept if url != "/bayi/baru/" and not url.startswith("/static/")] == []
    assert "/static/js/offline/outbox.js" in kept


@pytest.mark.django_db(transaction=True)
def test_a_phone_that_says_online_but_reaches_no_server_keeps_the_birth(live_server, district, phone):
    """One bar of signal and nothing gets through: the birth is kept on the phone, not lost to an error page."""
    BidanFactory(username="bidan")
    log_in(phone, live_server.url, "bidan", "rahasia-uji-123")
    phone.goto(f"{live_server.url}/bayi/baru/")
    wait_until_kept_offline(phone)
    for path in ("**/healthz", API):
        phone.context.route(path, lambda route: route.abort("timedout"))
    fill_birth(phone, nik=mother_nik(1), name="Siti Aminah", born=timezone.localdate(), sex="Perempuan")
    phone.get_by_text("Kelahiran disimpan di HP ini, menunggu sinyal.").wait_for()
    phone.get_by_text("Belum terkirim: sinyal putus.").wait_for()  # the phone tried at once, and says so
    assert phone.url.endswith("/bayi/baru/")
    assert waiting(phone) == 1
    assert not Newborn.objects.exists()

    phone.context.unroute_all()
    phone.get_by_role("button", name="Kirim sekarang").click()
    phone.locator("[data-outbox-sent]").get_by_role("link", name="By. Ny. SITI AMINAH").wait_for()
    assert Newborn.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_unusual_mother_age_is_confirmed_on_the_phone_and_the_server_accepts_the_confirmation(
    live_server, district, phone
):
    BidanFactory(username="bidan")
    log_in(phone, live_server.url, "bidan", "rahasia-uji-123")
    phone.goto(f"{live_server.url}/bayi/baru/")
    wait_until_kept_offline(phone)
    phone.context.set_offline(True)
    born = timezone.localdate() - datetime.timedelta(days=1)
    fourteen = nik_for(born - relativedelta(years=15, days=-1), female=True)  # her 15th birthday is tomorrow
    fill_birth(phone, nik=fourteen, name="Rini", born=born, sex="Perempuan")
    phone.get_by_text("NIK ibu ini berarti ibu berumur 14 tahun saat melahirkan.").wait_for()
    assert waiting(phone) == 0

    phone.get_by_label("Saya sudah memeriksa: nomor ini memang tertulis demikian di dokumen").check()
    phone.get_by_role("button", name="Simpan kelahiran").click()
    phone.get_by_role("heading", name="1 kelahiran menunggu sinyal").wait_for()

    phone.context.set_offline(False)
    phone.locator("[data-outbox-sent]").get_by_role("link", name="By. Ny. RINI").wait_for()
    assert Newborn.objects.get().mother.nik == fourteen
