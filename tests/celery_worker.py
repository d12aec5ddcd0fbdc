"""A real Celery worker for integration tests: Redis in CI, the in-memory broker on a laptop.

Eager mode would not test a task: here the message crosses the broker and a worker thread with its own
database connection runs it, so the test must commit its data (pytest's transactional_db)."""

import contextlib
import os
import time

from celery import signals
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import connection

from sejagad.celery import app


def _close_worker_connection(**kwargs):
    # The worker thread opened its own connection; close it so the test database can be flushed and dropped.
    connection.close()


@contextlib.contextmanager
def real_worker():
    broker = settings.CELERY_BROKER_URL
    if os.environ.get("CI") == "true":
        assert broker.startswith("redis://"), "CI runs the Celery tests on Redis"
    original = app.conf.broker_url
    app.conf.broker_url = broker if broker.startswith("redis://") else "memory://"
    app.conf.task_always_eager = False
    app.connection_for_write().ensure_connection(max_retries=3)  # a missing Redis fails here, loudly
    app.control.purge()  # messages left by earlier tests' on_commit hooks are not this test's work
    signals.task_postrun.connect(_close_worker_connection, weak=False)
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
            yield app
    finally:
        signals.task_postrun.disconnect(_close_worker_connection)
        app.conf.broker_url = original


def wait_for(condition, timeout: float = 60):
    """Poll the database until ``condition()`` is truthy (there is no result backend); returns its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    raise AssertionError("the worker did not finish in time")
