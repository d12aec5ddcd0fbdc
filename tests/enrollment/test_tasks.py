import datetime

import pytest
from django.utils import timezone

from enrollment import flagging, tasks
from enrollment.models import BirthSummary, BirthSummaryMark, BirthSummaryState, Digest, Enrollment, FlagLevel, FlagRun
from sejagad.roles import Role
from tests.celery_worker import real_worker, wait_for
from tests.factories import BidanFactory, UserFactory, mother_nik, register


@pytest.mark.django_db(transaction=True)
def test_daily_job_runs_in_a_real_worker_and_emails_once(district, mailoutbox):
    bidan = BidanFactory(email="bidan@example.id")
    UserFactory(role=Role.STAF_DINKES, email="dinkes@example.id")
    today = timezone.localdate()
    baby = register(birth_date=today - datetime.timedelta(days=25), attending_midwife=bidan)
    with real_worker():
        tasks.flag_deadlines.delay()
        assert wait_for(lambda: FlagRun.objects.filter(finished_at__isnull=False).exists()), "the job did not run"
        assert wait_for(lambda: Digest.objects.filter(emailed_at__isnull=False).count() == 2)
    enrollment = Enrollment.objects.get(newborn=baby)
    assert enrollment.registration_level == FlagLevel.KRITIS
    assert sorted(m.to[0] for m in mailoutbox) == ["bidan@example.id", "dinkes@example.id"]
    # The dashboard's summary was recounted for the day by the job, not left to the first reader.
    assert BirthSummaryState.objects.filter(day=today).exists() and not BirthSummaryMark.objects.exists()
    assert BirthSummary.objects.filter(desa=baby.desa_id).values_list("births", flat=True).get() == 1


def test_beat_runs_the_job_daily_at_the_configured_hour(settings):
    from sejagad.celery import app

    entry = app.conf.beat_schedule["flag-deadlines-daily"]
    assert entry["task"] == tasks.flag_deadlines.name
    assert entry["schedule"].hour == {settings.DEADLINE_FLAG_HOUR}
    assert tasks.flag_deadlines.acks_late is True


@pytest.mark.django_db(transaction=True)
def test_a_job_that_dies_halfway_leaves_nothing_half_done(district, monkeypatch):
    today = timezone.localdate()
    for i in range(3):
        register(birth_date=today - datetime.timedelta(days=20 + i), mother_nik=mother_nik(i + 1))
    flagging.flag_deadlines(today=today)
    before = list(Enrollment.objects.order_by("id").values_list("registration_level", "nik_level"))
    runs = FlagRun.objects.count()

    def dies_after_the_levels_moved(today):  # the levels are written, the digests not yet
        assert Enrollment.objects.order_by("id").values_list("registration_level", "nik_level")[0] != before[0]
        raise SystemExit("worker killed")

    monkeypatch.setattr(flagging, "write_digests", dies_after_the_levels_moved)
    with pytest.raises(SystemExit):
        flagging.flag_deadlines(today=today + datetime.timedelta(days=10))
    assert list(Enrollment.objects.order_by("id").values_list("registration_level", "nik_level")) == before
    assert FlagRun.objects.count() == runs
