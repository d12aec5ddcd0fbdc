"""Thin Celery adapters: each takes ids or plain values, calls one service, and is safe to run twice."""

from celery import shared_task

from coverage import services


@shared_task
def preview_import(import_id: int) -> str:
    record = services.preview_import(import_id=import_id)
    return record.status


@shared_task
def commit_import(import_id: int) -> str:
    outcome = services.commit_import(import_id=import_id)
    return outcome.record.status


@shared_task
def compute_coverage(periods: list[str] | None = None) -> int:
    """After each import (its periods) and nightly (every period)."""
    return services.compute_coverage(periods=periods).written
