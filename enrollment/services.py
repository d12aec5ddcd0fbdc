"""The rules of a newborn's JKN membership: registration, the NIK update at BPJS, PBI proposals."""

import datetime
import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from enrollment import flagging
from enrollment.models import NIK_UPDATED, REGISTERED, Enrollment, EnrollmentStatus, Notification
from newborns import validators
from newborns.models import Newborn, Segment
from sejagad.models import User

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


@transaction.atomic
def propose_pbi(*, enrollment: Enrollment, by: User, segment: str = Segment.PBI_APBD) -> Enrollment:
    """Dinsos proposes a poor family's baby as PBI; BPJS registers it."""
    if segment not in PBI_SEGMENTS:
        raise ValidationError({"segment": _("Usulan PBI hanya untuk segmen PBI APBN atau PBI APBD.")})
    if enrollment.pbi_proposed_on:
        raise ValidationError(
            _("Bayi ini sudah diusulkan sebagai PBI pada %(date)s.")
            % {"date": enrollment.pbi_proposed_on.strftime("%d-%m-%Y")}
        )
    enrollment.segment = segment
    enrollment.pbi_proposed_on = timezone.localdate()
    enrollment.pbi_proposed_by = by
    enrollment._history_user = by
    enrollment.save(update_fields=["segment", "pbi_proposed_on", "pbi_proposed_by", "updated_at"])
    return enrollment


def mark_notifications_read(*, user: User, ids: list[int] | None = None) -> int:
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


EMAIL_BATCH = 200
DIGEST_LINES = 100


def email_notifications(*, batch_size: int = EMAIL_BATCH) -> int:
    """One e-mail per recipient listing the babies that moved to a worse level; each notice is mailed once.

    Streams: recipients come in batches, and each digest is built from its own rows (at most DIGEST_LINES
    listed). Once, even when the job is delivered twice: a recipient's notices are claimed (one conditional
    UPDATE) before the e-mail goes and marked mailed after it, so a second delivery finds nothing to claim.
    A failed send releases the claim, so the next run tries again. A worker killed between sending and
    marking leaves a claim that is taken again once older than the job's time limit: that one digest may
    come twice, rather than never. Returns the notices mailed."""
    mailed, last = 0, 0
    connection = get_connection()  # one SMTP session for the run, opened on the first digest
    while True:
        batch = list(
            Notification.objects.live()
            .filter(emailed_at__isnull=True, recipient_id__gt=last)
            .exclude(recipient__email="")
            .order_by("recipient_id")
            .values_list("recipient_id", "recipient__email")
            .distinct()[:batch_size]
        )
        for recipient_id, email in batch:
            mailed += _email_digest(recipient_id, email, connection)
        if len(batch) < batch_size:
            connection.close()
            return mailed
        last = batch[-1][0]


def _email_digest(recipient_id: int, email: str, connection) -> int:
    now = timezone.now()
    stale = now - datetime.timedelta(seconds=settings.JOB_TIME_LIMITS["enrollment.tasks.email_notifications"])
    # Conditions on the notice's own columns (no join), so a concurrent claim re-checks them and gets nothing.
    claimed = (
        Notification.objects.filter(recipient_id=recipient_id, emailed_at__isnull=True)
        .filter(Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=stale))
        .filter(enrollment_id__in=Enrollment.objects.filter(newborn__voided_at__isnull=True).values("id"))
        .update(email_claimed_at=now)
    )
    if not claimed:
        return 0
    mine = Notification.objects.filter(recipient_id=recipient_id, email_claimed_at=now, emailed_at__isnull=True)
    notices = mine.select_related("enrollment__newborn").order_by("-level", "id")[:DIGEST_LINES]
    lines = [
        f"- {n.enrollment.newborn.temporary_name} (lahir {n.enrollment.newborn.birth_date:%d-%m-%Y}): "
        f"{n.get_deadline_display()} — {n.get_level_display()}"
        for n in notices
    ]
    if claimed > len(lines):
        lines.append(_("… dan %(n)s lainnya; lihat daftar kerja di SEJAGAD SEHAT.") % {"n": claimed - len(lines)})
    body = _("Bayi berikut mendekati atau melewati batas waktu JKN:") + "\n\n" + "\n".join(lines)
    subject = _("SEJAGAD SEHAT: %(n)s bayi perlu tindakan") % {"n": claimed}
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email], connection=connection)
    except SoftTimeLimitExceeded:  # the job's time is up: give these back and stop
        mine.update(email_claimed_at=None)
        raise
    except Exception:  # SMTP down or refused: give the notices back for the next run
        logger.warning("digest for user %s not sent", recipient_id, exc_info=True)
        mine.update(email_claimed_at=None)
        connection.close()  # the next digest opens a fresh session
        return 0
    mine.update(emailed_at=timezone.now())
    return claimed
