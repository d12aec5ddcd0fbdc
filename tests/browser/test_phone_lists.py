"""Lists in real Chromium: at 390 px (a phone) rows are cards and nothing scrolls sideways; at 1366 px (an
office laptop) every filter shows its whole label and its whole chosen value."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from coverage.demo import seed_demo_coverage
from enrollment.flagging import flag_deadlines
from enrollment.models import EnrollmentStatus
from enrollment.services import update_enrollment
from newborns.services import record_documents, void_birth
from sejagad.roles import Role
from tests.browser.conftest import log_in
from tests.factories import UserFactory, mother_nik, nik_for, register

LIST_PAGES = [
    "newborns:list",
    "newborns:nik_worklist",
    "enrollment:worklist",
    "enrollment:worklist_reactivation",
    "enrollment:worklist_bpjs",
    "enrollment:worklist_dinsos",
    "enrollment:notifications",
    "newborns:voided",
    "coverage:table",
    "coverage:imports",
]
FILTERED_PAGES = [
    "newborns:list",
    "newborns:nik_worklist",
    "enrollment:worklist",
    "enrollment:worklist_reactivation",
    "enrollment:worklist_bpjs",
    "enrollment:worklist_dinsos",
]

OVERFLOW = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"

# Labels whose text is wider than their box, and selects whose chosen option is wider than the room its
# box leaves beside the arrow: what the user reads as "NIK terbi" or "Semua k".
CUT_OFF = """
() => {
  const form = document.querySelector("form[role=search]");
  const cut = [];
  for (const label of form.querySelectorAll("label")) {
    if (label.scrollWidth > label.clientWidth + 1) cut.push("label " + label.textContent.trim());
  }
  const ctx = document.createElement("canvas").getContext("2d");
  for (const el of form.querySelectorAll("select, input:not([type=hidden])")) {
    const style = getComputedStyle(el);
    ctx.font = style.font;
    const text = el.tagName === "SELECT" ? el.options[el.selectedIndex].text : (el.value || el.placeholder);
    const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    if (ctx.measureText(text).width > room + 1) cut.push(el.name + ": " + text);
    if (el.getBoundingClientRect().width < 1) cut.push(el.name + " hidden");
  }
  return cut;
}
"""


@pytest.fixture
def lists_with_rows(district):
    admin = UserFactory(username="admin", role=Role.ADMIN_DINKES, is_staff=True, is_superuser=True)
    bpjs = UserFactory(role=Role.PETUGAS_BPJS)
    today = timezone.localdate()
    seed_demo_coverage()
    for serial, days in enumerate((3, 20, 26, 60, 85, 100, 200), start=1):
        baby = register(
            by=admin,
            birth_date=today - datetime.timedelta(days=days),
            mother_nik=mother_nik(serial),
            mother_name="Andi Nurhikmah Sitti Rahmawati Daeng Tasanrang",
            mother_jkn_segment="PBI-APBN" if serial % 2 else "",
        )
        if serial > 3:
            update_enrollment(
                enrollment=baby.enrollment,
                by=bpjs,
                status=EnrollmentStatus.TERDAFTAR_SEMENTARA,
                jkn_number=f"0001{serial:09d}",
                registered_on=baby.birth_date + datetime.timedelta(days=2),
            )
        if serial in (5, 7):
            record_documents(
                newborn=baby,
                by=admin,
                nik=nik_for(baby.birth_date, female=True, serial=serial),
                nik_issued_on=baby.birth_date + datetime.timedelta(days=5),
                confirmed=True,
            )
    extra = register(by=admin, birth_date=today - datetime.timedelta(days=4), mother_nik=mother_nik(20))
    void_birth(newborn=extra, by=admin, reason="Tercatat dua kali oleh puskesmas dan rumah sakit rujukan")
    flag_deadlines()
    return admin


@pytest.mark.django_db(transaction=True)
def test_lists_fit_a_390px_phone_as_cards_with_filters_behind_one_button(live_server, lists_with_rows, phone):
    url = live_server.url
    log_in(phone, url, "admin", "rahasia-uji-123")
    for name in LIST_PAGES:
        phone.goto(f"{url}{reverse(name)}")
        scroll, width = phone.evaluate(OVERFLOW)
        assert scroll <= width, (name, scroll, width)
        if name in FILTERED_PAGES:
            # Folded: one "Saring" button opens the filters (Bootstrap's collapse, no inline script).
            form = phone.locator("form[role=search]")
            assert not form.is_visible(), name
            phone.get_by_role("button", name="Saring").click()
            form.wait_for(state="visible")
            scroll, width = phone.evaluate(OVERFLOW)
            assert scroll <= width, (name, "filters open", scroll, width)

    # The at-risk list as cards: the name first, then days left and level, side by side, no table header.
    phone.goto(f"{url}{reverse('enrollment:worklist')}")
    assert not phone.locator("table.table-cards thead").is_visible()
    card = phone.locator("table.table-cards tbody tr").first
    name, days, level = (card.locator("td").nth(i).bounding_box() for i in range(3))
    assert name["y"] < days["y"] and abs(days["y"] - level["y"]) < 2
    assert "hari" in card.locator("td").nth(1).inner_text()


@pytest.mark.django_db(transaction=True)
def test_filters_show_whole_labels_and_values_at_1366px(live_server, lists_with_rows, browser):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    page = context.new_page()
    url = live_server.url
    log_in(page, url, "admin", "rahasia-uji-123")
    for name in FILTERED_PAGES:
        page.goto(f"{url}{reverse(name)}")
        assert page.locator("form[role=search]").is_visible(), name
        assert page.evaluate(CUT_OFF) == [], name
        scroll, width = page.evaluate(OVERFLOW)
        assert scroll <= width, (name, scroll, width)
    context.close()
