"""Issue #15, the last gap: with signal, a submitted birth is kept on the phone before it is sent, so a signal
lost during that one send (before or after the server saved it) loses nothing and saves nothing twice."""

import datetime

import pytest
from django.utils import timezone

from newborns.models import Newborn
from tests.browser.conftest import log_in
from tests.browser.test_offline_journey import API, fill_birth, wait_until_kept_offline, waiting
from tests.factories import BidanFactory, mother_nik, register

KEPT = "Kelahiran disimpan di HP ini, menunggu sinyal."
NO_SIGNAL = "Belum terkirim: sinyal putus."


def open_form(phone, live_server):
    bidan = BidanFactory(username="bidan")
    log_in(phone, live_server.url, "bidan", "rahasia-uji-123")
    phone.goto(f"{live_server.url}/bayi/baru/")
    wait_until_kept_offline(phone)
    return bidan


def posts(phone) -> list[str]:
    """The paths every POST of the page goes to."""
    sent: list[str] = []
    phone.on("request", lambda r: r.method == "POST" and sent.append(r.url.split("/", 3)[3]))
    return sent


@pytest.mark.django_db(transaction=True)
def test_a_signal_lost_after_the_server_saved_keeps_the_birth_and_it_is_saved_once(live_server, district, phone):
    open_form(phone, live_server)

    def save_then_lose_the_answer(route):
        route.fetch()  # the server receives and saves the birth
        route.abort("internetdisconnected")  # the phone never hears so

    phone.context.route(API, save_then_lose_the_answer)
    born = timezone.localdate() - datetime.timedelta(days=1)
    fill_birth(phone, nik=mother_nik(1), name="Siti Aminah", born=born, sex="Perempuan")

    # No error page: the birth is on the phone, waiting, and the form is empty for the next one.
    phone.get_by_text(KEPT).wait_for()
    phone.get_by_text(NO_SIGNAL).wait_for()
    assert phone.url.endswith("/bayi/baru/")
    assert waiting(phone) == 1
    assert phone.get_by_label("Nama ibu").input_value() == ""
    assert Newborn.objects.count() == 1

    # The signal is back: sent again with the same key, the server answers with the record it already made.
    phone.context.unroute_all()
    phone.get_by_role("button", name="Kirim sekarang").click()
    sent = phone.locator("[data-outbox-sent]")
    sent.get_by_role("link", name="By. Ny. SITI AMINAH").wait_for()
    assert waiting(phone) == 0
    baby = Newborn.objects.get()
    assert f"Daftar JKN paling lambat {baby.registration_deadline.isoformat()}" in sent.inner_text()
    assert f"NIK ke BPJS paling lambat {baby.nik_deadline.isoformat()}" in sent.inner_text()

    phone.reload()
    phone.evaluate("window.SejagadOutbox.sync()")
    assert waiting(phone) == 0
    assert Newborn.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_signal_lost_before_the_post_arrives_keeps_the_birth_through_a_reload(live_server, district, phone):
    open_form(phone, live_server)
    phone.context.route(API, lambda route: route.abort("internetdisconnected"))
    born = timezone.localdate() - datetime.timedelta(days=2)
    fill_birth(phone, nik=mother_nik(2), name="Nur Halimah", born=born, sex="Laki-laki", weight="2900")
    phone.get_by_text(NO_SIGNAL).wait_for()
    assert waiting(phone) == 1
    assert not Newborn.objects.exists()

    # She closes the page; when it opens again with signal, the birth goes by itself.
    phone.context.unroute_all()
    phone.reload()
    phone.locator("[data-outbox-sent]").get_by_role("link", name="By. Ny. NUR HALIMAH").wait_for()
    assert waiting(phone) == 0
    assert list(Newborn.objects.values_list("mother__name", "sex", "weight_grams")) == [("NUR HALIMAH", "L", 2900)]


@pytest.mark.django_db(transaction=True)
def test_a_server_error_during_the_send_keeps_the_birth_and_says_so(live_server, district, phone):
    open_form(phone, live_server)
    phone.context.route(API, lambda route: route.fulfill(status=502, body="Bad Gateway"))
    fill_birth(phone, nik=mother_nik(3), name="Hasnah", born=timezone.localdate(), sex="Perempuan")
    phone.get_by_text("Belum terkirim: server menjawab 502.").wait_for()
    assert waiting(phone) == 1
    assert not Newborn.objects.exists()

    phone.context.unroute_all()
    phone.locator("[data-outbox-list] > li").get_by_role("button", name="Coba lagi").click()
    phone.locator("[data-outbox-sent]").get_by_role("link", name="By. Ny. HASNAH").wait_for()
    assert Newborn.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_with_signal_a_refusal_stays_in_the_form_and_a_saved_birth_opens_its_record(live_server, district, phone):
    """The online experience is the one of the server's page: messages beside the fields, then the record."""
    open_form(phone, live_server)
    sent = posts(phone)
    born = timezone.localdate() - datetime.timedelta(days=1)
    # A kecamatan code that only the server's Kemendagri list refuses.
    fill_birth(phone, nik="7322995708950004", name="Wa Ode Sari", born=born, sex="Perempuan")
    error = phone.locator("#id_mother_nik ~ [data-offline-error]")
    error.wait_for()
    assert "Kode kecamatan 732299 pada NIK tidak ada dalam daftar Kemendagri saat ini" in error.inner_text()
    assert phone.get_by_text("Periksa kembali isian yang ditandai di bawah. Tidak ada yang tersimpan.").is_visible()
    assert phone.get_by_label("Nama ibu").input_value() == "Wa Ode Sari"
    assert phone.locator("#kotak-keluar").is_hidden()  # nothing waits on the phone: the form holds it
    assert not Newborn.objects.exists()

    phone.get_by_label("Saya sudah memeriksa: nomor ini memang tertulis demikian di dokumen").check()
    phone.get_by_role("button", name="Simpan kelahiran").click()
    phone.get_by_role("heading", name="By. Ny. WA ODE SARI").wait_for()
    baby = Newborn.objects.get()
    assert phone.url.endswith(f"/bayi/{baby.pk}/")
    assert sent == ["api/newborns/", "api/newborns/"]  # never the page's own POST

    phone.goto(f"{live_server.url}/bayi/baru/")
    assert phone.locator("#kotak-keluar").is_hidden()
    assert Newborn.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_with_signal_a_mother_recorded_under_another_name_is_confirmed_in_the_form(live_server, district, phone):
    bidan = open_form(phone, live_server)
    earlier = timezone.localdate() - datetime.timedelta(days=300)
    register(by=bidan, mother_nik=mother_nik(4), mother_name="Andi Rahma", birth_date=earlier)
    fill_birth(phone, nik=mother_nik(4), name="Andi Rahmawati", born=timezone.localdate(), sex="Perempuan")
    error = phone.locator("#id_mother_name ~ [data-offline-error]")
    error.wait_for()
    assert "sudah tercatat atas nama" in error.inner_text()
    assert Newborn.objects.count() == 1

    phone.get_by_label("Benar, nama ibu ini yang sesuai KTP: ubah nama ibu untuk semua bayinya").check()
    phone.get_by_role("button", name="Simpan kelahiran").click()
    phone.get_by_role("heading", name="By. Ny. ANDI RAHMAWATI").wait_for()
    assert sorted(Newborn.objects.values_list("mother__name", flat=True)) == ["ANDI RAHMAWATI", "ANDI RAHMAWATI"]
