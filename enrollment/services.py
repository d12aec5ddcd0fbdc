"""The rules of a newborn's JKN membership: registration, the NIK update at BPJS, PBI proposals."""

import datetime
import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from enrollment import flagging
from enrollment.models import (
    NIK_UPDATED,
    REGISTERED,
    Digest,
    Enrollment,
    EnrollmentStatus,
    Notification,
    PbiProposal,
)
from newborns import validators
from newborns.models import Newborn, Segment
from sejagad.models import User
from sejagad.roles import Capability, can

logger = logging.getLogger(__name__)

PBI_SEGMENTS = {Segment.PBI_APBN, Segment.PBI_APBD}


def segment_advice(segment: str) -> str:
    """DOMAIN.md's newborn rule for each segment, as the worklists show it."""
    return {
        Segment.PBI_APBN: _("Bayi dari ibu PBI otomatis PBI: diusulkan lewat Dinkes/Dinsos, langsung aktif."),
        Segment.PBI_APBD: _("Bayi dari ibu PBI APBD didaftarkan lewat Pemda, langsung aktif."),
        Segment.PPU: _("Anak ke-1 s.d. ke-3 peserta PPU mengikuti status orang tua; daftarkan lewat pemberi kerja."),
        Segment.PBPU: _("Peserta mandiri: daftar dan bayar iuran pertama dalam 28 hari; aktif setelah membayar."),
        Segment.BP: _("Bukan pekerja: daftar dan bayar iuran pertama dalam 28 hari; aktif setelah membayar."),
    }.get(segment, _("Segmen belum diketahui: tanyakan kepesertaan JKN ibu, atau usulkan PBI bila keluarga miskin."))


def sync_enrollments(*, newborn_ids: list[int]) -> None:
    """Bring these babies' memberships in line with their birth records now, in the caller's transaction:
    an enrollment for a new baby, deadlines that follow a corrected birth date, levels for today (notifying
    when one gets worse)."""
    newborns = Newborn.objects.filter(pk__in=newborn_ids)
    flagging.follow_births(newborns)
    flagging.flag_deadlines(enrollments=Enrollment.objects.filter(newborn__in=newborns))


def on_birth_changed(sender, *, newborn_ids: list[int], **kwargs) -> None:
    """The answer to ``newborns.events.birth_changed``."""
    sync_enrollments(newborn_ids=newborn_ids)


def _check_date(value: datetime.date | None, newborn: Newborn, field: str) -> None:
    if value and value < newborn.birth_date:
        raise ValidationError({field: _("Tanggal tidak boleh sebelum tanggal lahir bayi.")})
    if value and value > timezone.localdate():
        raise ValidationError({field: _("Tanggal tidak boleh di masa depan.")})


@transaction.atomic
def update_enrollment(
    *,
    enrollment: Enrollment,
    by: User,
    segment: str | None = None,
    jkn_number: str | None = None,
    status: str | None = None,
    registered_on: datetime.date | None = None,
    nik_updated_on: datetime.date | None = None,
    deactivated_on: datetime.date | None = None,
) -> Enrollment:
    """Record what BPJS did: registration under the 'By. Ny.' name, the NIK update, a deactivation.
    The flags of this baby are recomputed at once, so worklists do not wait for the morning job."""
    enrollment = Enrollment.objects.select_for_update().select_related("newborn").get(pk=enrollment.pk)
    newborn = enrollment.newborn
    changes = {
        k: v
        for k, v in {
            "segment": segment,
            "jkn_number": jkn_number,
            "status": status,
            "registered_on": registered_on,
            "nik_updated_on": nik_updated_on,
            "deactivated_on": deactivated_on,
        }.items()
        if v is not None and getattr(enrollment, k) != v
    }
    if not changes:
        return enrollment
    for field, value in changes.items():
        setattr(enrollment, field, value)
    if changes.get("jkn_number"):
        try:
            enrollment.jkn_number = validators.validate_jkn_number(enrollment.jkn_number)
        except ValidationError as exc:
            raise ValidationError({"jkn_number": exc.messages}) from None
    for field in ("registered_on", "nik_updated_on", "deactivated_on"):
        _check_date(getattr(enrollment, field), newborn, field)

    if enrollment.status in REGISTERED and not enrollment.registered_on:
        raise ValidationError({"registered_on": _("Isi tanggal bayi terdaftar di BPJS.")})
    if enrollment.status in REGISTERED and not enrollment.jkn_number:
        raise ValidationError({"jkn_number": _("Isi nomor kartu JKN bayi (13 digit).")})
    if enrollment.status in NIK_UPDATED:
        if not newborn.nik:
            raise ValidationError(
                {"status": _("Bayi belum memiliki NIK dari Dukcapil; NIK belum bisa diperbarui di BPJS.")}
            )
        if not enrollment.nik_updated_on:
            raise ValidationError({"nik_updated_on": _("Isi tanggal NIK diperbarui di BPJS.")})
    if enrollment.status == EnrollmentStatus.NONAKTIF and not enrollment.deactivated_on:
        raise ValidationError({"deactivated_on": _("Isi tanggal kepesertaan dinonaktifkan.")})

    enrollment._history_user = by
    enrollment.save(update_fields=[*changes, "updated_at"])
    flagging.flag_deadlines(enrollments=Enrollment.objects.filter(pk=enrollment.pk))
    enrollment.refresh_from_db()
    return enrollment


def pbi_clock(enrollment: Enrollment, *, on: datetime.date | None = None) -> dict:
    """DOMAIN.md, "PBI proposal": Dinsos proposes before the baby is 3 months old (birth date + 3 months,
    its own clock, the same date as the NIK update's) with the NIK, the akta and the new KK."""
    on = on or timezone.localdate()
    newborn = enrollment.newborn
    missing = [
        label
        for label, present in (
            (_("NIK bayi"), newborn.nik),
            (_("akta kelahiran"), newborn.akta_number),
            (_("KK baru"), newborn.kk_added_on),
        )
        if not present
    ]
    deadline = enrollment.nik_deadline
    return {"deadline": deadline, "days_left": (deadline - on).days, "on_time": on <= deadline, "missing": missing}


def _proposable(enrollment: Enrollment, by: User) -> Enrollment:
    """The enrollment, locked, when the user may propose it: the capability and the baby in her scope."""
    if not can(by, Capability.PROPOSE_PBI):
        raise PermissionDenied
    if not Enrollment.objects.in_scope_of(by).filter(pk=enrollment.pk).exists():
        raise ValidationError(_("Bayi ini di luar wilayah kerja Anda; usulan PBI tidak dapat dibuat."))
    return Enrollment.objects.select_for_update().select_related("newborn").get(pk=enrollment.pk)


@transaction.atomic
def propose_pbi(*, enrollment: Enrollment, by: User, segment: str) -> PbiProposal:
    """Dinsos proposes a poor family's baby as PBI for this month's SK; BPJS registers it once decided.
    Only a baby in the proposer's scope, once while a proposal stands."""
    if segment not in PBI_SEGMENTS:
        raise ValidationError({"segment": _("Pilih segmen usulan: PBI-APBN atau PBI-APBD.")})
    enrollment = _proposable(enrollment, by)
    standing = enrollment.pbi_proposals.standing().first()
    if standing or enrollment.pbi_proposed_on:
        day = standing.proposed_on if standing else enrollment.pbi_proposed_on
        raise ValidationError(_("Bayi ini sudah diusulkan sebagai PBI pada %(date)s.") % {"date": f"{day:%d-%m-%Y}"})
    today = timezone.localdate()
    proposal = PbiProposal(
        enrollment=enrollment,
        segment=segment,
        previous_segment=enrollment.segment,
        period=today.replace(day=1),
        proposed_on=today,
        proposed_by=by,
    )
    proposal.full_clean()
    proposal.save()
    enrollment.segment = segment
    enrollment.pbi_proposed_on = today
    enrollment.pbi_proposed_by = by
    enrollment._history_user = by
    enrollment.save(update_fields=["segment", "pbi_proposed_on", "pbi_proposed_by", "updated_at"])
    return proposal


@transaction.atomic
def undo_pbi_proposal(*, proposal: PbiProposal, by: User) -> PbiProposal:
    """A proposal is undone on the day it was made, by its proposer or Dinsos of the same area; later it is
    on its way to the SK and only Dinsos can withdraw it there. The baby is a PBI candidate again."""
    proposal = PbiProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.cancelled_at:
        raise ValidationError(_("Usulan PBI ini sudah dibatalkan."))
    enrollment = _proposable(proposal.enrollment, by)
    today = timezone.localdate()
    if proposal.proposed_on != today:
        raise ValidationError(
            _(
                "Usulan PBI hanya dapat dibatalkan pada hari yang sama. Usulan ini dibuat %(date)s dan sudah "
                "masuk rekap SK periode %(period)s."
            )
            % {"date": f"{proposal.proposed_on:%d-%m-%Y}", "period": f"{proposal.period:%m-%Y}"}
        )
    proposal.cancelled_at = timezone.now()
    proposal.cancelled_by = by
    proposal.save(update_fields=["cancelled_at", "cancelled_by"])
    enrollment.segment = proposal.previous_segment
    enrollment.pbi_proposed_on = None
    enrollment.pbi_proposed_by = None
    enrollment._history_user = by
    enrollment.save(update_fields=["segment", "pbi_proposed_on", "pbi_proposed_by", "updated_at"])
    return proposal


def mark_notifications_read(*, user: User, notice_id: int | None = None, digest_id: int | None = None) -> int:
    """Mark one of her notices or digests read, or (given neither) all of them; another user's stay as they
    are. Returns how many were marked."""
    now = timezone.now()
    notices = Notification.objects.unread().filter(recipient=user)
    digests = Digest.objects.unread().filter(recipient=user)
    if notice_id is not None:
        return notices.filter(pk=notice_id).update(read_at=now)
    if digest_id is not None:
        return digests.filter(pk=digest_id).update(read_at=now)
    return notices.update(read_at=now) + digests.update(read_at=now)


EMAIL_BATCH = 200


def digest_email(digest: Digest) -> tuple[str, str]:
    """(subject, body) of a digest's e-mail: the very lines the notification page shows, with their links."""
    subject = _("SEJAGAD SEHAT: ringkasan %(day)s, %(n)s bayi perlu tindakan") % {
        "day": f"{digest.day:%d-%m-%Y}",
        "n": digest.total,
    }
    base = settings.SITE_URL.rstrip("/")
    lines = [f"- {line.text}\n  {base}{line.url}" for line in digest.lines()]
    body = _("Ringkasan harian %(day)s: bayi Anda yang mendekati atau melewati batas waktu JKN.") % {
        "day": f"{digest.day:%d-%m-%Y}"
    }
    return subject, body + "\n\n" + "\n".join(lines)


def email_notifications(*, batch_size: int = EMAIL_BATCH) -> int:
    """One e-mail per digest not yet mailed, saying what the digest says; each digest is mailed once.

    Streams: digests come in batches by id. Once, even when the job is delivered twice: a digest is claimed
    (one conditional UPDATE) before the e-mail goes and marked mailed after it, so a second delivery finds
    nothing to claim. A failed send releases the claim, so the next run tries again. A worker killed
    between sending and marking leaves a claim that is taken again once older than the job's time limit:
    that one digest may come twice, rather than never. Returns the digests mailed."""
    mailed, last = 0, 0
    connection = get_connection()  # one SMTP session for the run, opened on the first digest
    while True:
        batch = list(
            Digest.objects.filter(emailed_at__isnull=True, pk__gt=last)
            .exclude(recipient__email="")
            .select_related("recipient")
            .order_by("pk")[:batch_size]
        )
        for digest in batch:
            mailed += _email_digest(digest, connection)
        if len(batch) < batch_size:
            connection.close()
            return mailed
        last = batch[-1].pk


def _email_digest(digest: Digest, connection) -> int:
    now = timezone.now()
    stale = now - datetime.timedelta(seconds=settings.JOB_TIME_LIMITS["enrollment.tasks.email_notifications"])
    # Conditions on the digest's own columns, so a concurrent claim re-checks them and gets nothing.
    mine = Digest.objects.filter(pk=digest.pk, emailed_at__isnull=True)
    if not mine.filter(Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=stale)).update(email_claimed_at=now):
        return 0
    subject, body = digest_email(digest)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [digest.recipient.email], connection=connection)
    except SoftTimeLimitExceeded:  # the job's time is up: give it back and stop
        mine.update(email_claimed_at=None)
        raise
    except Exception:  # SMTP down or refused: give the digest back for the next run
        logger.warning("digest %s not sent", digest.pk, exc_info=True)
        mine.update(email_claimed_at=None)
        connection.close()  # the next digest opens a fresh session
        return 0
    mine.update(emailed_at=timezone.now())
    return 1


def queue_flag_deadlines() -> bool:
    """Dinkes's "run now": the daily deadline job, queued once the caller's transaction commits. False when
    the queue cannot be reached (the page says so; the hourly catch-up or tomorrow's run follows)."""
    from enrollment import tasks

    queued = []

    def send():
        try:
            tasks.flag_deadlines.delay()
        except Exception:  # kombu's OperationalError, or the transport's own
            logger.warning("could not queue the deadline job", exc_info=True)
            queued.append(False)
        else:
            queued.append(True)

    transaction.on_commit(send)
    # Outside a transaction on_commit runs at once; inside one the caller learns the outcome too late, so
    # only a failure seen now is reported.
    return queued != [False]
