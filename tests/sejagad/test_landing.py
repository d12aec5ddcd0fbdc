"""Each of the six demo roles lands on its own work when it opens SEJAGAD SEHAT."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from enrollment.flagging import flag_deadlines
from sejagad.demo import DEMO_USERS
from sejagad.models import Facility
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory, mother_nik, register

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def born(days_ago, serial, **kw):
    return register(birth_date=TODAY() - datetime.timedelta(days=days_ago), mother_nik=mother_nik(serial), **kw)


def demo_user(username):
    _username, first, last, role, facility = next(u for u in DEMO_USERS if u[0] == username)
    if role == Role.BIDAN:
        return BidanFactory(username=username, first_name=first, last_name=last)
    return UserFactory(
        username=username, first_name=first, last_name=last, role=role, is_superuser=role == Role.ADMIN_DINKES
    )


def test_the_table_covers_the_six_demo_roles():
    assert {u[3] for u in DEMO_USERS} == set(Role.values)


@pytest.mark.parametrize("username", ["admin", "dinkes"])
def test_dinkes_lands_on_the_dashboard(client, district, username):
    client.force_login(demo_user(username))
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "figures" in response.context
    assert "Dasbor Kabupaten Luwu Utara" in response.text
    # Home is already the dashboard: no second menu entry for it.
    assert f'href="{reverse("dashboard")}"' not in response.text


def test_bpjs_lands_on_her_list_and_keeps_the_dashboard_in_the_menu(client, district):
    client.force_login(demo_user("bpjs"))
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("enrollment:worklist_bpjs")
    listed = client.get(response["Location"])
    assert listed.status_code == 200
    assert f'href="{reverse("dashboard")}"' in listed.text
    dashboard = client.get(reverse("dashboard"))
    assert "Dasbor Kabupaten Luwu Utara" in dashboard.text and "figures" in dashboard.context
    # The dashboard's own filter links (plain and htmx) still answer on home.
    assert "figures" in client.get(reverse("home"), {"wilayah": "73.22.03"}).context
    fragment = client.get(reverse("home"), {"wilayah": "73.22.03"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "figures" in fragment.context


@pytest.mark.parametrize(
    ("username", "own_list"), [("dukcapil", "newborns:nik_worklist"), ("dinsos", "enrollment:worklist_dinsos")]
)
def test_dukcapil_and_dinsos_land_on_their_list_and_never_on_district_figures(client, district, username, own_list):
    client.force_login(demo_user(username))
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"] == reverse(own_list)
    assert client.get(response["Location"]).status_code == 200
    assert client.get(reverse("dashboard")).status_code == 403
    assert "figures" not in client.get(reverse("home"), {"wilayah": "73.22"}).context
    assert client.get(reverse("home"), {"wilayah": "73.22"}, headers={"HX-Request": "true"}).status_code == 403


def test_bidan_lands_on_a_big_catat_kelahiran_and_her_babies_that_need_action_today(client, district):
    one_day_left = born(27, 1)  # registration deadline tomorrow: Kritis
    three_days_left = born(25, 2)  # Kritis
    eight_days_left = born(20, 3)  # Mendesak
    born(5, 4)  # 23 days left: Perhatian, not today's work
    elsewhere = born(27, 5, facility=Facility.objects.get(code="PKM-732211"))
    flag_deadlines()
    client.force_login(demo_user("bidan"))
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "figures" not in response.context and "Dasbor" not in response.text
    assert f'href="{reverse("newborns:create")}" data-landing="catat"' in response.text
    assert "Catat kelahiran" in response.text
    urgent = [e.newborn for e in response.context["urgent"]]
    assert urgent == [one_day_left, three_days_left, eight_days_left]
    assert elsewhere not in urgent
    assert response.context["urgent_count"] == 3
    assert "1 hari" in response.text


def test_bidan_sees_a_deadline_within_a_week_even_below_mendesak(client, district, settings):
    settings.DEADLINE_WARNING_DAYS = [30, 4, 2]  # a district whose Mendesak starts 4 days before
    five_days_left = born(23, 1)  # Perhatian here, but within 7 days
    born(18, 2)  # 10 days left: Perhatian, later
    flag_deadlines(full=True)
    client.force_login(demo_user("bidan"))
    assert [e.newborn for e in client.get(reverse("home")).context["urgent"]] == [five_days_left]


def test_bidan_with_nothing_urgent_is_told_so(client, district):
    born(5, 1)
    flag_deadlines()
    client.force_login(demo_user("bidan"))
    response = client.get(reverse("home"))
    assert response.context["urgent"] == []
    assert "Tidak ada bayi Anda yang perlu tindakan hari ini" in response.text
