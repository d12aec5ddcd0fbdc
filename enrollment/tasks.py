"""Thin Celery adapters, each with its time limit (settings.JOB_TIME_LIMITS) and safe to run twice."""

from celery import shared_task
from django.db import transaction

from enrollment import export_jobs, flagging, reminders, services, summary
from sejagad.celery import time_limits


@shared_task(**time_limits("enrollment.tasks.flag_deadlines"))
def flag_deadlines() -> dict:
    """Daily at DEADLINE_FLAG_HOUR (or when Dinkes asks): recompute every flag, write the day's digests,
    recount the dashboard's summary for the new day (so that no reader waits for it), then e-mail the digests."""
    result = flagging.flag_deadlines()
    summary.refresh()
    transaction.on_commit(email_notifications.delay)
    return {
        "run": result.run.pk,
        "moved": result.moved,
        "notifications": result.notifications,
        "digests": result.run.digests,
    }


@shared_task(**time_limits("enrollment.tasks.email_notifications"))
def email_notifications() -> int:
    return services.email_notifications()


@shared_task(**time_limits("enrollment.tasks.catch_up_flag_deadlines"))
def catch_up_flag_deadlines() -> bool:
    """Hourly: queue the daily job when today's run is missing although it should have finished (its
    message was lost with the broker, or beat was down). A run killed midway left nothing (one transaction)."""
    if not flagging.daily_run_missed():
        return False
    flag_deadlines.delay()
    return True


@shared_task(**time_limits("enrollment.tasks.build_worklist_export"))
def build_worklist_export(job_id: int) -> str | None:
    """A worklist XLSX requested from its page; the job row is claimed first, so a redelivery is harmless."""
    job = export_jobs.build_worklist_export(job_id=job_id)
    return job.status if job else None


@shared_task(**time_limits("enrollment.tasks.sweep_export_files"))
def sweep_export_files() -> dict:
    """Hourly: delete XLSX exports past EXPORT_FILE_HOURS and fail jobs whose worker vanished."""
    result = export_jobs.sweep_export_files()
    return {"files": result.files_deleted, "expired": result.jobs_expired, "abandoned": result.jobs_abandoned}


@shared_task(**time_limits("enrollment.tasks.send_reminders"))
def send_reminders() -> dict:
    """Every REMINDER_SEND_EVERY_SECONDS: queue the family reminders due, send a batch inside district hours.
    Claimed rows and the unique (baby, step) make a redelivered run send nothing twice."""
    result = reminders.send_reminders()
    return {"queued": result.queued, "sent": result.sent, "retried": result.retried, "failed": result.failed}
