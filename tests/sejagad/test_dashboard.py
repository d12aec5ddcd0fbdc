import datetime
import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from coverage.models import ParticipantCount, PopulationCount
from coverage.services import compute_coverage
from enrollment.flagging import flag_deadlines
from enrollment.models import EnrollmentStatus, FlagLevel
from enrollment.services import update_enrollment
from newborns.services import record_documents
from sejagad.dashboard import Period
from sejagad.models import Facility, Region
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory, mother_nik, nik_for, register

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def born(days_ago, serial, **kw):
    return register(birth_date=TODAY() - datetime.timedelta(days=days_ago), mother_nik=mother_nik(serial), **kw)


@pytest.fixture
def staf(district):
    return UserFactory(role=Role.STAF_DINKES)


def test_period_defaults_to_the_last_twelve_months():
    period = Period.from_months(None, None, datetime.date(2026, 11, 24))
    assert (period.start, period.end) == (datetime.date(2025, 12, 1), datetime.date(2026, 11, 24))
    chosen = Period.from_months("2026-01", "2026-03", datetime.date(2026, 11, 24))
    assert (chosen.start, chosen.end) == (datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))


def test_headline_figures(client, staf):
    late = born(40, 1)
    on_time = born(40, 2)
    soon = born(2, 3)
    update_enrollment(
        enrollment=on_time.enrollment,
        by=UserFactory(role=Role.PETUGAS_BPJS),
        status=EnrollmentStatus.TERDAFTAR_SEMENTARA,
        registered_on=on_time.birth_date,
        jkn_number="0001234567890",
    )
    client.force_login(staf)
    response = client.get(reverse("home"))
    figures = response.context["figures"]
    assert figures["births"] == 3
    assert (figures["registered_in_time"], figures["registration_due"]) == (1, 2)
    assert figures["registered_in_time_pct"] == 50.0
    assert {item["level"]: item["n"] for item in response.context["levels"]}[FlagLevel.TERLAMBAT] == 1
    # What can still be saved first: the Perhatian baby before the one whose registration is already late.
    assert [e.newborn for e in response.context["at_risk"]] == [soon, late]


class _Figures(HTMLParser):
    """The linked figures of a page: (kind, number shown, href)."""

    def __init__(self):
        super().__init__()
        self.found, self._open = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "data-kpi" in attrs:
            self._open = [attrs["data-kpi"], "", attrs["href"]]

    def handle_data(self, data):
        if self._open:
            self._open[1] += data

    def handle_endtag(self, tag):
        if tag == "a" and self._open:
            kind, text, href = self._open
            self.found.append((kind, int(re.sub(r"\D", "", text)), href))
            self._open = None


def _linked_figures(client, **params) -> list[tuple[str, int, str]]:
    page = client.get(reverse("home"), params)
    assert page.status_code == 200
    parser = _Figures()
    parser.feed(page.text)
    return parser.found


def _list_count(client, href: str) -> int:
    page = client.get(href.replace("&amp;", "&"))
    assert page.status_code == 200
    return int(re.search(r'data-count="(\d+)"', page.text).group(1))


@pytest.fixture
def varied_district(district):
    """Babies at every level and in every state, in several desa, kecamatan and facilities."""
    bpjs = UserFactory(role=Role.PETUGAS_BPJS)
    dukcapil = UserFactory(role=Role.PETUGAS_DUKCAPIL)
    desa = ["73.22.03.2004", "73.22.03.2005", "73.22.03.1001", "73.22.11.2002", "73.22.01.2001"]
    facilities = [Facility.objects.get(code=code) for code in ("PKM-732203", "PKM-732211")] + [None]
    babies = []
    for i, days_ago in enumerate(range(0, 360, 11)):
        sex = "P" if i % 2 else "L"
        baby = register(
            birth_date=TODAY() - datetime.timedelta(days=days_ago),
            mother_nik=mother_nik(i + 1),
            sex=sex,
            desa=Region.objects.get(code=desa[i % len(desa)]),
            facility=facilities[i % len(facilities)],
        )
        babies.append(baby)
        state = i % 5
        if state >= 1 and days_ago >= 3:  # registered in BPJS
            update_enrollment(
                enrollment=baby.enrollment,
                by=bpjs,
                status=EnrollmentStatus.TERDAFTAR_SEMENTARA,
                jkn_number=f"000{i:010d}",
                registered_on=baby.birth_date + datetime.timedelta(days=2),
            )
        if state >= 2 and days_ago >= 10:  # NIK issued
            record_documents(
                newborn=baby,
                by=dukcapil,
                nik=nik_for(baby.birth_date, female=sex == "P", serial=i + 1),
                nik_issued_on=baby.birth_date + datetime.timedelta(days=5),
                confirmed=True,
            )
        if state == 3 and days_ago >= 10:  # NIK at BPJS
            update_enrollment(
                enrollment=baby.enrollment,
                by=bpjs,
                status=EnrollmentStatus.DIPERBARUI,
                nik_updated_on=baby.birth_date + datetime.timedelta(days=8),
            )
    return babies


@pytest.mark.parametrize(
    ("who", "params"),
    [
        ("staf", {}),
        ("staf", {"wilayah": "73.22.03"}),
        ("staf", {"wilayah": "73.22.03.2004"}),
        ("staf", {"dari": f"{TODAY() - datetime.timedelta(days=120):%Y-%m}"}),
        ("kecamatan", {}),
    ],
)
def test_every_linked_figure_equals_the_count_of_the_list_it_opens(client, varied_district, who, params):
    user = {
        "staf": lambda: UserFactory(role=Role.STAF_DINKES),
        "kecamatan": lambda: UserFactory(role=Role.STAF_DINKES, region=Region.objects.get(code="73.22.03")),
    }[who]()
    client.force_login(user)
    figures = _linked_figures(client, **params)
    kinds = {kind for kind, _, _ in figures}
    assert {"births", "at_risk", "reactivation", "level_5", "level_4", "level_3", "level_2"} <= kinds
    assert any(n for kind, n, _ in figures if kind.startswith("level_"))
    for kind, shown, href in figures:
        assert _list_count(client, href) == shown, (kind, href)
    by_kind = {}
    for kind, shown, _ in figures:
        by_kind.setdefault(kind, []).append(shown)
    # A baby is counted once, at its worst level: the levels add up to the at-risk figure.
    assert sum(by_kind[f"level_{level}"][0] for level in (2, 3, 4, 5)) == by_kind["at_risk"][0]


def test_the_desa_dashboard_counts_its_own_babies(client, staf):
    born(20, 1)  # Pincara, Masamba
    born(25, 2, desa=Region.objects.get(code="73.22.03.2005"))
    client.force_login(staf)
    response = client.get(reverse("home"), {"wilayah": "73.22.03.2004"})
    assert response.context["figures"]["births"] == 1
    assert response.context["figures"]["at_risk"] == 1
    assert len(response.context["at_risk"]) == 1


def test_coverage_and_gap_come_from_the_snapshots(client, staf):
    PopulationCount.objects.create(region_id="73.22.03.2004", period="2021-S2", total=329_934)
    ParticipantCount.objects.create(region_id="73.22.03.2004", period="2021-S2", segment="PBI-APBN", total=244_956)
    compute_coverage()
    client.force_login(staf)
    response = client.get(reverse("home"))
    assert "74,24 %" in response.text
    assert "kurang 68.482 jiwa" in response.text
    masamba = next(row for row in response.context["children"] if row["region"].code == "73.22.03")
    assert str(masamba["snapshot"].coverage_pct) == "74.24"


def test_the_cached_dashboard_shows_new_coverage_at_once(client, staf):
    """The rendered dashboard is cached under the coverage snapshots' stamp too: an import's roll-up, or a
    new UHC criterion, shows on the next view, with no write to any birth."""
    client.force_login(staf)
    assert "74,24 %" not in client.get(reverse("home")).text
    assert "74,24 %" not in client.get(reverse("home")).text  # cached
    PopulationCount.objects.create(region_id="73.22.03.2004", period="2021-S2", total=329_934)
    ParticipantCount.objects.create(region_id="73.22.03.2004", period="2021-S2", segment="PBI-APBN", total=244_956)
    compute_coverage()
    assert "74,24 %" in client.get(reverse("home")).text
    ParticipantCount.objects.filter(region_id="73.22.03.2004").update(total=250_000)
    compute_coverage()
    assert "75,77 %" in client.get(reverse("home")).text


def test_drill_down_from_kabupaten_to_kecamatan_keeps_the_filters_in_the_url(client, staf):
    born(10, 1)
    flag_deadlines()
    client.force_login(staf)
    kabupaten = client.get(reverse("home"), {"dari": "2026-01", "sampai": "2026-12"})
    assert "?wilayah=73.22.03&amp;dari=2026-01&amp;sampai=" in kabupaten.text
    kecamatan = client.get(reverse("home"), {"wilayah": "73.22.03", "dari": "2026-01"})
    assert "Dasbor Masamba" in kecamatan.text
    assert len(kecamatan.context["children"]) == 19  # the desa of Masamba
    assert sum(row["births"] for row in kecamatan.context["children"]) == kecamatan.context["figures"]["births"]


def test_htmx_filter_change_returns_only_the_dashboard(client, staf):
    client.force_login(staf)
    response = client.get(reverse("home"), {"wilayah": "73.22.03"}, headers={"HX-Request": "true"})
    assert "Dasbor Masamba" in response.text
    assert "<html" not in response.text


def test_a_region_outside_the_users_scope_is_not_found(client, district):
    from sejagad.models import Region

    client.force_login(UserFactory(role=Role.STAF_DINKES, region=Region.objects.get(code="73.22.11")))
    assert client.get(reverse("home"), {"wilayah": "73.22.03"}).status_code == 404


def test_bidan_home_lists_her_facilitys_babies_and_no_district_figures(client, district):
    mine = born(25, 1)  # Kritis: on her page today (tests/sejagad/test_landing.py)
    other = born(25, 2, facility=Facility.objects.get(code="PKM-732211"))
    flag_deadlines()
    client.force_login(BidanFactory())
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "figures" not in response.context
    assert "Dasbor" not in response.text
    assert f'href="{reverse("newborns:detail", args=[mine.pk])}"' in response.text
    assert f'href="{reverse("newborns:detail", args=[other.pk])}"' not in response.text
    assert "Catat kelahiran" in response.text
    # The dashboard fragment is not hers either, with or without a region asked for.
    assert client.get(reverse("home"), {"wilayah": "73.22"}, headers={"HX-Request": "true"}).status_code == 403


def test_fresh_district_is_told_what_to_do_first(client, staf):
    client.force_login(staf)
    response = client.get(reverse("home"))
    assert "Belum ada data untuk wilayah dan periode ini" in response.text


def test_dashboard_query_count_does_not_grow_with_the_data(client, staf):
    """The first view after births were written recounts their desa (a fixed number of statements however
    many); later views only read the summary."""
    client.force_login(staf)
    client.get(reverse("home"))
    born(10, 1)
    flag_deadlines()
    with CaptureQueriesContext(connection) as few_written:
        client.get(reverse("home"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("home"))
    for i in range(2, 25):
        born(i * 7, i, facility=Facility.objects.order_by("?").first())
    flag_deadlines()
    with CaptureQueriesContext(connection) as many_written:
        client.get(reverse("home"))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("home"))
    # A view of unchanged data reads the versions, the deadline check, the session, user and bell: no figure.
    assert len(many) == len(few) <= 7
    # After writes: the recount of the summary, then the figures, coverage and rows are read and rendered once.
    assert len(many_written) == len(few_written) <= 30


def test_an_unchanged_dashboard_is_read_from_the_cache_and_a_birth_shows_at_once(client, staf):
    client.force_login(staf)
    born(10, 1)
    assert client.get(reverse("home")).context["figures"]["births"] == 1
    with CaptureQueriesContext(connection) as again:
        assert client.get(reverse("home")).context["figures"]["births"] == 1
    read = " ".join(q["sql"] for q in again.captured_queries)
    # Neither the summary's sums nor the babies at risk are read again (the reminders' reach is, live).
    assert 'SUM("enrollment_birthsummary"' not in read and '"enrollment_enrollment"."priority"' not in read
    born(12, 2)  # a new summary version: the cached figures are not used
    assert client.get(reverse("home")).context["figures"]["births"] == 2
    # Another kecamatan's officer asking for the same page gets her own area, not the cached one.
    other = UserFactory(role=Role.STAF_DINKES, region=Region.objects.get(code="73.22.11"))
    client.force_login(other)
    assert client.get(reverse("home")).context["figures"]["births"] == 0


def test_dinkes_sees_when_the_deadline_check_last_ran_and_when_todays_is_overdue(client, staf, settings):
    client.force_login(staf)
    # Today's run was due at 00:00 (no time limit), so from the first minute of the day it is overdue.
    settings.DEADLINE_FLAG_HOUR = 0
    settings.JOB_TIME_LIMITS = {**settings.JOB_TIME_LIMITS, "enrollment.tasks.flag_deadlines": 0}
    born(10, 1)
    flag_deadlines(today=timezone.localdate() - datetime.timedelta(days=1))

    page = client.get(reverse("home")).text
    assert "Pemeriksaan tenggat hari ini belum berjalan" in page

    flag_deadlines()
    page = client.get(reverse("home")).text
    assert "Pemeriksaan tenggat hari ini belum berjalan" not in page
    assert "Diperbarui " in page  # when the flags were last computed


def test_todays_deadline_check_is_overdue_only_after_its_hour_and_time_limit(district, settings):
    from enrollment.selectors import deadline_check

    settings.DEADLINE_FLAG_HOUR = 6
    today = timezone.localdate()
    six = timezone.make_aware(datetime.datetime.combine(today, datetime.time(6, 0)))
    limit = settings.JOB_TIME_LIMITS["enrollment.tasks.flag_deadlines"]
    flag_deadlines(today=today - datetime.timedelta(days=1))

    assert deadline_check(now=six + datetime.timedelta(seconds=limit - 1))["overdue"] is False
    assert deadline_check(now=six + datetime.timedelta(seconds=limit))["overdue"] is True
    flag_deadlines(today=today)
    assert deadline_check(now=six + datetime.timedelta(hours=17))["overdue"] is False


def test_a_same_day_rerun_says_no_level_changed_rather_than_no_baby_checked(client, staf):
    born(10, 1)
    flag_deadlines()
    flag_deadlines()  # the same day again: nothing to look at
    client.force_login(staf)
    page = client.get(reverse("home")).text
    assert "tidak ada tingkat yang berubah" in page and "(0 bayi diperiksa)" not in page


def test_the_monthly_on_time_nik_line_stops_at_the_last_month_whose_deadlines_have_all_passed(client, staf):
    today = timezone.localdate()
    born(10, 1)  # this month: deadlines still to come
    born(200, 2)  # over six months ago: every deadline of its month has passed
    client.force_login(staf)
    series = {row["month"]: row for row in client.get(reverse("home")).context["series"]}

    assert series[f"{today:%Y-%m}"]["births"] == 1 and series[f"{today:%Y-%m}"]["nik_in_time"] is None
    old = (today - datetime.timedelta(days=200)).strftime("%Y-%m")
    assert series[old]["nik_in_time"] == 0


@pytest.mark.parametrize(
    ("month", "today", "passed"),
    [
        (datetime.date(2026, 1, 1), datetime.date(2026, 4, 30), False),  # born 31 Jan: due 30 Apr, still today
        (datetime.date(2026, 1, 1), datetime.date(2026, 5, 1), True),
        (datetime.date(2025, 11, 1), datetime.date(2026, 2, 28), False),  # born 30 Nov: due 28 Feb
        (datetime.date(2025, 11, 1), datetime.date(2026, 3, 1), True),
    ],
)
def test_a_months_nik_deadlines_have_all_passed_the_day_after_the_last_one(month, today, passed):
    from sejagad.dashboard import _all_nik_deadlines_passed

    assert _all_nik_deadlines_passed(month, today) is passed
