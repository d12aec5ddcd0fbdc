import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sejagad.settings")

app = Celery("sejagad")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

SOFT_MARGIN = 30


def time_limits(name: str) -> dict[str, int]:
    """A job's hard and soft time limits (settings.JOB_TIME_LIMITS), as ``shared_task`` options."""
    from django.conf import settings

    hard = settings.JOB_TIME_LIMITS.get(name, settings.CELERY_TASK_TIME_LIMIT)
    return {"name": name, "time_limit": hard, "soft_time_limit": max(hard - SOFT_MARGIN, 1)}
