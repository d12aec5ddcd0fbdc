"""In CI the suite runs on the real PostgreSQL and Redis; a missing service fails here, never skips."""

import os

import pytest
import redis
from django.conf import settings
from django.db import connection

IN_CI = os.environ.get("CI") == "true"


@pytest.mark.skipif(not IN_CI, reason="outside CI the suite may run on the embedded default")
@pytest.mark.django_db
def test_ci_runs_on_postgresql():
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        assert int(cursor.fetchone()[0].split(".")[0]) >= 13


@pytest.mark.skipif(not IN_CI, reason="outside CI the suite may run on the embedded default")
def test_ci_broker_is_a_live_redis():
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert redis.Redis.from_url(settings.CELERY_BROKER_URL).ping() is True
