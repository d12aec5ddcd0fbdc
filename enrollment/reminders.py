"""Reminders to the family, set-based like the flag job: the schedule is data (``ReminderStep``), the outbox a
table (``ReminderMessage``).

1. ``queue_due_reminders``: per active step (a handful), ONE ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``
   queues every baby whose step falls due today (or in the last ``REMINDER_CATCH_UP_DAYS``), whose mother
   agreed and did not stop, and whose step is not already met; the unique (baby, step) keeps each step to
   one message per baby whatever the number of runs.
2. ``hold_back``: two UPDATEs take out of the queue what must no longer go: messages of a mother who stopped
   (STOPPED) and steps met since they were queued (SKIPPED).
3. ``send_queued``: inside the district's hours and under the day's cap, claims a batch (SELECT ... FOR UPDATE
   SKIP LOCKED, then a conditional UPDATE marking the rows with a claim token and a lease), sends each
   through the gateway and records the answer on the row it claimed. A redelivered task finds the rows sent
   or held by the first and sends nothing twice; a failure is tried again with exponential backoff.
"""

import datetime
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from enrollment import gateway as gateways
from enrollment.models import (
    NIK_UPDATED,
    REGISTERED,
    Enrollment,
    MessageStatus,
    ReminderMessage,
    ReminderStep,
    ReminderTrigger,
)
from newborns.models import Newborn
from newborns.services import stop_reminders_for_phone
from newborns.validators import normalize_phone
from sejagad.models import User
from sejagad.roles import Capability, can

logger = logging.getLogger(__name__)
DAY = datetime.timedelta(days=1)


def in_sending_hours(now: datetime.datetime | None = None) -> bool:
    """Between REMINDER_HOURS in the district's time zone (default 08:00 to 20:00 local)."""
    start, end = settings.REMINDER_HOURS
    return start <= timezone.localtime(now).hour < end


def met(step: ReminderStep) -> Q:
    """On Enrollment: the step has nothing left to remind (registered, or the NIK is at BPJS)."""
    if step.trigger == ReminderTrigger.BEFORE_REGISTRATION:
        return Q(status__in=REGISTERED)
    if step.trigger in (ReminderTrigger.BEFORE_NIK, ReminderTrigger.NIK_RECORDED):
        return Q(status__in=NIK_UPDATED)
    return Q(pk__in=[])


def due(step: ReminderStep, today: datetime.date):
    """Enrollments whose step falls due today or in the catch-up days before, not met, of a reachable mother.
    The dates are constants for the day, so each trigger reads one indexed column."""
    late = settings.REMINDER_CATCH_UP_DAYS * DAY
    days = step.days * DAY
    window = {
        ReminderTrigger.AFTER_BIRTH: Q(newborn__birth_date__range=(today - days - late, today - days)),
        # Never after the deadline itself: a reminder for a deadline gone by would mislead.
        ReminderTrigger.BEFORE_REGISTRATION: Q(
            registration_deadline__range=(max(today, today + days - late), today + days)
        ),
        ReminderTrigger.BEFORE_NIK: Q(nik_deadline__range=(max(today, today + days - late), today + days)),
        ReminderTrigger.NIK_RECORDED: Q(newborn__nik_issued_on__range=(today - days - late, today - days)),
    }[step.trigger]
    return (
        Enrollment.objects.live()
        .filter(window)
        .exclude(met(step))
        .filter(
            newborn__mother__reminder_consent_at__isnull=False,
            newborn__mother__reminders_stopped_at__isnull=True,
        )
        .exclude(newborn__mother__phone="")
    )


def queue_due_reminders(*, today: datetime.date | None = None, now: datetime.datetime | None = None) -> int:
    """Queue every step due today: one INSERT ... SELECT per active step; returns how many were queued."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    now = connection.ops.adapt_datetimefield_value(now)
    table = connection.ops.quote_name(ReminderMessage._meta.db_table)
    queued = 0
    for step in ReminderStep.objects.filter(is_active=True):  # a handful of steps, each one statement
        select, params = due(step, today).values_list("newborn_id", "newborn__mother__phone").query.sql_with_params()
        # "WHERE 1 = 1" keeps SQLite from reading ON CONFLICT as part of the SELECT's join.
        statement = (
            f"INSERT INTO {table} (newborn_id, phone, step_id, body, status, attempts, gateway_id, last_error, "
            f"queued_at, next_attempt_at) SELECT due.*, %s, '', %s, 0, '', '', %s, %s FROM ({select}) due "
            f"WHERE 1 = 1 ON CONFLICT (newborn_id, step_id) DO NOTHING"
        )
        with connection.cursor() as cursor:
            cursor.execute(statement, [step.pk, MessageStatus.QUEUED, now, now, *params])
            queued += cursor.rowcount
    return queued


def hold_back() -> dict[str, int]:
    """Messages no longer to send: the mother stopped (or withdrew consent, or has no number), the baby's
    record was voided, or the step was met while the message waited."""
    queued = ReminderMessage.objects.filter(status=MessageStatus.QUEUED)
    unreachable = (
        Q(newborn__mother__reminder_consent_at__isnull=True)
        | Q(newborn__mother__reminders_stopped_at__isnull=False)
        | Q(newborn__mother__phone="")
    )
    stopped = queued.filter(unreachable).update(status=MessageStatus.STOPPED)
    skipped = queued.filter(newborn__voided_at__isnull=False).update(status=MessageStatus.SKIPPED)
    for step in ReminderStep.objects.all():
        skipped += queued.filter(step=step, newborn__enrollment__in=Enrollment.objects.filter(met(step))).update(
            status=MessageStatus.SKIPPED
        )
    return {"stopped": stopped, "skipped": skipped}


def stop_replies_from(phone: str) -> int:
    """A STOP reply: the mothers with that number stop (newborns records who and when), and their queued
    messages are stopped at once."""
    mothers = stop_reminders_for_phone(phone)
    if mothers:
        ReminderMessage.objects.filter(status=MessageStatus.QUEUED, phone=normalize_phone(phone)).update(
            status=MessageStatus.STOPPED
        )
    return mothers


def sent_today() -> int:
    midnight = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return ReminderMessage.objects.filter(sent_at__gte=midnight).count()


def claim_batch(*, limit: int, now: datetime.datetime | None = None) -> tuple[uuid.UUID, list[ReminderMessage]]:
    """Take up to ``limit`` due messages for this sender only: rows another sender holds are skipped, and
    the conditional UPDATE re-checks the claim, so two senders (or a redelivered task) never share a row."""
    now = now or timezone.now()
    token = uuid.uuid4()
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    with transaction.atomic():
        ids = list(
            ReminderMessage.objects.select_for_update(skip_locked=True)
            .filter(free, status=MessageStatus.QUEUED, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        ReminderMessage.objects.filter(free, pk__in=ids, status=MessageStatus.QUEUED).update(
            claim=token,
            claimed_until=now + datetime.timedelta(seconds=settings.REMINDER_CLAIM_SECONDS),
            attempts=F("attempts") + 1,
        )
    batch = list(
        ReminderMessage.objects.filter(claim=token, status=MessageStatus.QUEUED)
        .select_related("step", "newborn__mother", "newborn__enrollment")
        .order_by("id")
    )
    return token, batch


def _date(value: datetime.date) -> str:
    return formats.date_format(value, "j F Y")


def render(message: ReminderMessage, *, today: datetime.date) -> str:
    """The step's template filled in for one baby (in the district's language). No NIK is ever offered."""
    newborn, step = message.newborn, message.step
    enrollment = newborn.enrollment
    deadline = (
        enrollment.nik_deadline
        if step.trigger in (ReminderTrigger.BEFORE_NIK, ReminderTrigger.NIK_RECORDED)
        else enrollment.registration_deadline
    )
    with translation.override(settings.LANGUAGE_CODE):
        values = {
            "nama_bayi": newborn.temporary_name,
            "tanggal_lahir": _date(newborn.birth_date),
            "batas_daftar": _date(enrollment.registration_deadline),
            "batas_nik": _date(enrollment.nik_deadline),
            "sisa_hari": str(max((deadline - today).days, 0)),
            "kantor_dukcapil": settings.REMINDER_DUKCAPIL_OFFICE,
            "kanal_bpjs": settings.REMINDER_BPJS_CHANNELS,
        }
    return step.template.format_map(values)


@dataclass
class SendResult:
    queued: int = 0
    stopped: int = 0
    skipped: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    outside_hours: bool = False


def backoff(attempts: int) -> datetime.timedelta:
    """5, 10, 20, 40 ... minutes after the 1st, 2nd, 3rd ... failed attempt (REMINDER_RETRY_SECONDS)."""
    return datetime.timedelta(seconds=settings.REMINDER_RETRY_SECONDS * 2 ** max(attempts - 1, 0))


def send_reminders(*, now: datetime.datetime | None = None, gateway=None) -> SendResult:
    """The periodic job: inside the district's hours, queue what fell due, hold back what must not go, and
    send batches up to the day's cap."""
    now = now or timezone.now()
    result = SendResult()
    if not in_sending_hours(now):
        result.outside_hours = True
        return result
    result.queued = queue_due_reminders(today=timezone.localdate(now), now=now)
    held = hold_back()
    result.stopped, result.skipped = held["stopped"], held["skipped"]
    gateway = gateway or gateways.get_gateway()
    room = settings.REMINDERS_PER_DAY - sent_today()
    while room > 0:
        token, batch = claim_batch(limit=min(settings.REMINDER_BATCH_SIZE, room), now=now)
        if not batch:
            break
        for message in batch:
            _send_one(message, token=token, gateway=gateway, now=now, result=result)
        room -= len(batch)
    logger.info(
        "reminders: %s queued, %s sent, %s retried, %s failed, %s stopped, %s skipped",
        result.queued,
        result.sent,
        result.retried,
        result.failed,
        result.stopped,
        result.skipped,
    )
    return result


def _send_one(message: ReminderMessage, *, token, gateway, now, result: SendResult) -> None:
    today = timezone.localdate(now)
    phone = message.newborn.mother.phone  # a number changed since queueing is the one to use
    body = render(message, today=today)
    mine = ReminderMessage.objects.filter(pk=message.pk, claim=token, status=MessageStatus.QUEUED)
    try:
        gateway_id = gateway.send(gateways.Outgoing(to=phone, message=body, ref=f"sejagad-{message.pk}"))
    except gateways.GatewayError as exc:
        error = str(exc)[:200]
        if message.attempts >= settings.REMINDER_MAX_ATTEMPTS:
            mine.update(status=MessageStatus.FAILED, last_error=error, claim=None, claimed_until=None)
            result.failed += 1
        else:
            mine.update(
                last_error=error, next_attempt_at=now + backoff(message.attempts), claim=None, claimed_until=None
            )
            result.retried += 1
        logger.warning("reminder sejagad-%s not taken by the gateway: %s", message.pk, error)
        return
    mine.update(
        status=MessageStatus.SENT,
        gateway_id=gateway_id[:100],
        sent_at=now,
        body=body,
        phone=phone,
        last_error="",
        claim=None,
        claimed_until=None,
    )
    result.sent += 1


# What gateways call a delivery report; anything else leaves the row as it is.
DELIVERED_WORDS = {"delivered", "read", "diterima", "dibaca", "success", "sukses"}
FAILED_WORDS = {"failed", "undelivered", "rejected", "expired", "error", "gagal"}


def record_delivery(*, gateway_id: str, status: str) -> int:
    """A delivery report from the gateway: delivered or failed, for the message it names."""
    word = (status or "").strip().lower()
    rows = ReminderMessage.objects.filter(
        gateway_id=gateway_id, status__in=[MessageStatus.SENT, MessageStatus.DELIVERED]
    )
    if not gateway_id:
        return 0
    if word in DELIVERED_WORDS:
        return rows.update(status=MessageStatus.DELIVERED, delivered_at=timezone.now())
    if word in FAILED_WORDS:
        return rows.update(status=MessageStatus.FAILED, last_error=_("Gateway: pesan tidak sampai"))
    return 0


STOP_WORDS = {"STOP", "BERHENTI", "UNREG", "STOP PENGINGAT"}


def is_stop(text: str) -> bool:
    words = (text or "").strip().upper().split()
    return bool(words) and (words[0] in STOP_WORDS or " ".join(words) in STOP_WORDS)


@transaction.atomic
def resend_reminder(*, message: ReminderMessage, by: User) -> ReminderMessage:
    """ "Kirim ulang" on the baby's page: the same row goes back to the queue and leaves with the next batch
    (still only inside the district's hours and with the mother's consent)."""
    if not (can(by, Capability.REGISTER_BIRTHS) or can(by, Capability.UPDATE_ENROLLMENT)):
        raise ValidationError(_("Anda tidak dapat mengirim ulang pesan pengingat."))
    message = ReminderMessage.objects.select_for_update().select_related("newborn__mother").get(pk=message.pk)
    if not Newborn.objects.in_scope_of(by).filter(pk=message.newborn_id).exists():
        raise ValidationError(_("Bayi ini di luar wilayah atau fasilitas Anda."))
    if not message.newborn.mother.can_be_reminded:
        raise ValidationError(_("Ibu belum setuju menerima pengingat, atau sudah menghentikannya."))
    if not message.can_resend:
        raise ValidationError(_("Pesan ini masih dalam antrean."))
    message.status = MessageStatus.QUEUED
    message.attempts = 0
    message.last_error = ""
    message.next_attempt_at = timezone.now()
    message.claim = message.claimed_until = None
    message.resent_by, message.resent_at = by, timezone.now()
    message.save(
        update_fields=[
            "status",
            "attempts",
            "last_error",
            "next_attempt_at",
            "claim",
            "claimed_until",
            "resent_by",
            "resent_at",
        ]
    )
    return message
