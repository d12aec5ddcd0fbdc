"""A printed list in Chromium: every row of the filter, a header naming the list, the date and the user,
and no menu, footer, filters or buttons."""

import pytest

from sejagad.roles import Role
from tests.browser.conftest import log_in
from tests.factories import UserFactory, mother_nik, register


@pytest.mark.django_db(transaction=True)
def test_a_printed_list_has_all_rows_and_no_navigation(live_server, district, browser, monkeypatch):
    monkeypatch.setattr("newborns.views.PAGE_SIZE", 2)
    UserFactory(username="rina", first_name="Rina", role=Role.STAF_DINKES)
    for serial in range(1, 5):
        register(mother_nik=mother_nik(serial), mother_name=f"Ibu Nomor {serial}")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    log_in(page, live_server.url, "rina", "rahasia-uji-123")

    page.goto(f"{live_server.url}/bayi/")
    assert page.locator("tbody tr").count() == 2
    page.get_by_role("link", name="Cetak", exact=True).click()
    page.wait_for_url("**cetak=1**")
    page.emulate_media(media="print")

    assert page.locator("tbody tr").count() == 4
    for hidden in ("nav.navbar", "footer", "form[role=search]", "[data-print]"):
        assert not page.locator(hidden).first.is_visible(), hidden
    header = page.locator(".print-header")
    assert header.is_visible()
    assert "Data bayi" in header.inner_text() and "Rina" in header.inner_text()
    assert page.locator("table").first.is_visible()

    page.emulate_media(media="screen")
    assert page.locator("nav.navbar").is_visible() and not header.is_visible()
    context.close()
