"""Thin Celery adapters: each takes ids or plain values, calls one service, and is safe to run twice.

Each has a hard and soft time limit (settings.JOB_TIME_LIMITS); the broker's visibility timeout is derived
from the longest, so a job whose worker was killed runs again within minutes."""

from celery import shared_task

from coverage import services
from sejagad.celery import time_limits


@shared_task(**time_limits("coverage.tasks.preview_import"))
def preview_import(import_id: int) -> str:
    record = services.preview_import(import_id=import_id)
    return record.status


@shared_task(**time_limits("coverage.tasks.commit_import"))
def commit_import(import_id: int) -> str:
    outcome = services.commit_import(import_id=import_id)
    return outcome.record.status


@shared_task(**time_limits("coverage.tasks.compute_coverage"))
def compute_coverage(periods: list[str] | None = None) -> int:
    """After each import (its periods) and nightly (every period)."""
    return services.compute_coverage(periods=periods).written


@shared_task(**time_limits("coverage.tasks.sweep_stuck_imports"))
def sweep_stuck_imports() -> dict:
    """Every few minutes (beat): imports whose job died or was never queued, roll-ups that never ran."""
    sweep = services.sweep_stuck_imports()
    return {"requeued": sweep.requeued, "rollups": sweep.rollups}
