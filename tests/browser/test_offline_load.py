"""Light: the birth form's first load over slow 3G stays small, and afterwards it opens from the phone.

The figures for production (gunicorn, compressed static files) come from ``scripts/offline_load.py`` and are
written in docs/OFFLINE.md; here the test server sends static files uncompressed, so the budget is looser."""

import pytest

from scripts.offline_load import measure
from tests.browser.conftest import log_in
from tests.factories import BidanFactory

# Uncompressed (the test server): about 370 KB, mostly Bootstrap; production sends about 80 KB (docs/OFFLINE.md).
FIRST_LOAD_BUDGET_BYTES = 450 * 1024


def files(load, *, from_worker: bool) -> set[str]:
    return {path for path, _bytes, worker in load.requests if worker == from_worker}


@pytest.mark.django_db(transaction=True)
def test_the_birth_form_loads_within_budget_on_slow_3g_then_opens_from_the_phone(live_server, district, phone):
    BidanFactory(username="bidan")
    log_in(phone, live_server.url, "bidan", "rahasia-uji-123")

    figures = measure(phone, live_server.url)

    first, again, offline = figures["first"], figures["again"], figures["offline"]
    assert first.from_worker == 0
    assert 0 < first.network_bytes < FIRST_LOAD_BUDGET_BYTES
    # With the worker: every file comes from the phone; with signal only the page itself is asked for.
    # Files, not requests: the browser may ask for the icon twice on the first load.
    assert again.from_network == 0 and files(again, from_worker=True) >= files(first, from_worker=False)
    assert offline.from_network == 0 and offline.network_bytes == 0
    assert files(offline, from_worker=True) >= files(first, from_worker=False)
    assert offline.load_ms < first.load_ms / 5
    assert phone.get_by_role("button", name="Simpan kelahiran").is_visible()
