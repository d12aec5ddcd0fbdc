from celery import shared_task
from django.db import transaction

from enrollment import flagging, services


@shared_task(acks_late=True)
def flag_deadlines() -> dict:
    """Daily at DEADLINE_FLAG_HOUR: recompute every flag, then e-mail whom it concerns."""
    result = flagging.flag_deadlines()
    transaction.on_commit(email_notifications.delay)
    return {"run": result.run.pk, "moved": result.moved, "notifications": result.notifications}


@shared_task(acks_late=True)
def email_notifications() -> int:
    return services.email_notifications()
