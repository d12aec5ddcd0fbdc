"""The e-mail is the daily digest: one e-mail per digest, saying what the page says, each digest mailed once
even when the job is delivered twice, read digest by digest (a constant number of queries each)."""

import datetime

import pytest
from celery import signals
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrollment import services, tasks
from enrollment.models import Deadline, Digest, FlagLevel
from sejagad.roles import Role
from tests.celery_worker import real_worker, wait_for
from tests.factories import UserFactory

TODAY = datetime.date(2026, 11, 24)


def staff(name, **kw):
    return UserFactory(username=name, role=Role.STAF_DINKES, email=f"{name}@example.id", **kw)


def digest(user, *counts, day=TODAY):
    """A digest as the daily job writes it; ``counts`` are (deadline, level, n)."""
    lines = [{"list": "risiko", "deadline": d, "level": level, "n": n} for d, level, n in counts]
    return Digest.objects.create(recipient=user, day=day, counts=lines, total=sum(c["n"] for c in lines))


SOME = [(Deadline.REGISTRATION, FlagLevel.KRITIS, 3), (Deadline.NIK, FlagLevel.PERHATIAN, 21)]


def test_each_digest_is_mailed_once_saying_what_the_page_says(district, mailoutbox, settings):
    settings.SITE_URL = "https://sejagad.example.id"
    ani = staff("ani")
    digest(ani, *SOME)
    digest(staff("budi"), (Deadline.NIK, FlagLevel.KRITIS, 1))

    assert services.email_notifications() == 2
    assert sorted((m.to[0], m.subject) for m in mailoutbox) == [
        ("ani@example.id", "SEJAGAD SEHAT: ringkasan 24-11-2026, 24 bayi perlu tindakan"),
        ("budi@example.id", "SEJAGAD SEHAT: ringkasan 24-11-2026, 1 bayi perlu tindakan"),
    ]
    body = next(m.body for m in mailoutbox if m.to == ["ani@example.id"])
    for line in Digest.objects.get(recipient=ani).lines():
        assert f"- {line.text}\n  https://sejagad.example.id{line.url}" in body
    assert "Pendaftaran JKN (28 hari) · Kritis: 3 bayi" in body
    assert services.email_notifications() == 0 and len(mailoutbox) == 2
    assert not Digest.objects.filter(emailed_at__isnull=True).exists()


def test_a_user_without_an_address_is_not_mailed(district, mailoutbox):
    digest(UserFactory(username="tanpa", role=Role.STAF_DINKES, email=""), *SOME)
    assert services.email_notifications() == 0 and mailoutbox == []


@pytest.mark.django_db(transaction=True)
def test_the_job_delivered_twice_sends_each_digest_once(district, mailoutbox):
    digest(staff("ani"), *SOME)
    digest(staff("budi"), *SOME)
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
    assert sorted(ran) == [0, 2]
    assert sorted(m.to[0] for m in mailoutbox) == ["ani@example.id", "budi@example.id"]


def test_a_digest_claimed_by_a_running_delivery_is_not_sent_again_until_its_claim_is_stale(
    district, mailoutbox, settings
):
    a, b = staff("ani"), staff("budi")
    digest(a, *SOME)
    digest(b, *SOME)
    # Another delivery of the job took Ani's digest a moment ago and is sending it.
    Digest.objects.filter(recipient=a).update(email_claimed_at=timezone.now())

    services.email_notifications()
    assert [m.to[0] for m in mailoutbox] == ["budi@example.id"]

    # That delivery died (its worker was killed) before marking it: after the job's time limit it goes.
    limit = settings.JOB_TIME_LIMITS["enrollment.tasks.email_notifications"]
    stale = timezone.now() - datetime.timedelta(seconds=limit + 1)
    Digest.objects.filter(recipient=a).update(email_claimed_at=stale)
    services.email_notifications()
    assert [m.to[0] for m in mailoutbox] == ["budi@example.id", "ani@example.id"]


def test_a_digest_that_could_not_be_sent_is_sent_by_the_next_run(district, mailoutbox, settings):
    digest(staff("ani"), *SOME)
    locmem = settings.EMAIL_BACKEND
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1  # the mail server is down

    assert services.email_notifications() == 0
    assert Digest.objects.filter(emailed_at__isnull=True, email_claimed_at__isnull=True).count() == 1

    settings.EMAIL_BACKEND = locmem
    assert services.email_notifications() == 1 and len(mailoutbox) == 1


def test_the_job_costs_the_same_queries_per_digest_however_long_it_is(district, mailoutbox):
    for name in ("ani", "budi"):
        digest(staff(name), (Deadline.NIK, FlagLevel.KRITIS, 1))
    with CaptureQueriesContext(connection) as two_small:
        services.email_notifications()
    for name in ("citra", "dewi"):
        digest(staff(name), *[(d, level, 100) for d in Deadline for level in FlagLevel if level >= 2])
    with CaptureQueriesContext(connection) as two_large:
        services.email_notifications()
    assert len(two_large) == len(two_small)

    for name in ("eka", "fajar", "gita", "hadi"):
        digest(staff(name), (Deadline.NIK, FlagLevel.KRITIS, 1))
    with CaptureQueriesContext(connection) as four:
        services.email_notifications(batch_size=3)  # two batches
    per_digest = (len(two_small) - 1) // 2
    assert len(four) == 4 * per_digest + 2
    assert len(mailoutbox) == 8
