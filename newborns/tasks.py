"""Thin Celery adapters for SATUSEHAT, each with its time limit (settings.JOB_TIME_LIMITS) and safe to run twice."""

from celery import shared_task

from newborns import outbox
from sejagad.celery import time_limits


@shared_task(bind=True, **time_limits("newborns.tasks.send_to_satusehat"))
def send_to_satusehat(self, outbox_id: int) -> str:
    """Send one outbox row; the row is claimed first, so a redelivered message sends nothing twice. A failure
    worth retrying comes back with its backoff (SATUSEHAT_RETRY_SECONDS x 1, 2, 4 ...)."""
    result = outbox.send(outbox_id)
    if result.retry_in is not None:
        raise self.retry(countdown=result.retry_in, max_retries=None)
    return result.status


@shared_task(**time_limits("newborns.tasks.sweep_satusehat"))
def sweep_satusehat() -> int:
    """Every few minutes: enqueue rows that are due but have no message (broker down, lost retry)."""
    return outbox.sweep()
