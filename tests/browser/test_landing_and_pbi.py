"""In real Chromium on a 390 px phone: the bidan's landing, and Dinsos proposing a baby as PBI, seeing it in
the period's list and undoing it the same day; nothing scrolls sideways."""

import datetime

from django.utils import timezone

from enrollment.flagging import flag_deadlines
from enrollment.models import PbiProposal
from sejagad.roles import Role
from tests.browser.conftest import log_in
from tests.factories import BidanFactory, UserFactory, mother_nik, register

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def born(days_ago, serial, **kw):
    return register(
        birth_date=timezone.localdate() - datetime.timedelta(days=days_ago),
        mother_nik=mother_nik(serial),
        mother_name="Andi Nurhikmah Sitti Rahmawati Daeng Tasanrang",
        **kw,
    )


def test_bidan_lands_on_catat_kelahiran_and_todays_babies_on_a_phone(live_server, district, phone):
    BidanFactory(username="bidan")
    kritis = born(26, 1)
    born(4, 2)
    flag_deadlines()
    log_in(phone, live_server.url, "bidan", "rahasia-uji-123")
    assert phone.url == live_server.url + "/"
    button = phone.locator("[data-landing=catat]")
    assert button.is_visible() and button.bounding_box()["width"] > 300  # big: the whole width of a phone
    today = phone.locator("[data-landing=perlu-tindakan] [data-baby]")
    assert today.count() == 1 and today.first.get_attribute("data-baby") == str(kritis.pk)
    assert phone.evaluate(OVERFLOW) <= 0


def test_dinsos_proposes_pbi_then_undoes_it_the_same_day_on_a_phone(live_server, district, phone):
    UserFactory(username="dinsos", role=Role.PETUGAS_DINSOS)
    baby = born(20, 1, mother_jkn_segment="PBI-APBN")
    log_in(phone, live_server.url, "dinsos", "rahasia-uji-123")
    assert phone.url.endswith("/kepesertaan/calon-pbi/")
    phone.goto(f"{live_server.url}/kepesertaan/{baby.enrollment.pk}/usul-pbi/")
    assert phone.locator("[data-pbi-clock]").is_visible()
    phone.get_by_label("PBI-APBD", exact=False).check()
    phone.get_by_role("button", name="Ya, usulkan PBI").click()
    phone.wait_for_url("**/usulan-pbi/?periode=**")
    assert phone.locator("[data-proposal]").count() == 1
    assert phone.evaluate(OVERFLOW) <= 0
    assert PbiProposal.objects.standing().get().segment == "PBI-APBD"
    phone.get_by_role("button", name="Batalkan usulan").click()
    phone.wait_for_load_state()
    assert phone.get_by_text("dibatalkan").first.is_visible()
    assert not PbiProposal.objects.standing().exists()
