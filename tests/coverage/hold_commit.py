"""Loaded into a test's worker subprocess (``celery worker --include``): when SEJAGAD_TEST_HOLD_COMMIT names a
file, a commit writes its rows, touches that file and then waits inside its transaction, so the test can kill
the worker in the middle of a real job."""

import os
import time
from pathlib import Path

from celery import signals


@signals.task_prerun.connect
def _hold_commits(**kwargs):
    marker = os.environ.get("SEJAGAD_TEST_HOLD_COMMIT")
    from coverage import services

    if not marker or getattr(services.write_counts, "held", False):
        return
    write_counts = services.write_counts

    def write_then_wait(**kw):
        written = write_counts(**kw)
        Path(marker).touch()
        time.sleep(300)
        return written

    write_then_wait.held = True
    services.write_counts = write_then_wait
