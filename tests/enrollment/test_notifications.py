"""Notifications people read: one digest a day per recipient, an immediate notice only when one of her babies
enters Kritis (a few a day at most), none baby by baby on a first run, each marked read on its own, and Dinkes
running the deadline check now and watching it finish."""

import datetime
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.template.defaultfilters import date as date_filter
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from enrollment import flagging, tasks
from enrollment.models import AT_RISK, Deadline, Digest, Enrollment, FlagLevel, FlagRun, Notification
from newborns.models import Mother, Newborn
from sejagad.models import Facility, Region
from sejagad.roles import Role
from tests.celery_worker import real_worker, wait_for
from tests.factories import BidanFactory, UserFactory, mother_nik, register

TODAY = timezone.localdate


def shown(value, fmt: str) -> str:
    """A date as the pages show it, in Indonesian."""
    with translation.override("id"):
        return date_filter(value, fmt)


def born(days_ago, serial=1, **kw):
    return register(birth_date=TODAY() - datetime.timedelta(days=days_ago), mother_nik=mother_nik(serial), **kw)


def imported_babies(n: int, *, midwife=None) -> None:
    """``n`` babies written straight to the table, as a big import does (no enrollment yet, no event),
    born over the past 8 weeks, nine to a day."""
    mother = Mother.objects.create(nik=mother_nik(99), name="IBU IMPOR", desa=Region.objects.get(code="73.22.03.2004"))
    desa, facility = Region.objects.get(code="73.22.03.2004"), Facility.objects.get(code="PKM-732203")
    Newborn.objects.bulk_create(
        Newborn(
            mother=mother,
            birth_date=TODAY() - datetime.timedelta(days=i // 9),
            birth_order=i % 9 + 1,
            sex="P",
            weight_grams=3000,
            desa=desa,
            facility=facility,
            attending_midwife=midwife,
            temporary_name=f"By. Ny. IMPOR {i}",
            submission_key=uuid.uuid4(),
        )
        for i in range(n)
    )


@pytest.fixture
def people(district):
    return {
        "bidan": BidanFactory(username="bidan_masamba", email="bidan@example.id"),
        "dinkes": UserFactory(username="staf_kab", role=Role.STAF_DINKES, email="dinkes@example.id"),
        "kec": UserFactory(username="staf_kec", role=Role.STAF_DINKES, region=Region.objects.get(code="73.22.03")),
    }


@pytest.mark.both_databases
def test_one_digest_per_recipient_per_day_never_repeated(people):
    born(25, 1)  # 3 days left to register: KRITIS
    born(16, 2)  # 12 days left: MENDESAK
    born(17, 3)  # 11 days left: MENDESAK
    born(5, 4)  # 23 days left: PERHATIAN
    flagging.flag_deadlines()
    born(26, 5)  # another Kritis baby later in the day: tomorrow's digest counts it
    assert flagging.flag_deadlines().run.digests == 0  # a re-run the same day
    assert flagging.flag_deadlines(full=True).run.digests == 0  # even a full one

    assert Digest.objects.count() == 3  # bidan, the kabupaten and the kecamatan officer
    mine = Digest.objects.get(recipient=people["kec"])
    assert mine.day == TODAY() and mine.total == 4
    assert mine.counts == [
        {"list": "risiko", "deadline": "registration", "level": FlagLevel.KRITIS, "n": 1},
        {"list": "risiko", "deadline": "registration", "level": FlagLevel.MENDESAK, "n": 2},
        {"list": "risiko", "deadline": "registration", "level": FlagLevel.PERHATIAN, "n": 1},
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        Digest.objects.create(recipient=people["kec"], day=TODAY())

    tomorrow = flagging.flag_deadlines(today=TODAY() + datetime.timedelta(days=1))
    assert tomorrow.run.digests == 3
    assert Digest.objects.get(recipient=people["kec"], day=tomorrow.run.day).total == 5


@pytest.mark.both_databases
def test_a_first_run_over_500_imported_babies_brings_one_digest_each_and_no_notices(people, client):
    imported_babies(504, midwife=people["bidan"])
    run = flagging.flag_deadlines().run  # the first run after an install or a big import
    assert run.full and run.created_enrollments == 504
    assert Enrollment.objects.filter(registration_level=FlagLevel.KRITIS).count() == 72  # 21 to 28 days old

    assert not Notification.objects.exists()
    assert sorted(Digest.objects.values_list("recipient__username", flat=True)) == [
        "bidan_masamba",
        "staf_kab",
        "staf_kec",
    ]
    digest = Digest.objects.get(recipient=people["kec"])
    assert digest.total == 504  # none registered: every baby is at risk, counted once
    # Every line counts the list its link opens, in her area.
    client.force_login(people["kec"])
    for line in digest.lines():
        assert "wilayah=73.22.03" in line.url
        assert client.get(line.url).context["page"].paginator.count == line.n, line.text
    assert sum(line.n for line in digest.lines()) == digest.total


def test_the_daily_cap_counts_every_write_of_the_day(people, settings):
    settings.KRITIS_NOTICES_PER_DAY = 2
    for serial in (1, 2, 3):  # three births recorded one after another, each Kritis at once
        born(22, serial, attending_midwife=people["bidan"])
    assert Notification.objects.filter(recipient=people["bidan"]).count() == 2
    assert Notification.objects.filter(recipient=people["dinkes"]).count() == 2


@pytest.mark.both_databases
def test_babies_entering_kritis_are_told_at_most_a_few_a_day_the_rest_in_the_digest(people, settings):
    settings.KRITIS_NOTICES_PER_DAY = 5
    imported_babies(504, midwife=people["bidan"])
    flagging.flag_deadlines()  # first run: digests only
    tomorrow = TODAY() + datetime.timedelta(days=1)
    flagging.flag_deadlines(today=tomorrow)  # nine babies enter Kritis
    told = Notification.objects.filter(recipient=people["bidan"])
    assert told.count() == 5
    assert set(told.values_list("level", "deadline")) == {(FlagLevel.KRITIS, Deadline.REGISTRATION)}
    # The same day again, through a write: she has had her five today.
    flagging.flag_deadlines(today=tomorrow, enrollments=Enrollment.objects.all())
    assert told.count() == 5
    kritis = {"list": "risiko", "deadline": "registration", "level": FlagLevel.KRITIS, "n": 72}
    assert kritis in Digest.objects.get(recipient=people["bidan"], day=tomorrow).counts  # all of them, counted


def test_only_entering_kritis_brings_an_immediate_notice(people):
    born(15, 1, attending_midwife=people["bidan"])  # 13 days left: MENDESAK, no notice
    born(22, 2, attending_midwife=people["bidan"])  # 6 days left: KRITIS at once, on registration
    told = Notification.objects.filter(recipient=people["bidan"])
    assert list(told.values_list("level", flat=True)) == [FlagLevel.KRITIS]
    flagging.flag_deadlines()  # the first run: the digest, no notice
    assert told.count() == 1
    flagging.flag_deadlines(today=TODAY() + datetime.timedelta(days=6))  # the first baby enters Kritis
    assert told.count() == 2
    flagging.flag_deadlines(today=TODAY() + datetime.timedelta(days=30))  # both TERLAMBAT: digest only
    assert told.count() == 2
    assert set(told.values_list("level", flat=True)) == {FlagLevel.KRITIS}


def test_a_notice_names_the_baby_the_deadline_its_date_and_the_days_left_today(people, client):
    baby = born(25, 1, attending_midwife=people["bidan"])  # 3 days left
    client.force_login(people["bidan"])
    deadline = Enrollment.objects.get(newborn=baby).registration_deadline
    page = client.get(reverse("enrollment:notifications")).text
    item = page[page.index('data-notice="') :]
    item = item[: item.index("</li>")]
    assert "By. Ny. SITI AMINAH" in item
    assert f"Pendaftaran JKN (28 hari): batas {shown(deadline, 'j M Y')}, sisa 3 hari" in item

    # Read later: the days left are today's, from the stored deadline.
    Enrollment.objects.filter(newborn=baby).update(registration_deadline=TODAY() - datetime.timedelta(days=2))
    assert "terlambat 2 hari" in client.get(reverse("enrollment:notifications")).text
    Enrollment.objects.filter(newborn=baby).update(registration_deadline=TODAY())
    assert "batasnya hari ini" in client.get(reverse("enrollment:notifications")).text


def test_one_notice_or_one_digest_is_marked_read_on_its_own_then_all(people, client):
    born(25, 1, attending_midwife=people["bidan"])
    born(24, 2, attending_midwife=people["bidan"])
    flagging.flag_deadlines()
    bidan = people["bidan"]
    first, second = Notification.objects.filter(recipient=bidan).order_by("id")
    others = Notification.objects.exclude(recipient=bidan).first()
    client.force_login(bidan)
    assert client.get(reverse("enrollment:notifications")).context["unread_notifications"] == 3

    assert client.get(reverse("enrollment:notice_read", args=[first.pk])).status_code == 405
    client.post(reverse("enrollment:notice_read", args=[first.pk]))
    client.post(reverse("enrollment:notice_read", args=[others.pk]))  # not hers: nothing happens
    first.refresh_from_db(), second.refresh_from_db(), others.refresh_from_db()
    assert first.read_at and not second.read_at and not others.read_at
    page = client.get(reverse("enrollment:notifications"))
    assert page.context["unread_notifications"] == 2

    digest = Digest.objects.get(recipient=bidan)
    response = client.post(reverse("enrollment:digest_read", args=[digest.pk]), {"next": "https://evil.example/"})
    assert response.url == reverse("enrollment:notifications")  # never off the site
    digest.refresh_from_db()
    assert digest.read_at
    assert client.get(reverse("enrollment:notifications")).context["unread_notifications"] == 1

    client.post(reverse("enrollment:notifications"))
    assert client.get(reverse("enrollment:notifications")).context["unread_notifications"] == 0
    assert not Notification.objects.filter(pk=others.pk, read_at__isnull=False).exists()


def test_the_digest_on_the_page_links_each_count_to_its_list(people, client):
    born(25, 1)
    flagging.flag_deadlines()
    client.force_login(people["kec"])
    page = client.get(reverse("enrollment:notifications")).text
    digest = Digest.objects.get(recipient=people["kec"])
    for line in digest.lines():
        assert f'href="{line.url.replace("&", "&amp;")}" data-digest-line>{line.text}</a>' in page


@pytest.mark.both_databases
def test_each_digest_count_equals_the_list_it_stands_for(people):
    """Per list and level, the digest counts the babies that list shows her at that level: a baby past the
    3-month deadline on "Perlu aktivasi ulang", the others at risk on the at-risk list."""
    from enrollment import selectors

    for serial, days_ago in enumerate((10, 16, 25, 26, 40, 100, 120), start=1):  # every level, both lists
        born(days_ago, serial)
    flagging.flag_deadlines()
    officer = people["kec"]
    counted = {}
    for line in Digest.objects.get(recipient=officer).counts:
        key = (line["list"], line["level"])
        counted[key] = counted.get(key, 0) + line["n"]
    listed = {
        (kind, level.value): selectors.worklist(officer, kind=kind, level=level).count()
        for kind in ("risiko", "aktivasi")
        for level in AT_RISK
    }
    assert counted == {key: n for key, n in listed.items() if n}
    assert {level for kind, level in counted if kind == "risiko"} == {level.value for level in AT_RISK}


def test_the_notification_page_and_bell_cost_the_same_queries_however_many_notices(people, client):
    client.force_login(people["bidan"])
    born(25, 1, attending_midwife=people["bidan"])
    flagging.flag_deadlines()
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("enrollment:notifications"))
    for i in range(2, 12):
        born(20 + i % 8, i, attending_midwife=people["bidan"])
    Digest.objects.create(recipient=people["bidan"], day=TODAY() - datetime.timedelta(days=1))
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("enrollment:notifications"))
    assert page.context["page"].paginator.count > 5
    assert len(many) == len(few)


def test_the_dashboard_says_when_flags_were_computed_and_dinkes_can_run_the_check(people, client):
    flagging.flag_deadlines()
    run = FlagRun.objects.get()
    client.force_login(people["dinkes"])
    page = client.get(reverse("dashboard")).text
    assert f"Diperbarui {shown(timezone.localtime(run.finished_at), 'j M Y, H:i')}" in page
    assert reverse("enrollment:flag_run_now") in page

    client.force_login(UserFactory(username="dukcapil", role=Role.PETUGAS_DUKCAPIL))
    assert client.post(reverse("enrollment:flag_run_now")).status_code == 403


def test_run_now_waits_for_a_worker_and_polls(people, client):
    client.force_login(people["dinkes"])
    response = client.post(reverse("enrollment:flag_run_now"), {"next": reverse("dashboard")})
    assert response.url == reverse("dashboard")
    status = client.get(reverse("enrollment:flag_status")).text
    assert 'data-state="waiting"' in status and 'hx-trigger="every 2s"' in status
    assert "sedang berjalan" in status


@pytest.mark.django_db(transaction=True)
def test_run_now_when_the_queue_is_down_says_so(district, client, monkeypatch):
    from kombu.exceptions import OperationalError

    def down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(tasks.flag_deadlines, "delay", down)
    client.force_login(UserFactory(role=Role.STAF_DINKES))
    page = client.post(reverse("enrollment:flag_run_now"), follow=True).text
    assert "Antrean sedang tidak tersedia" in page
    assert 'data-state="waiting"' not in client.get(reverse("enrollment:flag_status")).text


@pytest.mark.django_db(transaction=True)
def test_run_now_queues_the_job_for_a_real_worker_and_shows_it_finished(district, client, mailoutbox):
    dinkes = UserFactory(role=Role.STAF_DINKES, email="dinkes@example.id")
    born(25, 1)
    client.force_login(dinkes)
    with real_worker():
        client.post(reverse("enrollment:flag_run_now"))
        assert wait_for(lambda: FlagRun.objects.filter(finished_at__isnull=False).exists())
        assert wait_for(lambda: Digest.objects.filter(recipient=dinkes, emailed_at__isnull=False).exists())
    status = client.get(reverse("enrollment:flag_status")).text
    run = FlagRun.objects.get()
    assert 'data-state="finished"' in status and "hx-trigger" not in status
    assert f"{run.examined} bayi diperiksa" in status and "1 ringkasan baru" in status
    assert [m.to for m in mailoutbox] == [["dinkes@example.id"]]
    # Once seen, the status stops saying it.
    assert 'data-state="idle"' in client.get(reverse("enrollment:flag_status")).text
