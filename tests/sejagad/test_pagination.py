"""Keyset pages: the "Berikutnya" and "Sebelumnya" links carry the sort keys of the row next to their page, and a
page read from them is the OFFSET page, found without OFFSET."""

import datetime
import html
import re
from urllib.parse import unquote

import pytest
from django.core import signing
from django.db import connection
from django.db.models import Case, F, Value, When
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from enrollment.models import Enrollment, EnrollmentStatus
from newborns.models import Newborn
from sejagad.keyset import CURSOR_PARAM, CURSOR_SALT, Keyset
from sejagad.pagination import page_or_all
from sejagad.roles import Role
from tests.factories import UserFactory, mother_nik, register

pytestmark = pytest.mark.django_db

PER_PAGE = 9
MOTHER = "Ibu Rahasia Keyset"


@pytest.fixture
def babies(district):
    """64 babies on 4 birth dates (ties on the first keys), with empty and filled dates (NULLs in the keys)."""
    today = timezone.localdate()
    admin = UserFactory(role=Role.ADMIN_DINKES)
    for i in range(64):
        baby = register(
            by=admin,
            birth_date=today - datetime.timedelta(days=15 + i % 4),
            mother_nik=mother_nik(100 + i),
            mother_name=MOTHER,
            kk_number=f"73220301{100 + i:08d}",
        )
        Newborn.objects.filter(pk=baby.pk).update(
            nik_issued_on=None if i % 3 == 0 else today - datetime.timedelta(days=i % 2),
            kk_added_on=None if i % 2 else today - datetime.timedelta(days=i % 3),
        )
        if i % 5 == 0:  # both deadlines met: no open deadline, ``due_on`` is NULL
            Enrollment.objects.filter(newborn=baby).update(status=EnrollmentStatus.DIPERBARUI)
    return admin


def savable(today):
    return When(birth_date__gte=today - datetime.timedelta(days=16), then=Value(0))


def orderings(today):
    """Orderings as the lists write them: the model's, desc, NULLs first and last, ties, expressions, relations."""
    live = Newborn.objects.filter(voided_at__isnull=True)
    enrollments = Enrollment.objects.all()
    return {
        "Meta ordering -birth_date, -id": live,
        "ties on birth_date, pk appended": live.order_by("birth_date"),
        "nulls last, then desc": live.order_by(F("nik_issued_on").asc(nulls_last=True), "-birth_date"),
        "desc, nulls first": live.order_by(F("nik_issued_on").desc(nulls_first=True)),
        "the database's NULLs": live.order_by("-kk_added_on", "birth_date"),
        "expressions (Dukcapil's list)": live.order_by(
            Case(savable(today), default=Value(1)),
            Case(When(birth_date__gte=today - datetime.timedelta(days=16), then=F("birth_date"))).asc(nulls_last=True),
            F("birth_date").desc(),
            "id",
        ),
        "at-risk list": enrollments.order_by("priority", F("due_on").asc(nulls_last=True), "newborn_id"),
        "reactivation list": enrollments.order_by(F("nik_deadline").desc(), "newborn_id"),
        "BPJS list, a relation with NULLs": enrollments.order_by("newborn__nik_issued_on", "newborn_id"),
    }


def open_page(user, queryset, query: str = ""):
    request = RequestFactory().get("/daftar/" + query)
    request.user = user
    page = page_or_all(request, queryset, PER_PAGE)
    return page, render_to_string("includes/pagination.html", {"page": page}, request=request)


def link(page_html: str, label: str) -> str | None:
    found = re.search(rf'href="([^"]*)">{label}<', page_html)
    return html.unescape(found.group(1)) if found else None


def ids(page) -> list[int]:
    return [row.pk for row in page.object_list]


def walk(user, queryset) -> tuple[list, list, list]:
    """Pages from the first by the Berikutnya links, then back by the Sebelumnya links; the SQL of every page
    read from a link."""
    page, page_html = open_page(user, queryset)
    forward, backward, sql = [ids(page)], [], []
    for label, pages in (("Berikutnya", forward), ("Sebelumnya", backward)):
        while href := link(page_html, label):
            with CaptureQueriesContext(connection) as queries:
                page, page_html = open_page(user, queryset, href)
            if page.number > 1:
                assert CURSOR_PARAM in href
                sql += [q["sql"] for q in queries.captured_queries]
            pages.append(ids(page))
    return forward, backward[::-1] + [forward[-1]], sql


@pytest.mark.both_databases
@pytest.mark.parametrize("capped", [False, True])
def test_following_the_links_reads_the_offset_pages_for_every_ordering(babies, settings, capped):
    if capped:
        settings.LIST_COUNT_LIMIT = 20
    for name, rows in orderings(timezone.localdate()).items():
        forward, backward, sql = walk(babies, rows)
        offset = [ids(open_page(babies, rows, f"?page={n}")[0]) for n in range(1, len(forward) + 1)]
        assert forward == offset, name
        assert backward == forward, name
        seen = [pk for page in forward for pk in page]
        assert len(seen) == len(set(seen)) == rows.count() >= 64, name
        assert len(forward) == 8, name
        assert sql and not [q for q in sql if "OFFSET" in q], name


def worklist_pages(client, url: str, number: int):
    """The worklist's pages 1..number by their Berikutnya links, and the SQL of the last one."""
    response = client.get(url)
    for _ in range(number - 1):
        href = link(response.content.decode(), "Berikutnya")
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url + href)
    return response, [q["sql"] for q in queries.captured_queries]


@pytest.mark.parametrize("name", ["enrollment:worklist", "newborns:list"])
def test_a_deep_page_is_read_without_offset_in_queries_its_sort_keys_bound(babies, client, settings, name):
    settings.LIST_COUNT_LIMIT = 20  # capped, as a national list is
    client.force_login(UserFactory(role=Role.ADMIN_DINKES))
    url = reverse(name)
    client.get(url)  # the first view after writes recounts the summary
    second, second_sql = worklist_pages(client, url, 2)
    third, third_sql = worklist_pages(client, url, 3)
    assert second.context["page"].number == 2 and third.context["page"].number == 3
    # The rows after a cursor are read segment by segment until the page is full (``keyset._segments``): one
    # query more for each segment a page crosses, at most one per sort key and NULL, never more with depth.
    keys = len(Keyset(third.context["page"].paginator.object_list).keys)
    assert abs(len(third_sql) - len(second_sql)) < 2 * keys
    assert not [q for q in second_sql + third_sql if "OFFSET" in q]
    by_number = client.get(url + "?page=3")
    assert [str(r.pk) for r in by_number.context["page"].object_list] == [
        str(r.pk) for r in third.context["page"].object_list
    ]
    assert [q for q in list_sql(client, url + "?page=3") if "OFFSET" in q]


def list_sql(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in queries.captured_queries]


@pytest.mark.both_databases
def test_a_tampered_foreign_or_stale_cursor_reads_the_offset_page(babies, client):
    client.force_login(UserFactory(role=Role.ADMIN_DINKES))
    risiko, aktivasi = reverse("enrollment:worklist"), reverse("newborns:list")
    client.get(risiko)
    expected = [e.pk for e in client.get(risiko + "?page=2").context["page"].object_list]
    assert expected
    own = link(client.get(risiko).content.decode(), "Berikutnya")
    foreign = link(client.get(aktivasi).content.decode(), "Berikutnya")
    token = own.split(f"{CURSOR_PARAM}=")[1]
    for query in (
        foreign,
        own.replace(token, token[:-3] + ("abc" if not token.endswith("abc") else "xyz")),
        f"?page=2&{CURSOR_PARAM}=tidak-sah",
        f"?page=2&{CURSOR_PARAM}=" + signing.dumps([2, 0, "0" * 16, [1]], salt=CURSOR_SALT),
        f"?page=2&{CURSOR_PARAM}=" + signing.dumps("x", salt=CURSOR_SALT),
    ):
        response = client.get(risiko + query)
        assert response.status_code == 200, query
        assert [e.pk for e in response.context["page"].object_list] == expected, query
    # A cursor made for page 2 given with page=3: page 3 by OFFSET.
    page3 = client.get(risiko + own.replace("page=2", "page=3"))
    assert page3.context["page"].number == 3
    assert [e.pk for e in page3.context["page"].object_list] == [
        e.pk for e in client.get(risiko + "?page=3").context["page"].object_list
    ]


def test_the_cursor_in_the_page_holds_no_nik_or_name(babies, client):
    client.force_login(UserFactory(role=Role.ADMIN_DINKES))
    response, _sql = worklist_pages(client, reverse("newborns:list"), 2)
    page_html = response.content.decode()
    cursors = {unquote(html.unescape(c)) for c in re.findall(rf"{CURSOR_PARAM}=([^&\"]+)", page_html)}
    assert len(cursors) == 2  # Sebelumnya, Berikutnya
    personal = {MOTHER, *Newborn.objects.values_list("temporary_name", flat=True)}
    personal |= {n for n in Newborn.objects.values_list("mother__nik", "mother__kk_number") for n in n}
    for cursor in cursors:
        values = signing.loads(cursor, salt=CURSOR_SALT)[3]
        assert values and not personal & {str(v) for v in values}
        assert not [p for p in personal if p in str(values)]


def test_a_list_sorted_on_personal_data_pages_by_offset_without_a_cursor(babies):
    for rows in (
        Newborn.objects.order_by("mother__name", "id"),
        Newborn.objects.order_by("temporary_name", "id"),
        Newborn.objects.order_by(Case(When(mother__nik__startswith="7322", then=Value(0)), default=Value(1)), "id"),
    ):
        page, page_html = open_page(babies, rows, "?page=2")
        assert page.paginator.keyset is None
        assert ids(page) == list(rows.values_list("pk", flat=True)[PER_PAGE : 2 * PER_PAGE])
        assert CURSOR_PARAM not in page_html and link(page_html, "Berikutnya")


def test_a_cursor_names_its_list_by_a_keyed_hash_that_a_searched_nik_cannot_be_guessed_from(babies, settings):
    nik = Newborn.objects.values_list("mother__nik", flat=True)[0]
    rows = Newborn.objects.filter(mother__nik=nik)
    fingerprint = Keyset(rows).fingerprint(PER_PAGE)
    settings.SECRET_KEY = "another-" + settings.SECRET_KEY
    assert fingerprint and Keyset(rows).fingerprint(PER_PAGE) != fingerprint


def test_a_cursor_names_its_list_its_filters_scope_and_order_included(babies):
    """A list differs from another by a filter, a searched number or its order: each has its own fingerprint, so
    a cursor of one is stale for the others (and reads the OFFSET page)."""
    live = Newborn.objects.filter(voided_at__isnull=True)
    nik = Newborn.objects.values_list("mother__nik", flat=True)[0]
    lists = (
        live,
        live.filter(desa_id="73.22.03.2004"),
        live.filter(mother__nik=nik),
        live.filter(mother__nik=nik[:-1] + "9"),
        live.order_by("birth_date"),
        Newborn.objects.in_scope_of(UserFactory(role=Role.STAF_DINKES, region_id="73.22.03")),
    )
    fingerprints = {Keyset(rows).fingerprint(PER_PAGE) for rows in lists}
    assert None not in fingerprints and len(fingerprints) == len(lists)
