"""Lists at national scale: a page needs the same queries whatever the number of babies, and never counts
more rows than ``LIST_COUNT_LIMIT``: past it the page says "lebih dari" and still goes on page by page."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from enrollment import selectors, summary
from newborns.services import record_documents, void_birth
from sejagad.models import Facility
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory, mother_nik, nik_for, register

pytestmark = pytest.mark.django_db

# (list, role that opens it): every list that can be deep.
LISTS = [
    ("newborns:list", Role.STAF_DINKES),
    ("newborns:nik_worklist", Role.PETUGAS_DUKCAPIL),
    ("newborns:voided", Role.ADMIN_DINKES),
    ("enrollment:worklist", Role.STAF_DINKES),
    ("enrollment:worklist_reactivation", Role.STAF_DINKES),
    ("enrollment:worklist_bpjs", Role.PETUGAS_BPJS),
    ("enrollment:worklist_dinsos", Role.PETUGAS_DINSOS),
]


def add_babies(start: int, n: int) -> None:
    """``n`` babies on every list: each serial gives a baby at risk without a NIK, one at risk whose NIK BPJS
    does not hold yet, one past its 3-month deadline, and a voided record."""
    today = timezone.localdate()
    admin = UserFactory(role=Role.ADMIN_DINKES)

    def baby(serial: int, days: int):
        return register(
            by=admin,
            birth_date=today - datetime.timedelta(days=days),
            mother_nik=mother_nik(serial),
            kk_number=f"73220301{serial:08d}",
        )

    for serial in range(start, start + n):
        baby(serial, 20)
        with_nik = baby(serial + 1000, 21)
        record_documents(
            newborn=with_nik,
            by=admin,
            nik=nik_for(with_nik.birth_date, female=True, serial=serial),
            nik_issued_on=today,
            confirmed=True,
        )
        baby(serial + 2000, 100)
        void_birth(newborn=baby(serial + 3000, 22), by=admin, reason="Tercatat dua kali")


def counts_babies(sql: str) -> bool:
    """A COUNT over the births or the memberships (a region's worklists read the enrollment table alone)."""
    return any(f'FROM "{table}"' in sql for table in ("newborns_newborn", "enrollment_enrollment"))


def list_queries(client, url: str) -> list[str]:
    client.get(url)  # the first view after writes recounts their desa in the summary (a fixed few statements)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries]


@pytest.mark.parametrize(("name", "role"), LISTS)
def test_a_list_page_needs_the_same_queries_for_few_babies_or_many(district, client, name, role):
    client.force_login(UserFactory(role=role))
    url = reverse(name)
    add_babies(1, 2)
    few = list_queries(client, url)
    add_babies(3, 12)
    many = list_queries(client, url)
    assert len(many) == len(few)


@pytest.mark.parametrize("name", [name for name, _ in LISTS[3:]])
def test_a_bidans_worklist_counts_her_lists_and_levels_in_one_query_once_per_version(district, client, name):
    """A bidan's babies are her facility's (no summary row holds them): the four lists' lengths and the
    shown list's levels come from one aggregate, and equal the lists themselves. Like the summary's counts,
    it is read again only once a write has made a new version of the summary."""
    add_babies(1, 3)
    summary.refresh()  # the writes' recount, apart from the page's queries
    bidan = BidanFactory()
    client.force_login(bidan)

    def counts():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(name)).status_code == 200
        return [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"] and counts_babies(q["sql"])]

    first, again = counts(), counts()
    assert len(first) == 1 and again == [], (first, again)
    response = client.get(reverse(name))
    kind = response.context["kind"]
    lists = {key: n for key, _, n, _ in response.context["lists"]}
    assert lists == {key: selectors.worklist(bidan, kind=key).count() for key in selectors.WORKLISTS}
    assert sum(lists.values()) > 0
    for level, _, n, _ in response.context["tabs"]:
        assert n == selectors.worklist(bidan, kind=kind, level=level).count()
    assert response.context["page"].paginator.count == lists[kind]


def baby_rows(html: str) -> list[str]:
    return re.findall(r'href="/bayi/(\d+)/"', html)


def filtered(name: str) -> str:
    """A worklist filtered by more than an area and birth months (here the facility every baby was born at),
    so that it counts itself rather than read the dashboard's summary."""
    if not name.startswith("enrollment:"):
        return reverse(name)
    return f"{reverse(name)}?facility={Facility.objects.get(code='PKM-732203').pk}"


@pytest.mark.parametrize(("name", "role"), LISTS)
def test_past_the_count_limit_a_list_says_more_than_and_counts_no_further(district, client, settings, name, role):
    settings.LIST_COUNT_LIMIT = 5
    add_babies(1, 6)
    client.force_login(UserFactory(role=role))
    url = filtered(name)
    first = client.get(url)
    assert first.context["page"].paginator.capped
    assert "Lebih dari 5 bayi" in first.content.decode()
    # Every count of babies stops at the limit (LIMIT 6 inside): never a COUNT(*) of the whole table.
    counts = [sql for sql in list_queries(client, url) if "COUNT(" in sql and counts_babies(sql)]
    counts = [sql for sql in counts if "enrollment_notification" not in sql]  # the bell: her own notices
    assert counts and all(re.search(r"LIMIT 6\b", sql) for sql in counts), counts


@pytest.mark.both_databases
@pytest.mark.parametrize(("name", "role"), [LISTS[0], LISTS[3]])
def test_past_the_count_limit_a_list_still_pages_to_its_end(district, client, settings, name, role):
    settings.LIST_COUNT_LIMIT = 5
    add_babies(1, 26)
    client.force_login(UserFactory(role=role))
    url = filtered(name)
    seen, number = [], 1
    while True:
        response = client.get(url + ("&" if "?" in url else "?") + f"page={number}")
        page = response.context["page"]
        assert page.paginator.capped and page.object_list
        seen += [getattr(row, "newborn_id", None) or row.pk for row in page.object_list]
        if not page.has_next():
            assert "Berikutnya" not in response.content.decode()
            break
        assert "Berikutnya" in response.content.decode()
        number += 1
    assert number > 1
    assert len(seen) == len(set(seen)) >= 26
    # Past the end, a huge or a negative number: back to the first page, not an error.
    for past in (number + 5, 10**30, -3, "x"):
        assert client.get(url + ("&" if "?" in url else "?") + f"page={past}").context["page"].number == 1


@pytest.mark.parametrize(("name", "role"), LISTS[3:])
def test_a_worklist_of_an_area_is_counted_by_the_summary_exactly_past_the_limit(district, client, settings, name, role):
    settings.LIST_COUNT_LIMIT = 5
    add_babies(1, 6)
    client.force_login(UserFactory(role=role))
    url = reverse(name)
    first = client.get(url)
    paginator = first.context["page"].paginator
    assert not paginator.capped
    assert paginator.count == len(selectors.worklist(first.context["user"], **first.context["filters"])) > 5
    assert "Lebih dari" not in first.content.decode()
    # No list, and no level badge of any list, is counted row by row: the summary counted them.
    counts = [sql for sql in list_queries(client, url) if "COUNT(" in sql and counts_babies(sql)]
    assert [sql for sql in counts if "enrollment_notification" not in sql] == []
