"""The e-mail digest: one e-mail per recipient, each notice mailed once even when the job is delivered twice,
read recipient by recipient (a constant number of queries each) rather than all at once."""

import datetime

import pytest
from celery import signals
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrollment import services, tasks
from enrollment.models import Deadline, Enrollment, FlagLevel, Notification
from sejagad.roles import Role
from tests.celery_worker import real_worker, wait_for
from tests.factories import UserFactory, mother_nik, register

AT_RISK = [FlagLevel.PERHATIAN, FlagLevel.MENDESAK, FlagLevel.KRITIS, FlagLevel.TERLAMBAT]


def babies(n):
    today = timezone.localdate()
    return [
        Enrollment.objects.get(
            newborn=register(birth_date=today - datetime.timedelta(days=40), mother_nik=mother_nik(i))
        )
        for i in range(1, n + 1)
    ]


def notify(recipient, enrollments, levels=AT_RISK):
    Notification.objects.bulk_create(
        Notification(recipient=recipient, enrollment=e, deadline=d, level=level)
        for e in enrollments
        for d in Deadline
        for level in levels
    )


def staff(name):
    return UserFactory(username=name, role=Role.STAF_DINKES, email=f"{name}@example.id")


@pytest.fixture
def enrollments(district):
    found = babies(3)
    Notification.objects.all().delete()  # registering them notified; these tests bring their own notices
    return found


def test_each_notice_is_mailed_once_in_one_digest_per_recipient(enrollments, mailoutbox):
    a, b = staff("ani"), staff("budi")
    notify(a, enrollments)
    notify(b, enrollments[:1])

    assert services.email_notifications() == 24 + 8
    assert sorted((m.to[0], m.subject) for m in mailoutbox) == [
        ("ani@example.id", "SEJAGAD SEHAT: 24 bayi perlu tindakan"),
        ("budi@example.id", "SEJAGAD SEHAT: 8 bayi perlu tindakan"),
    ]
    assert services.email_notifications() == 0 and len(mailoutbox) == 2
    assert not Notification.objects.filter(emailed_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_the_job_delivered_twice_sends_each_digest_once(district, mailoutbox):
    found = babies(2)
    Notification.objects.all().delete()
    notify(staff("ani"), found)
    notify(staff("budi"), found)
    ran = []

    def count(sender=None, **kwargs):
        if sender.name == tasks.email_notifications.name:
            ran.append(kwargs["retval"])

    signals.task_postrun.connect(count, weak=False)
    try:
        with real_worker():
            tasks.email_notifications.delay()
            tasks.email_notifications.delay()  # the same job again, as a redelivery would
            wait_for(lambda: len(ran) == 2)
    finally:
        signals.task_postrun.disconnect(count)
    assert sorted(ran) == [0, 32]
    assert sorted(m.to[0] for m in mailoutbox) == ["ani@example.id", "budi@example.id"]


def test_a_digest_claimed_by_a_running_delivery_is_not_sent_again_until_its_claim_is_stale(
    enrollments, mailoutbox, settings
):
    a, b = staff("ani"), staff("budi")
    notify(a, enrollments)
    notify(b, enrollments)
    # Another delivery of the job took Ani's notices a moment ago and is sending them.
    Notification.objects.filter(recipient=a).update(email_claimed_at=timezone.now())

    services.email_notifications()
    assert [m.to[0] for m in mailoutbox] == ["budi@example.id"]

    # That delivery died (its worker was killed) before marking them: after the job's time limit they go.
    limit = settings.JOB_TIME_LIMITS["enrollment.tasks.email_notifications"]
    stale = timezone.now() - datetime.timedelta(seconds=limit + 1)
    Notification.objects.filter(recipient=a).update(email_claimed_at=stale)
    services.email_notifications()
    assert [m.to[0] for m in mailoutbox] == ["budi@example.id", "ani@example.id"]


def test_a_digest_that_could_not_be_sent_is_sent_by_the_next_run(enrollments, mailoutbox, settings):
    notify(staff("ani"), enrollments)
    locmem = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # the mail server is down

    assert services.email_notifications() == 0
    assert Notification.objects.filter(emailed_at__isnull=True, email_claimed_at__isnull=True).count() == 24

    settings.EMAIL_BACKEND = locmem
    assert services.email_notifications() == 24 and len(mailoutbox) == 1


def test_the_job_costs_the_same_queries_per_recipient_however_many_notices(enrollments, mailoutbox):
    few = [staff("ani"), staff("budi")]
    for user in few:
        notify(user, enrollments[:1], levels=[FlagLevel.KRITIS])
    with CaptureQueriesContext(connection) as two_small:
        services.email_notifications()
    many = [staff("citra"), staff("dewi")]
    for user in many:
        notify(user, enrollments)
    with CaptureQueriesContext(connection) as two_large:
        services.email_notifications()
    assert len(two_large) == len(two_small)  # 24 notices each cost what 2 did

    for user in [staff("eka"), staff("fajar"), staff("gita"), staff("hadi")]:
        notify(user, enrollments[:1], levels=[FlagLevel.KRITIS])
    with CaptureQueriesContext(connection) as four:
        services.email_notifications(batch_size=3)  # two batches of recipients
    per_recipient = (len(two_small) - 1) // 2
    assert len(four) == 4 * per_recipient + 2
    assert len(mailoutbox) == 8


def test_a_long_digest_lists_the_first_babies_and_counts_the_rest(enrollments, mailoutbox, monkeypatch):
    monkeypatch.setattr(services, "DIGEST_LINES", 5)
    notify(staff("ani"), enrollments)
    services.email_notifications()
    body = mailoutbox[0].body
    assert body.count("\n- ") == 5 and "dan 19 lainnya" in body
