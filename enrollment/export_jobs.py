"""Large worklist XLSX exports, built by a worker into a file that only their requester downloads.

The request records an ``ExportJob`` with the list's own query and queues ``build_worklist_export``; the
worker rebuilds the same rows the page shows (``exports.worklist_export``), writes them with the same
writer as before, and reports its progress every few thousand rows. Files live under
settings.EXPORT_FILES_DIR and are deleted by ``sweep_export_files`` after settings.EXPORT_FILE_HOURS.
"""

import datetime
import json
import logging
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from enrollment import exports
from enrollment.forms import WorklistFilterForm
from enrollment.models import EXPORT_JOB_RUNNING, ExportJob, ExportJobStatus
from sejagad.models import User
from sejagad.roles import Capability, can

logger = logging.getLogger(__name__)

TASK_NAME = "enrollment.tasks.build_worklist_export"
# Often enough that the page moves every second or two, rarely enough to cost nothing (one UPDATE each).
PROGRESS_EVERY = 5000
# A job still "berjalan" this long after its time limit lost its worker (killed, machine restarted).
STALE_MARGIN = datetime.timedelta(minutes=5)


def _form(user: User, params: dict) -> WorklistFilterForm:
    data = QueryDict(mutable=True)
    for name, values in params.items():
        data.setlist(name, values)
    return WorklistFilterForm(data, user=user)


def _fingerprint(user: User, params: dict) -> str:
    # Keyed: the params may hold a search for a NIK, and a plain hash of one is quickly reversed.
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"))
    return salted_hmac("enrollment.ExportJob", f"{user.pk}:{canonical}", algorithm="sha256").hexdigest()


def _running(user: User, fingerprint: str) -> ExportJob | None:
    return ExportJob.objects.filter(user=user, fingerprint=fingerprint, status__in=EXPORT_JOB_RUNNING).first()


def request_worklist_export(*, user: User, params: QueryDict) -> tuple[ExportJob, bool]:
    """One XLSX job per user and list while it runs: a second click returns the running job (False)."""
    fields = WorklistFilterForm.base_fields
    kept = {name: values for name, values in params.lists() if name in fields and any(values)}
    form = _form(user, kept)
    filters = form.filters()
    kept["kind"] = [filters["kind"]]
    fingerprint = _fingerprint(user, kept)
    if running := _running(user, fingerprint):
        return running, False
    try:
        with transaction.atomic():
            job = ExportJob.objects.create(
                user=user, kind=filters["kind"], params=kept, filters=form.as_log(), fingerprint=fingerprint
            )
    except IntegrityError:  # the other click of a double submit won the race
        return _running(user, fingerprint), False
    transaction.on_commit(lambda: queue_export_job(job_id=job.pk))
    return job, True


def queue_export_job(*, job_id: int) -> bool:
    """Hand the job to a worker; when the queue cannot be reached the job fails with a message to retry."""
    from enrollment import tasks

    try:
        tasks.build_worklist_export.delay(job_id)
    except Exception:  # kombu's OperationalError or the transport's own
        logger.warning("could not queue export job %s", job_id, exc_info=True)
        ExportJob.objects.filter(pk=job_id, status=ExportJobStatus.MENUNGGU).update(
            status=ExportJobStatus.GAGAL,
            finished_at=timezone.now(),
            error=_("Antrean pekerjaan sedang tidak tersedia. Coba lagi beberapa saat lagi."),
        )
        return False
    return True


def retry_export_job(*, job: ExportJob) -> ExportJob:
    """A failed job runs again (same list, same filters); a running twin of it is returned instead."""
    if not job.can_retry:
        return job
    try:
        with transaction.atomic():
            reset = ExportJob.objects.filter(pk=job.pk, status=ExportJobStatus.GAGAL).update(
                status=ExportJobStatus.MENUNGGU,
                created_at=timezone.now(),
                started_at=None,
                finished_at=None,
                rows_written=0,
                rows_total=None,
                error="",
            )
    except IntegrityError:  # the same list was asked for again meanwhile and still runs
        return _running(job.user, job.fingerprint) or job
    if reset:
        transaction.on_commit(lambda: queue_export_job(job_id=job.pk))
    job.refresh_from_db()
    return job


def _time_limit() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.JOB_TIME_LIMITS.get(TASK_NAME, settings.CELERY_TASK_TIME_LIMIT))


def _claim(job_id: int) -> bool:
    """Only one worker builds a job: a conditional UPDATE claims it. A redelivered message (its worker was
    killed) takes over once the first run is past its time limit."""
    now = timezone.now()
    waiting = Q(status=ExportJobStatus.MENUNGGU)
    abandoned = Q(status=ExportJobStatus.BERJALAN, started_at__lt=now - _time_limit())
    return bool(
        ExportJob.objects.filter(waiting | abandoned, pk=job_id).update(
            status=ExportJobStatus.BERJALAN, started_at=now, rows_written=0, error=""
        )
    )


def _counting(job_id: int, rows: Iterable[list]) -> Iterator[list]:
    written = 0
    for row in rows:
        yield row
        written += 1
        if written % PROGRESS_EVERY == 0:
            ExportJob.objects.filter(pk=job_id).update(rows_written=written)
    ExportJob.objects.filter(pk=job_id).update(rows_written=written)


def _fail(job_id: int, message: str) -> None:
    ExportJob.objects.filter(pk=job_id, status=ExportJobStatus.BERJALAN).update(
        status=ExportJobStatus.GAGAL, finished_at=timezone.now(), error=message
    )


def build_worklist_export(*, job_id: int) -> ExportJob | None:
    """Write the worklist's rows for the job's user and filters into an XLSX file; safe to run twice."""
    if not _claim(job_id):
        return None
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    user = job.user
    try:
        if not (user.is_active and can(user, Capability.EXPORT_WORKLISTS)):
            _fail(job_id, _("Akun ini tidak lagi berhak mengunduh daftar kerja."))
            return job
        filters = _form(user, job.params).filters()
        rows, log = exports.worklist_export(user=user, filters=filters, log_filters=job.filters, format="xlsx")
        ExportJob.objects.filter(pk=job_id).update(export_log=log, rows_total=log.rows)
        workbook = exports.write_xlsx(exports.HEADERS, _counting(job_id, exports.export_rows(rows, user)))
        with workbook:
            # A random name on disk: nothing about the list or its babies.
            name = job.file.storage.save(f"{secrets.token_urlsafe(16)}.xlsx", File(workbook))
    except SoftTimeLimitExceeded:
        _fail(job_id, _("Waktu pembuatan berkas habis. Persempit filter (wilayah atau periode), lalu coba lagi."))
        return job
    except Exception:  # a worker must leave a readable job behind, whatever broke
        logger.exception("export job %s failed", job_id)
        _fail(job_id, _("Berkas gagal dibuat karena kesalahan di server. Coba lagi; bila terulang, hubungi admin."))
        return job
    done = ExportJob.objects.filter(pk=job_id, status=ExportJobStatus.BERJALAN).update(
        status=ExportJobStatus.SELESAI, finished_at=timezone.now(), file=name
    )
    if not done:  # the sweep gave up on this run meanwhile: its file would belong to nobody
        job.file.storage.delete(name)
    job.refresh_from_db()
    return job


def recent_jobs(user: User):
    """The user's own export jobs, newest first."""
    return ExportJob.objects.filter(user=user)


@dataclass(frozen=True)
class Sweep:
    files_deleted: int
    jobs_expired: int
    jobs_abandoned: int


def sweep_export_files(*, now: datetime.datetime | None = None) -> Sweep:
    """Delete export files older than EXPORT_FILE_HOURS (with the query that made them), and fail jobs
    whose worker vanished or that never left the queue, so their owners can try again."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(hours=settings.EXPORT_FILE_HOURS)
    abandoned = ExportJob.objects.filter(
        Q(status=ExportJobStatus.BERJALAN, started_at__lt=now - _time_limit() - STALE_MARGIN)
        | Q(status=ExportJobStatus.MENUNGGU, created_at__lt=cutoff)
    ).update(
        status=ExportJobStatus.GAGAL,
        finished_at=now,
        error=_("Pekerjaan berhenti sebelum selesai (pemrosesnya mungkin dimatikan). Coba lagi."),
    )
    old = ExportJob.objects.filter(finished_at__lt=cutoff).exclude(file="", params={})
    storage = ExportJob._meta.get_field("file").storage
    deleted = 0
    for name in old.exclude(file="").values_list("file", flat=True):
        storage.delete(name)
        deleted += 1
    # Files no job points at (a worker killed between writing and recording) go by their age.
    folder = Path(storage.location)
    if folder.is_dir():
        for path in folder.glob("*.xlsx"):
            if datetime.datetime.fromtimestamp(path.stat().st_mtime, tz=datetime.UTC) < cutoff:
                path.unlink(missing_ok=True)
                deleted += 1
    expired = old.update(file="", params={})
    return Sweep(files_deleted=deleted, jobs_expired=expired, jobs_abandoned=abandoned)
