"""Reminders to the family: the schedule, consent, district hours, the cap, and the real HTTP adapter against a
gateway started by the test on 127.0.0.1."""

import datetime
import json

import pytest
from celery import signals
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from enrollment import reminders, tasks
from enrollment.models import (
    EnrollmentStatus,
    MessageStatus,
    ReminderMessage,
    ReminderStep,
    ReminderTrigger,
)
from newborns.models import Mother, StopSource
from newborns.services import record_documents, set_reminder_contact
from sejagad.roles import Role
from tests.celery_worker import real_worker, wait_for
from tests.enrollment.gateway_server import fake_gateway
from tests.enrollment.reminder_steps import ensure_default_steps
from tests.factories import BidanFactory, UserFactory, mother_nik, nik_for, register


@pytest.fixture(autouse=True)
def default_schedule(request):
    """The seeded steps, back in place after any transactional test emptied the tables."""
    if request.node.get_closest_marker("django_db"):
        request.getfixturevalue("db")  # the test's own kind of database access, as its marker says
        ensure_default_steps()


DAY = datetime.timedelta(days=1)
SECRET = "rahasia-webhook"
PHONE = "+6281234567890"


def local(day: datetime.date, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour, minute)))


def baby(serial: int = 1, *, born: datetime.date, phone: str = "0812 3456 7890", consent: bool = True, **extra):
    return register(
        mother_nik=mother_nik(serial),
        mother_name=f"Ibu Nomor {serial}",
        birth_date=born,
        phone=phone,
        reminder_consent=consent,
        **extra,
    )


def only(code: str) -> ReminderStep:
    """Leave one default step active, so a test watches one rule."""
    ReminderStep.objects.exclude(code=code).update(is_active=False)
    return ReminderStep.objects.get(code=code)


@pytest.fixture
def gateway(settings):
    with fake_gateway() as fake:
        settings.REMINDER_GATEWAY = "http"
        settings.REMINDER_GATEWAY_URL = fake.url
        settings.REMINDER_GATEWAY_TOKEN = "token-uji"
        settings.REMINDER_GATEWAY_ID_FIELD = "data.id"
        settings.REMINDER_WEBHOOK_SECRET = SECRET
        yield fake


def born_days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)


# --- The schedule -----------------------------------------------------------------------------------------


@pytest.mark.both_databases
@pytest.mark.django_db
@pytest.mark.parametrize("code", ["selamat-hari-1", "daftar-h-7", "nik-h-30", "nik-h-7", "nik-terbit"])
def test_each_default_step_is_queued_once_on_its_day_and_not_the_day_before(district, code):
    step = only(code)
    born = born_days_ago(60)
    newborn = baby(born=born)
    if step.trigger == ReminderTrigger.NIK_RECORDED:
        record_documents(
            newborn=newborn,
            by=UserFactory(role=Role.ADMIN_DINKES),
            nik=nik_for(born, female=True),
            nik_issued_on=born_days_ago(10),
        )
        newborn.refresh_from_db()
    enrollment = newborn.enrollment
    counted_from = {
        ReminderTrigger.AFTER_BIRTH: lambda: born + step.days * DAY,
        ReminderTrigger.BEFORE_REGISTRATION: lambda: enrollment.registration_deadline - step.days * DAY,
        ReminderTrigger.BEFORE_NIK: lambda: enrollment.nik_deadline - step.days * DAY,
        ReminderTrigger.NIK_RECORDED: lambda: newborn.nik_issued_on + step.days * DAY,
    }
    day = counted_from[step.trigger]()

    assert reminders.queue_due_reminders(today=day - DAY) == 0
    assert reminders.queue_due_reminders(today=day) == 1
    assert reminders.queue_due_reminders(today=day) == 0
    assert reminders.queue_due_reminders(today=day + DAY) == 0
    message = ReminderMessage.objects.get()
    assert (message.step, message.newborn, message.phone, message.status) == (step, newborn, PHONE, "queued")


@pytest.mark.django_db
def test_a_missed_day_is_caught_up_within_the_catch_up_days_only(district, settings):
    settings.REMINDER_CATCH_UP_DAYS = 2
    only("selamat-hari-1")
    born = born_days_ago(30)
    baby(1, born=born)
    baby(2, born=born - DAY)
    # Day 1 of the first baby is 3 days before; of the second, 4: past the catch-up for both but the first.
    assert reminders.queue_due_reminders(today=born + 3 * DAY) == 1


@pytest.mark.django_db
def test_a_step_already_met_is_not_queued(district):
    only("daftar-h-7")
    newborn = baby(born=born_days_ago(40))
    newborn.enrollment.__class__.objects.filter(pk=newborn.enrollment.pk).update(
        status=EnrollmentStatus.TERDAFTAR_SEMENTARA
    )
    assert reminders.queue_due_reminders(today=newborn.enrollment.registration_deadline - 7 * DAY) == 0


@pytest.mark.both_databases
@pytest.mark.django_db
def test_a_step_met_while_its_message_waited_is_skipped_not_sent(district, gateway):
    only("daftar-h-7")
    newborn = baby(born=born_days_ago(40))
    day = newborn.enrollment.registration_deadline - 7 * DAY
    assert reminders.queue_due_reminders(today=day) == 1
    newborn.enrollment.__class__.objects.filter(pk=newborn.enrollment.pk).update(
        status=EnrollmentStatus.TERDAFTAR_SEMENTARA
    )
    result = reminders.send_reminders(now=local(day))
    assert (result.sent, result.skipped) == (0, 1)
    assert ReminderMessage.objects.get().status == MessageStatus.SKIPPED
    assert gateway.requests == []


@pytest.mark.django_db
def test_queueing_is_one_statement_per_step_whatever_the_number_of_babies(district, django_assert_num_queries):
    born = born_days_ago(20)
    for serial in range(1, 3):
        baby(serial, born=born)
    steps = ReminderStep.objects.filter(is_active=True).count()
    with django_assert_num_queries(1 + steps):
        assert reminders.queue_due_reminders(today=born + DAY) == 2
    for serial in range(3, 9):
        baby(serial, born=born)
    with django_assert_num_queries(1 + steps):
        assert reminders.queue_due_reminders(today=born + DAY) == 6


def test_a_template_with_an_unknown_placeholder_or_a_stray_brace_is_refused():
    step = ReminderStep(code="uji", name="Uji", trigger=ReminderTrigger.AFTER_BIRTH, days=2, template="NIK: {nik}")
    with pytest.raises(ValidationError, match=r"Tanda \{nik\} tidak dikenal"):
        step.full_clean(validate_unique=False)
    step.template = "Halo {nama_bayi"
    with pytest.raises(ValidationError, match="Kurung kurawal"):
        step.full_clean(validate_unique=False)
    step.template = "Halo {nama_bayi}, batas {batas_daftar}."
    step.full_clean(validate_unique=False)


# --- Consent, hours, cap ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_no_consent_or_a_stop_means_no_message(district, gateway):
    only("selamat-hari-1")
    born = born_days_ago(5)
    baby(1, born=born, phone="081100000001", consent=False)
    stopped = baby(2, born=born, phone="081100000002")
    set_reminder_contact(newborn=stopped, by=UserFactory(role=Role.STAF_DINKES), phone="081100000002", consent=False)
    baby(3, born=born, phone="081100000003")
    result = reminders.send_reminders(now=local(born + DAY))
    assert result.sent == 1
    assert [r["json"]["to"] for r in gateway.requests] == ["+6281100000003"]
    assert list(ReminderMessage.objects.values_list("phone", flat=True)) == ["+6281100000003"]  # not even queued


@pytest.mark.both_databases
@pytest.mark.django_db
def test_consent_withdrawn_after_queueing_stops_the_waiting_message(district, gateway):
    only("selamat-hari-1")
    born = born_days_ago(5)
    newborn = baby(born=born)
    reminders.queue_due_reminders(today=born + DAY)
    set_reminder_contact(newborn=newborn, by=UserFactory(role=Role.STAF_DINKES), phone=PHONE, consent=False)
    reminders.send_reminders(now=local(born + DAY))
    assert ReminderMessage.objects.get().status == MessageStatus.STOPPED
    assert gateway.requests == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("hour", "minute", "sends"), [(7, 59, False), (8, 0, True), (19, 59, True), (20, 0, False), (2, 0, False)]
)
def test_messages_go_only_inside_district_hours(district, gateway, hour, minute, sends):
    only("selamat-hari-1")
    born = born_days_ago(5)
    baby(born=born)
    result = reminders.send_reminders(now=local(born + DAY, hour, minute))
    assert result.outside_hours is not sends
    assert len(gateway.requests) == (1 if sends else 0)
    assert ReminderMessage.objects.count() == (1 if sends else 0)  # nothing is even queued at night


@pytest.mark.django_db
def test_the_daily_cap_holds_the_rest_for_the_next_day(district, gateway, settings):
    settings.REMINDERS_PER_DAY = 2
    only("selamat-hari-1")
    born = timezone.localdate() - DAY
    for serial in range(1, 4):
        baby(serial, born=born, phone=f"08110000000{serial}")
    today = timezone.localdate()
    assert reminders.send_reminders(now=local(today, 10)).sent == 2
    assert reminders.send_reminders(now=local(today, 11)).sent == 0
    assert ReminderMessage.objects.filter(status=MessageStatus.QUEUED).count() == 1


# --- The gateway round trip -------------------------------------------------------------------------------


@pytest.mark.both_databases
@pytest.mark.django_db
def test_a_message_goes_through_the_http_gateway_and_its_delivery_report_is_recorded(district, gateway):
    only("selamat-hari-1")
    born = born_days_ago(5)
    newborn = baby(born=born)
    assert reminders.send_reminders(now=local(born + DAY)).sent == 1
    message = ReminderMessage.objects.get()
    sent = gateway.requests[0]
    assert sent["headers"]["Authorization"] == "Bearer token-uji"
    assert sent["json"] == {"to": PHONE, "message": message.body, "ref": f"sejagad-{message.pk}"}
    assert newborn.temporary_name in message.body
    assert "Balas STOP" in message.body
    assert newborn.mother.nik not in message.body
    assert (message.status, message.gateway_id, message.attempts) == (MessageStatus.SENT, "gw-1", 1)

    browser = Client(enforce_csrf_checks=True)  # a gateway has no CSRF token: the webhook must not need one
    url = reverse("enrollment:reminder_status_webhook")
    report = json.dumps({"id": "gw-1", "status": "delivered"})
    refused = browser.post(url, report, content_type="application/json", headers={"X-Webhook-Secret": "salah"})
    assert refused.status_code == 403
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    accepted = browser.post(url, report, content_type="application/json", headers={"X-Webhook-Secret": SECRET})
    assert accepted.status_code == 200
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED and message.delivered_at


@pytest.mark.django_db
def test_a_failed_send_is_retried_after_the_backoff_then_marked_failed(district, gateway, settings):
    settings.REMINDER_MAX_ATTEMPTS = 3
    only("selamat-hari-1")
    born = born_days_ago(5)
    baby(born=born)
    start = local(born + DAY, 9)
    gateway.fail_next = 1
    first = reminders.send_reminders(now=start)
    message = ReminderMessage.objects.get()
    assert (first.sent, first.retried) == (0, 1)
    assert (message.status, message.attempts, message.last_error) == (MessageStatus.QUEUED, 1, "HTTP 500")
    assert message.next_attempt_at == start + datetime.timedelta(minutes=5)
    reminders.send_reminders(now=start + datetime.timedelta(minutes=4))
    assert len(gateway.requests) == 1  # not before its time
    assert reminders.send_reminders(now=start + datetime.timedelta(minutes=5)).sent == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == (MessageStatus.SENT, 2, "")

    baby(2, born=born, phone="081100000002")
    gateway.fail_next = 10
    at = start + datetime.timedelta(minutes=10)
    for wait in (0, 5, 10):  # 5 then 10 minutes of backoff
        at += datetime.timedelta(minutes=wait)
        reminders.send_reminders(now=at)
    failed = ReminderMessage.objects.get(phone="+6281100000002")
    assert (failed.status, failed.attempts) == (MessageStatus.FAILED, 3)


@pytest.mark.django_db
def test_an_unreachable_gateway_is_a_retry_not_a_crash(district, settings):
    settings.REMINDER_GATEWAY = "http"
    settings.REMINDER_GATEWAY_URL = "http://127.0.0.1:9/send"  # the discard port: nothing listens
    only("selamat-hari-1")
    born = born_days_ago(5)
    baby(born=born)
    assert reminders.send_reminders(now=local(born + DAY)).retried == 1
    assert ReminderMessage.objects.get().last_error.startswith("tidak terhubung")


@pytest.mark.django_db
def test_a_stop_reply_through_the_inbound_webhook_stops_the_family(district, gateway):
    only("selamat-hari-1")
    born = born_days_ago(5)
    baby(born=born)
    reminders.queue_due_reminders(today=born + DAY)
    url = reverse("enrollment:reminder_inbound_webhook")
    client = Client(enforce_csrf_checks=True)
    assert client.post(url, {"from": "6281234567890", "message": "STOP"}).status_code == 403
    thanks = client.post(
        url, {"from": "6281234567890", "message": "terima kasih"}, headers={"X-Webhook-Secret": SECRET}
    )
    assert thanks.json() == {"stopped": 0}
    stop = client.post(
        url + f"?secret={SECRET}",
        json.dumps({"from": "6281234567890", "message": " stop "}),
        content_type="application/json",
    )
    assert stop.json() == {"stopped": 1}
    mother = Mother.objects.get()
    assert (mother.reminders_stop_source, mother.reminders_stopped_by) == (StopSource.REPLY, None)
    assert ReminderMessage.objects.get().status == MessageStatus.STOPPED
    reminders.send_reminders(now=local(born + DAY))
    assert gateway.requests == []


@pytest.mark.django_db
def test_the_embedded_default_writes_what_would_be_sent_under_the_var_dir(district, settings, tmp_path):
    settings.REMINDER_GATEWAY = "file"
    settings.REMINDER_FILES_DIR = tmp_path / "reminders"
    only("selamat-hari-1")
    born = born_days_ago(5)
    newborn = baby(born=born)
    assert reminders.send_reminders(now=local(born + DAY)).sent == 1
    (written,) = (tmp_path / "reminders").glob("*.jsonl")
    line = json.loads(written.read_text(encoding="utf-8"))
    assert line["to"] == PHONE
    assert newborn.temporary_name in line["message"]
    assert ReminderMessage.objects.get().gateway_id == f"file-sejagad-{ReminderMessage.objects.get().pk}"


# --- Nothing twice ----------------------------------------------------------------------------------------


@pytest.mark.both_databases
@pytest.mark.django_db
def test_rows_held_by_another_sender_are_left_alone_until_its_lease_ends(district, gateway):
    only("selamat-hari-1")
    born = born_days_ago(5)
    baby(born=born)
    now = local(born + DAY)
    reminders.queue_due_reminders(now=now)
    _, held = reminders.claim_batch(limit=10, now=now)  # a first sender, still busy (or killed)
    assert len(held) == 1
    assert reminders.send_reminders(now=now).sent == 0
    assert gateway.requests == []
    later = now + datetime.timedelta(minutes=11)  # its lease (REMINDER_CLAIM_SECONDS) is over
    assert reminders.send_reminders(now=later).sent == 1
    assert reminders.send_reminders(now=later).sent == 0
    assert len(gateway.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_a_redelivered_send_task_in_a_real_worker_sends_nothing_twice(district, gateway, settings):
    settings.REMINDER_HOURS = (0, 24)  # whatever the hour the suite runs at
    only("selamat-hari-1")
    for serial in range(1, 4):
        baby(serial, born=timezone.localdate() - DAY, phone=f"08110000000{serial}")
    finished = []

    def count(sender=None, **kwargs):
        if sender is not None and sender.name == tasks.send_reminders.name:
            finished.append(1)

    signals.task_postrun.connect(count, weak=False)
    try:
        with real_worker():
            tasks.send_reminders.delay()
            tasks.send_reminders.delay()  # the same job delivered again (a lost ack, a restarted worker)
            wait_for(lambda: len(finished) == 2)
    finally:
        signals.task_postrun.disconnect(count)
    assert ReminderMessage.objects.filter(status=MessageStatus.SENT).count() == 3
    assert sorted(r["json"]["to"] for r in gateway.requests) == [f"+628110000000{n}" for n in (1, 2, 3)]


def test_beat_runs_the_sender_periodically():
    from sejagad.celery import app

    entry = app.conf.beat_schedule["send-reminders"]
    assert entry["task"] == tasks.send_reminders.name
    assert tasks.send_reminders.acks_late is True


# --- Kirim ulang ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_kirim_ulang_puts_a_failed_message_back_in_the_queue_for_those_allowed(district, gateway, settings, client):
    settings.REMINDER_MAX_ATTEMPTS = 1
    settings.REMINDER_HOURS = (0, 24)  # "kirim ulang" queues for now, whatever the hour the suite runs at
    only("selamat-hari-1")
    born = timezone.localdate() - DAY
    newborn = baby(born=born)
    gateway.fail_next = 1
    reminders.send_reminders()
    message = ReminderMessage.objects.get()
    assert message.status == MessageStatus.FAILED
    url = reverse("enrollment:reminder_resend", args=[message.pk])

    client.force_login(UserFactory(role=Role.PETUGAS_DUKCAPIL))
    refused = client.post(url, follow=True)
    assert "tidak dapat mengirim ulang" in refused.content.decode()
    client.force_login(BidanFactory(facility=None))  # no baby of hers
    assert client.post(url).status_code == 404
    staf = UserFactory(role=Role.STAF_DINKES)
    client.force_login(staf)
    client.post(url)
    message.refresh_from_db()
    assert (message.status, message.attempts, message.resent_by) == (MessageStatus.QUEUED, 0, staf)
    assert reminders.send_reminders().sent == 1
    assert newborn.reminder_messages.get().status == MessageStatus.SENT


@pytest.mark.django_db
def test_a_message_stopped_before_the_family_agreed_again_can_be_sent_again(district, gateway, settings):
    settings.REMINDER_HOURS = (0, 24)
    only("selamat-hari-1")
    newborn = baby(born=timezone.localdate() - DAY)
    staf = UserFactory(role=Role.STAF_DINKES)
    reminders.queue_due_reminders()
    set_reminder_contact(newborn=newborn, by=staf, phone=PHONE, consent=False)
    reminders.send_reminders()
    message = ReminderMessage.objects.get()
    assert message.status == MessageStatus.STOPPED
    with pytest.raises(ValidationError, match="sudah menghentikannya"):
        reminders.resend_reminder(message=message, by=staf)
    set_reminder_contact(newborn=newborn, by=staf, phone=PHONE, consent=True)
    reminders.resend_reminder(message=message, by=staf)
    assert reminders.send_reminders().sent == 1
