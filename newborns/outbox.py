"""What SEJAGAD SEHAT owes SATUSEHAT: an outbox row per baby and action, queued in the transaction that wrote
the birth (``birth_changed``), then claimed and sent by a worker.

A row is claimed by one conditional UPDATE before anything is sent, so a task delivered twice, or a sweep
and a retry meeting, send once. A worker that died mid-send leaves the row "sending"; it is claimed again
after ``SATUSEHAT_LEASE_SECONDS``, and SATUSEHAT's Master Patient Index answers the same IHS number for the
same baby (it deduplicates on NIK ibu, name, birth date, sex and birth order).
"""

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from newborns import fhir
from newborns.models import Newborn, SatusehatAction, SatusehatOutbox, SatusehatStatus
from newborns.satusehat import SatusehatClient, SatusehatError, hide_numbers, is_configured

logger = logging.getLogger(__name__)

S = SatusehatStatus


def queue_births(newborn_ids: Iterable[int]) -> list[int]:
    """Queue what the babies still owe SATUSEHAT: every live baby its Patient, every baby with a NIK the
    patch adding it; a restored baby's skipped rows wait again. Three statements whatever the number of
    babies; returns the ids of the rows now waiting, enqueued after the commit when SATUSEHAT is configured."""
    ids = list(dict.fromkeys(newborn_ids))
    if not ids:
        return []
    babies = Newborn.objects.live().filter(pk__in=ids)
    wanted = [(pk, SatusehatAction.CREATE) for pk in babies.values_list("pk", flat=True)]
    wanted += [(pk, SatusehatAction.ADD_NIK) for pk in babies.filter(nik__isnull=False).values_list("pk", flat=True)]
    SatusehatOutbox.objects.bulk_create(
        [SatusehatOutbox(newborn_id=pk, action=action) for pk, action in wanted], ignore_conflicts=True
    )
    SatusehatOutbox.objects.filter(newborn__in=babies, status=S.SKIPPED).update(
        status=S.PENDING, next_attempt_at=timezone.now(), attempts=0, last_error=""
    )
    waiting = list(SatusehatOutbox.objects.filter(newborn_id__in=ids, status=S.PENDING).values_list("pk", flat=True))
    enqueue(waiting)
    return waiting


def on_birth_changed(sender, newborn_ids, **kwargs) -> None:
    queue_births(newborn_ids)


def enqueue(row_ids: list[int]) -> None:
    """Hand the rows to the worker after the commit; without SATUSEHAT settings they simply wait."""
    if not row_ids or not is_configured():
        return

    def send():
        from newborns.tasks import send_to_satusehat

        for pk in row_ids:
            try:
                send_to_satusehat.delay(pk)
            except Exception:  # the broker is down: the sweep sends the row later
                logger.warning("SATUSEHAT: kiriman %s belum bisa diantrekan; disapu nanti", pk)
                return

    transaction.on_commit(send)


def claim(row_id: int) -> SatusehatOutbox | None:
    """Take one due row for sending (one conditional UPDATE), or None when it is not due, already taken,
    already sent, or a NIK patch whose baby has no IHS number yet."""
    now = timezone.now()
    rows = SatusehatOutbox.objects.due(now).filter(pk=row_id)
    rows = rows.filter(Q(action=SatusehatAction.CREATE) | ~Q(newborn__ihs_number=""))
    if not rows.update(status=S.SENDING, claimed_at=now, attempts=F("attempts") + 1):
        return None
    return SatusehatOutbox.objects.select_related(
        "newborn__mother", "newborn__desa__parent__parent__parent", "newborn__facility__region__parent__parent__parent"
    ).get(pk=row_id)


@dataclass(frozen=True)
class SendResult:
    status: str
    retry_in: int | None = None


def backoff_seconds(attempts: int) -> int:
    """1, 2, 4, 8 ... times SATUSEHAT_RETRY_SECONDS after the first, second, third ... failure."""
    return settings.SATUSEHAT_RETRY_SECONDS * 2 ** max(attempts - 1, 0)


def send(row_id: int, *, client: SatusehatClient | None = None) -> SendResult:
    """Send one outbox row if it can be claimed; a failure is kept in Indonesian on the row, and is tried
    again later (with backoff) unless SATUSEHAT refused the data itself or the attempts ran out."""
    row = claim(row_id)
    if row is None:
        return SendResult("not_claimed")
    newborn = row.newborn
    if newborn.is_voided:
        _finish(row, status=S.SKIPPED)
        return SendResult(S.SKIPPED)
    try:
        client = client or SatusehatClient()
        if row.action == SatusehatAction.CREATE:
            _send_create(row, newborn, client)
            status = S.SENT
        else:
            status = _send_nik(row, newborn, client)
    except SatusehatError as exc:
        return _failed(row, exc)
    if status == S.MERGED:
        _finish_merge(row)
    else:
        _finish(row, status=status)
    logger.info("SATUSEHAT: %s bayi %s %s", row.action, newborn.pk, "digabung" if status == S.MERGED else "terkirim")
    return SendResult(status)


def _send_nik(row: SatusehatOutbox, newborn: Newborn, client: SatusehatClient) -> str:
    """Patch the NIK into the baby's Patient; when SATUSEHAT refuses because a Dukcapil-validated Patient
    holds that NIK, merge instead: find that Patient, keep both IHS numbers on the row, then link the
    "Bayi Ny." Patient to it (``fhir.merge_patch``). A row that already found its NIK Patient (a retry or a
    redelivery after a crash) goes straight to the link, which gives the same record when sent again."""
    if not row.merged_into:
        try:
            client.add_to_patient(newborn.ihs_number, fhir.nik_patch(newborn))
            return S.SENT
        except SatusehatError as exc:
            if not exc.already_validated:
                raise
        nik_patient = client.find_patient_by_nik(newborn.nik)
        if not nik_patient:
            raise SatusehatError(
                _(
                    "SATUSEHAT menolak menambahkan NIK karena data bayi sudah tervalidasi Dukcapil, tetapi Patient "
                    "dengan NIK bayi belum ditemukan di SATUSEHAT; data belum digabung. Periksa NIK bayi, lalu "
                    "kirim ulang."
                ),
                status=404,
                retryable=False,
            )
        row.merged_from, row.merged_into = newborn.ihs_number, nik_patient
        SatusehatOutbox.objects.filter(pk=row.pk).update(merged_from=row.merged_from, merged_into=row.merged_into)
    client.add_to_patient(row.merged_from, fhir.merge_patch(row.merged_into))
    return S.MERGED


@transaction.atomic
def _finish_merge(row: SatusehatOutbox) -> None:
    """The merge done: the NIK Patient's IHS number becomes the baby's, and the row says "digabung"."""
    Newborn.objects.filter(pk=row.newborn_id).update(ihs_number=row.merged_into)
    _finish(row, status=S.MERGED)


def _send_create(row: SatusehatOutbox, newborn: Newborn, client: SatusehatClient) -> None:
    if not newborn.ihs_number:
        newborn.ihs_number = client.create_patient(fhir.patient(newborn))
        Newborn.objects.filter(pk=newborn.pk).update(ihs_number=newborn.ihs_number)
        if newborn.nik:
            # The Patient was created with the NIK already: nothing left to patch.
            SatusehatOutbox.objects.filter(
                newborn=newborn, action=SatusehatAction.ADD_NIK, status__in=[S.PENDING, S.FAILED]
            ).update(status=S.SENT, sent_at=timezone.now(), last_error="")
        else:
            enqueue(
                list(
                    SatusehatOutbox.objects.filter(
                        newborn=newborn, action=SatusehatAction.ADD_NIK, status=S.PENDING
                    ).values_list("pk", flat=True)
                )
            )
    if not row.observation_id:
        organization = f"Organization/{client.config.organization_id}"
        row.observation_id = (
            client.create_observation(
                fhir.birth_weight(newborn, subject=f"Patient/{newborn.ihs_number}", performer=organization)
            )
            or "-"
        )
        SatusehatOutbox.objects.filter(pk=row.pk).update(observation_id=row.observation_id)


def _finish(row: SatusehatOutbox, *, status: str) -> None:
    now = timezone.now()
    SatusehatOutbox.objects.filter(pk=row.pk).update(
        status=status, sent_at=now if status == S.SENT else None, last_error="", claimed_at=None
    )


def _failed(row: SatusehatOutbox, exc: SatusehatError) -> SendResult:
    message = hide_numbers(exc.message)
    if exc.retryable and row.attempts < settings.SATUSEHAT_MAX_ATTEMPTS:
        wait = backoff_seconds(row.attempts)
        SatusehatOutbox.objects.filter(pk=row.pk).update(
            status=S.PENDING,
            last_error=message,
            claimed_at=None,
            next_attempt_at=timezone.now() + datetime.timedelta(seconds=wait),
        )
        logger.warning(
            "SATUSEHAT: %s bayi %s gagal (percobaan %s), dicoba lagi", row.action, row.newborn_id, row.attempts
        )
        return SendResult(S.PENDING, retry_in=wait)
    if exc.retryable:
        message = _("%(error)s. Sudah dicoba %(n)s kali; kirim ulang dari halaman bayi.") % {
            "error": message.rstrip("."),
            "n": row.attempts,
        }
    SatusehatOutbox.objects.filter(pk=row.pk).update(status=S.FAILED, last_error=message[:500], claimed_at=None)
    logger.warning("SATUSEHAT: %s bayi %s gagal, tidak dicoba lagi", row.action, row.newborn_id)
    return SendResult(S.FAILED)


@transaction.atomic
def retry(*, newborn: Newborn) -> int:
    """Send a baby's failed rows again now (the retry button); returns how many were queued again."""
    rows = SatusehatOutbox.objects.filter(newborn=newborn, status=S.FAILED)
    ids = list(rows.values_list("pk", flat=True))
    rows.update(status=S.PENDING, attempts=0, next_attempt_at=timezone.now(), claimed_at=None)
    enqueue(ids)
    return len(ids)


def due_rows(limit: int = 500) -> list[int]:
    """Rows waiting and due (or abandoned mid-send), oldest first: what the sweep and the command send."""
    rows = SatusehatOutbox.objects.due().filter(Q(action=SatusehatAction.CREATE) | ~Q(newborn__ihs_number=""))
    return list(rows.order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit])


def sweep(limit: int = 500) -> int:
    """Enqueue the due rows (queued while the broker was down, or whose retry message was lost)."""
    if not is_configured():
        return 0
    ids = due_rows(limit)
    enqueue(ids)
    return len(ids)
