"""The daily flag job recovers: a run whose message was lost is caught up the same day."""

import datetime

import pytest
from django.utils import timezone

from enrollment import flagging
from enrollment.models import FlagRun
from sejagad.celery import app


@pytest.mark.django_db
def test_a_daily_run_missing_after_its_hour_and_time_limit_is_caught_up(settings):
    settings.DEADLINE_FLAG_HOUR = 6
    limit = datetime.timedelta(seconds=settings.JOB_TIME_LIMITS["enrollment.tasks.flag_deadlines"])
    six = timezone.localtime().replace(year=2025, month=3, day=10, hour=6, minute=0, second=0, microsecond=0)

    assert not flagging.daily_run_missed(six + limit - datetime.timedelta(minutes=1))  # may still be running
    assert flagging.daily_run_missed(six + limit + datetime.timedelta(minutes=1))
    FlagRun.objects.create(day=six.date(), finished_at=six + datetime.timedelta(minutes=3))
    assert not flagging.daily_run_missed(six + limit + datetime.timedelta(minutes=1))
    FlagRun.objects.create(day=six.date() - datetime.timedelta(days=1), finished_at=six)
    assert flagging.daily_run_missed(six + datetime.timedelta(days=1, hours=2))  # the next day's is missing


def test_beat_checks_for_a_missed_run_every_hour():
    entry = app.conf.beat_schedule["flag-deadlines-catch-up"]
    assert entry["task"] == "enrollment.tasks.catch_up_flag_deadlines"
    assert entry["schedule"].minute == {15} and len(entry["schedule"].hour) == 24
