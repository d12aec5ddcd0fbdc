"""The pages work under the Content-Security-Policy (no inline script): charts, the birth form's script,
htmx (dashboard filter, import progress), the auto-submitting selects and the API docs; and Chromium reports
no violation on any of them."""

import datetime

import pytest
from django.utils import timezone

from coverage.demo import seed_demo_coverage
from coverage.models import CoverageImport, ImportKind, ImportStatus
from coverage.services import start_import
from sejagad.roles import Role
from tests.browser.conftest import log_in
from tests.coverage.files import POPULATION_HEADER, csv_upload
from tests.factories import UserFactory, register

# Chromium fires this event for every blocked script, style or handler; the init script (injected by
# Playwright, outside the page's policy) collects them before any page script runs.
COLLECT_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + e.sourceFile + ":" + e.lineNumber);
});
"""


def chart_drawn(page, selector: str):
    page.wait_for_function(
        "s => window.Chart && Chart.getChart(document.querySelector(s)) !== undefined", arg=selector, timeout=10_000
    )


@pytest.mark.django_db(transaction=True)
def test_pages_work_under_the_policy_and_report_no_violation(live_server, district, browser, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    admin = UserFactory(username="admin", role=Role.ADMIN_DINKES, is_staff=True, is_superuser=True)
    seed_demo_coverage()
    register(by=admin, birth_date=timezone.localdate() - datetime.timedelta(days=24))
    record = start_import(
        kind=ImportKind.POPULATION,
        uploaded=csv_upload(POPULATION_HEADER, [["73.22", "Luwu Utara", "2021-S2", "329.934", "", ""]]),
        by=admin,
    )
    CoverageImport.objects.filter(pk=record.pk).update(status=ImportStatus.VALIDATING, progress=40)

    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="id-ID")
    context.add_init_script(COLLECT_VIOLATIONS)
    page = context.new_page()
    console = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    violations = []

    def collect():
        violations.extend(page.evaluate("window.__csp || []"))

    url = live_server.url
    log_in(page, url, "admin", "rahasia-uji-123")

    # Dashboard: three charts, then htmx swaps the fragment for a new period and they are drawn again.
    page.get_by_role("heading", name="Dasbor Kabupaten Luwu Utara").wait_for()
    for chart in ("coverage", "monthly", "funnel"):
        chart_drawn(page, f"[data-chart={chart}]")
    page.get_by_label("Lahir dari").fill((timezone.localdate() - datetime.timedelta(days=400)).strftime("%Y-%m"))
    page.get_by_label("Lahir dari").dispatch_event("change")
    page.wait_for_url("**dari=**")
    chart_drawn(page, "[data-chart=funnel]")
    collect()

    # Birth form: choosing a kecamatan narrows the desa list (static/js/birth-form.js).
    page.goto(f"{url}/bayi/baru/")
    page.get_by_label("Kecamatan domisili").select_option(label="Masamba")
    assert page.locator("optgroup[data-kecamatan]:not([hidden])").count() == 1
    collect()

    # Coverage trend chart; the period picker submits itself.
    page.goto(f"{url}/cakupan/tren/?wilayah=73.22")
    chart_drawn(page, "#grafik-tren")
    collect()
    page.goto(f"{url}/cakupan/")
    page.get_by_label("Periode").select_option("2022-S1")
    page.wait_for_url("**periode=2022-S1**")
    collect()

    # Import progress: htmx polls the fragment (no eval, no injected style) until the preview is ready.
    page.goto(f"{url}/cakupan/impor/{record.pk}/")
    assert page.locator("progress.import-progress").get_attribute("value") == "40"
    CoverageImport.objects.filter(pk=record.pk).update(progress=70)
    page.wait_for_function("() => document.querySelector('progress.import-progress').value === 70", timeout=10_000)
    collect()

    # Language switch: the footer select submits itself.
    page.get_by_label("Bahasa").select_option("en")
    page.wait_for_function("() => document.documentElement.lang === 'en'", timeout=10_000)
    collect()

    # The admin and the API docs (their own, slightly wider policy for Swagger's style block).
    page.goto(f"{url}/admin/")
    collect()
    page.goto(f"{url}/api/docs/")
    page.locator(".swagger-ui .info").wait_for(timeout=15_000)
    collect()

    context.close()
    assert violations == []
    assert console == []
