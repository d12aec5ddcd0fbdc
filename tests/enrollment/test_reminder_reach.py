"""People see the reminders: each message and its status on the baby's page, and per puskesmas on the dashboard
how many families are reachable and how reminded families met the 28-day deadline against the others."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from enrollment import reminders, selectors
from enrollment.models import Enrollment, EnrollmentStatus, MessageStatus, ReminderMessage, ReminderStep
from newborns.models import Mother
from newborns.selectors import timeline
from sejagad.models import Facility, Region
from sejagad.roles import Role
from tests.enrollment.reminder_steps import ensure_default_steps
from tests.factories import UserFactory, mother_nik, register


@pytest.fixture(autouse=True)
def default_schedule(request):
    """The seeded steps, back in place after any transactional test emptied the tables."""
    if request.node.get_closest_marker("django_db"):
        request.getfixturevalue("db")  # the test's own kind of database access, as its marker says
        ensure_default_steps()


pytestmark = pytest.mark.django_db
TODAY = timezone.localdate
DAY = datetime.timedelta(days=1)


def baby(serial, *, days_old=40, consent=True, facility="PKM-732203", **extra):
    return register(
        mother_nik=mother_nik(serial),
        mother_name=f"Ibu Nomor {serial}",
        birth_date=TODAY() - days_old * DAY,
        phone=f"08110000{serial:04d}",
        reminder_consent=consent,
        facility=Facility.objects.get(code=facility),
        **extra,
    )


def sent(newborn, code="daftar-h-7", status=MessageStatus.SENT):
    ReminderMessage.objects.create(
        newborn=newborn, step=ReminderStep.objects.get(code=code), phone=newborn.mother.phone, status=status
    )


def registered(newborn, *, late: bool):
    enrollment = newborn.enrollment
    on = enrollment.registration_deadline + (DAY if late else -DAY)
    Enrollment.objects.filter(pk=enrollment.pk).update(status=EnrollmentStatus.TERDAFTAR_SEMENTARA, registered_on=on)


def test_reach_per_puskesmas_compares_reminded_families_with_the_others(district):
    masamba = [baby(serial) for serial in range(1, 6)]
    baby(6, consent=False)
    other = baby(7, facility="PKM-732211")
    # Reminded: 2 of 3 registered in time. Not reminded: 1 of 2 (a queued message is not a reminder).
    for newborn in masamba[:3]:
        sent(newborn)
    registered(masamba[0], late=False)
    registered(masamba[1], late=False)
    registered(masamba[2], late=True)
    sent(masamba[3], status=MessageStatus.QUEUED)
    registered(masamba[3], late=False)
    sent(other, status=MessageStatus.DELIVERED)
    registered(other, late=False)

    rows = selectors.reminder_reach_by_facility(
        UserFactory(role=Role.STAF_DINKES),
        region=Region.objects.get(code="73.22"),
        born_from=None,
        born_to=None,
        today=TODAY(),
    )
    by_name = {row["facility"]: row for row in rows}
    masamba_row = by_name["Puskesmas Masamba"]
    assert (masamba_row["families"], masamba_row["reachable"]) == (6, 5)
    assert (masamba_row["reminded_due"], masamba_row["reminded_in_time_pct"]) == (3, 66.7)
    assert (masamba_row["others_due"], masamba_row["others_in_time_pct"]) == (3, 33.3)
    other_row = by_name[other.facility.name]
    assert (other_row["reminded_due"], other_row["reminded_in_time_pct"], other_row["others_due"]) == (1, 100.0, 0)
    assert other_row["others_in_time_pct"] is None


def test_the_dashboard_shows_reach_per_puskesmas_in_a_fixed_number_of_queries(client, district):
    staf = UserFactory(role=Role.STAF_DINKES)
    client.force_login(staf)
    first = baby(1)
    sent(first)
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as few:
        page = client.get(reverse("home")).content.decode()
    assert "Pengingat keluarga per puskesmas" in page and "data-reminder-reach" in page
    for serial in range(2, 12):
        newborn = baby(serial, facility=["PKM-732203", "PKM-732211"][serial % 2])
        sent(newborn)
    client.get(reverse("home"))  # the first view after the births recounts their desa in the summary
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("home"))
    assert len(many) == len(few)


def test_the_babys_page_lists_each_message_with_its_status_in_a_fixed_number_of_queries(client, district):
    staf = UserFactory(role=Role.STAF_DINKES)
    client.force_login(staf)
    newborn = baby(1, days_old=1)
    url = reverse("newborns:detail", args=[newborn.pk])
    assert "Belum ada pesan" in client.get(url).content.decode()
    sent(newborn, "selamat-hari-1", MessageStatus.DELIVERED)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    sent(newborn, "daftar-h-7", MessageStatus.FAILED)
    sent(newborn, "nik-h-30", MessageStatus.QUEUED)
    with CaptureQueriesContext(connection) as three:
        page = client.get(url).content.decode()
    assert len(three) == len(one)
    for label in ("Diterima", "Gagal", "Antre"):
        assert label in page
    assert page.count("Kirim ulang") == 2  # the queued one is on its way already


def test_kirim_ulang_is_offered_only_to_roles_that_may_use_it(client, district):
    newborn = baby(1, days_old=1)
    sent(newborn, "selamat-hari-1", MessageStatus.FAILED)
    url = reverse("newborns:detail", args=[newborn.pk])
    client.force_login(UserFactory(role=Role.PETUGAS_DUKCAPIL))
    page = client.get(url).content.decode()
    assert "Hari 1: selamat" in page and "Kirim ulang" not in page
    client.force_login(UserFactory(role=Role.STAF_DINKES))
    assert "Kirim ulang" in client.get(url).content.decode()


def test_a_family_that_stopped_is_not_offered_kirim_ulang(client, district):
    newborn = baby(1, days_old=1)
    sent(newborn, "selamat-hari-1", MessageStatus.FAILED)
    reminders.stop_replies_from("081100000001")
    client.force_login(UserFactory(role=Role.STAF_DINKES))
    page = client.get(reverse("newborns:detail", args=[newborn.pk])).content.decode()
    assert "Kirim ulang" not in page and "Dihentikan" in page


def test_the_babys_timeline_tells_each_message_sent_to_the_family(district):
    newborn = baby(1, days_old=10)
    sent(newborn, "selamat-hari-1", MessageStatus.DELIVERED)
    sent(newborn, "daftar-h-7", MessageStatus.FAILED)
    sent(newborn, "nik-h-30", MessageStatus.QUEUED)
    told = [e["what"] for e in timeline(newborn)]
    step = ReminderStep.objects.get
    assert f"Pengingat ke keluarga \u201c{step(code='selamat-hari-1').name}\u201d: Diterima" in told
    assert f"Pengingat ke keluarga \u201c{step(code='daftar-h-7').name}\u201d: Gagal" in told
    assert not any(step(code="nik-h-30").name in what for what in told)  # still waiting: not an event yet


@pytest.mark.both_databases
@pytest.mark.django_db(transaction=True)
def test_the_cached_dashboard_shows_a_reminder_sent_and_a_consent_withdrawn_at_once(client, district):
    """The reach per puskesmas is cached with the dashboard's figures: a message sent or a mother's consent
    changed, by any path, marks the baby's desa, so the next view counts it."""
    client.force_login(UserFactory(role=Role.STAF_DINKES))
    newborn = baby(1)
    registered(newborn, late=False)

    def masamba():
        rows = client.get(reverse("home")).context["reminder_reach"]
        return next(row for row in rows if row["facility"] == "Puskesmas Masamba")

    assert (masamba()["reachable"], masamba()["reminded_due"]) == (1, 0)
    sent(newborn, status=MessageStatus.DELIVERED)
    assert masamba()["reminded_due"] == 1
    Mother.objects.filter(pk=newborn.mother_id).update(reminders_stopped_at=timezone.now())
    assert masamba()["reachable"] == 0
