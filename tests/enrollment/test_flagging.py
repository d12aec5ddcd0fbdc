import datetime

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrollment.flagging import flag_deadlines, level_of
from enrollment.models import Enrollment, EnrollmentStatus, FlagLevel, FlagRun, Notification
from enrollment.services import update_enrollment
from newborns.deadlines import nik_deadline, registration_deadline
from newborns.models import Newborn
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory, mother_nik, nik_for, register

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 24)


def born(days_ago: int, serial: int = 1, **kw) -> Newborn:
    return register(birth_date=TODAY - datetime.timedelta(days=days_ago), mother_nik=mother_nik(serial), **kw)


@pytest.mark.both_databases
@pytest.mark.parametrize(
    ("birth", "registration", "nik"),
    [
        (datetime.date(2025, 1, 31), datetime.date(2025, 2, 28), datetime.date(2025, 4, 30)),
        (datetime.date(2024, 2, 29), datetime.date(2024, 3, 28), datetime.date(2024, 5, 29)),
        (datetime.date(2023, 11, 30), datetime.date(2023, 12, 28), datetime.date(2024, 2, 29)),
        (datetime.date(2025, 11, 30), datetime.date(2025, 12, 28), datetime.date(2026, 2, 28)),
        (datetime.date(2025, 12, 31), datetime.date(2026, 1, 28), datetime.date(2026, 3, 31)),
        (datetime.date(2026, 8, 31), datetime.date(2026, 9, 28), datetime.date(2026, 11, 30)),
    ],
)
def test_deadlines_on_edge_dates_agree_in_python_and_in_sql(district, birth, registration, nik):
    assert (registration_deadline(birth), nik_deadline(birth)) == (registration, nik)
    baby = register(birth_date=birth)
    flag_deadlines(today=birth)
    enrollment = Enrollment.objects.get(newborn=baby)
    assert (enrollment.registration_deadline, enrollment.nik_deadline) == (registration, nik)


def test_a_birth_just_before_local_midnight_counts_on_its_local_date(district, settings):
    # 23:50 WITA on 31 January is 15:50 UTC the same day: the deadline follows the local calendar date.
    from django.utils import timezone

    moment = datetime.datetime(2026, 1, 31, 23, 50, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
    assert timezone.localdate(moment) == datetime.date(2026, 1, 31)
    assert nik_deadline(timezone.localdate(moment)) == datetime.date(2026, 4, 30)


@pytest.mark.both_databases
@pytest.mark.parametrize(
    ("days_left", "level"),
    [
        (31, FlagLevel.AMAN),
        (30, FlagLevel.PERHATIAN),
        (15, FlagLevel.PERHATIAN),
        (14, FlagLevel.MENDESAK),
        (8, FlagLevel.MENDESAK),
        (7, FlagLevel.KRITIS),
        (0, FlagLevel.KRITIS),
        (-1, FlagLevel.TERLAMBAT),
    ],
)
def test_every_level_boundary_in_sql_and_python(district, days_left, level):
    baby = born(28 - days_left)  # registration deadline = birth + 28 days
    flag_deadlines(today=TODAY)
    assert Enrollment.objects.get(newborn=baby).registration_level == level
    assert level_of(TODAY + datetime.timedelta(days=days_left), done=False, today=TODAY) == level


@pytest.mark.both_databases
def test_every_transition_as_days_pass(district):
    baby = born(0)
    seen = []
    for day in range(0, 100):
        flag_deadlines(today=TODAY + datetime.timedelta(days=day))
        e = Enrollment.objects.get(newborn=baby)
        seen.append((e.registration_level, e.nik_level))
    registration_levels = [r for r, _ in seen]
    assert sorted(set(registration_levels)) == [
        FlagLevel.PERHATIAN,
        FlagLevel.MENDESAK,
        FlagLevel.KRITIS,
        FlagLevel.TERLAMBAT,
    ]
    assert registration_levels == sorted(registration_levels)  # it only gets worse while nothing is done
    assert [n for _, n in seen][0] == FlagLevel.AMAN
    assert seen[-1] == (FlagLevel.TERLAMBAT, FlagLevel.TERLAMBAT)


def test_meeting_a_deadline_marks_it_done(district):
    baby = born(20, sex="L")
    flag_deadlines(today=TODAY)
    enrollment = Enrollment.objects.get(newborn=baby)
    staff = UserFactory(role=Role.PETUGAS_BPJS)
    update_enrollment(
        enrollment=enrollment,
        by=staff,
        status=EnrollmentStatus.TERDAFTAR_SEMENTARA,
        jkn_number="0001234567890",
        registered_on=baby.birth_date + datetime.timedelta(days=3),
    )
    enrollment.refresh_from_db()
    assert enrollment.registration_level == FlagLevel.SELESAI
    assert enrollment.nik_level != FlagLevel.SELESAI


def test_a_registered_birth_has_its_membership_deadlines_and_levels_at_once(district):
    bidan = BidanFactory()
    dinkes = UserFactory(role=Role.STAF_DINKES)
    baby = born(27, attending_midwife=bidan)  # one day left to register
    enrollment = Enrollment.objects.get(newborn=baby)
    assert enrollment.registration_deadline == registration_deadline(baby.birth_date)
    assert enrollment.nik_deadline == nik_deadline(baby.birth_date)
    assert (enrollment.registration_level, enrollment.nik_level) == (FlagLevel.KRITIS, FlagLevel.AMAN)
    assert set(Notification.objects.values_list("recipient", "deadline", "level")) == {
        (bidan.pk, "registration", FlagLevel.KRITIS),
        (dinkes.pk, "registration", FlagLevel.KRITIS),
    }
    assert not FlagRun.objects.exists()  # no job was needed


def test_a_rerun_changes_nothing(district):
    for i in range(5):
        born(10 * i + 1, serial=i + 1)
    first = flag_deadlines(today=TODAY)
    assert first.run.full and first.run.examined == 5
    assert first.run.created_enrollments == 0  # each birth brought its own
    levels = list(Enrollment.objects.order_by("id").values_list("registration_level", "nik_level"))
    again = flag_deadlines(today=TODAY)
    assert not again.run.full and again.run.examined == 0
    assert again.moved == {"registration": {}, "nik": {}}
    assert again.notifications == 0
    assert list(Enrollment.objects.order_by("id").values_list("registration_level", "nik_level")) == levels


def test_each_run_is_logged_with_how_many_moved_to_each_level(district):
    born(24, serial=1)  # 4 days left today, 3 tomorrow: KRITIS both days
    born(16, serial=2)  # 12 days left: MENDESAK today, 11 tomorrow
    born(13, serial=3)  # 15 days left: PERHATIAN today, MENDESAK tomorrow
    flag_deadlines(today=TODAY)
    result = flag_deadlines(today=TODAY + datetime.timedelta(days=1))
    run = FlagRun.objects.order_by("started_at").last()
    assert run.finished_at >= run.started_at
    assert run.day == TODAY + datetime.timedelta(days=1)
    assert run.moved["registration"] == {"MENDESAK": 1}
    assert result.run == run


@pytest.mark.both_databases
def test_the_daily_job_looks_only_at_rows_whose_level_the_calendar_changes(district):
    babies = [born(days_ago, serial=i + 1) for i, days_ago in enumerate(range(0, 100, 3))]
    flag_deadlines(today=TODAY)
    for step in (1, 2, 5):
        before = FlagRun.objects.order_by("started_at").last().day
        after = TODAY + datetime.timedelta(days=step)
        expected = 0
        for baby in babies:
            e = Enrollment.objects.get(newborn=baby)
            levels = [
                (
                    level_of(e.registration_deadline, done=False, today=day),
                    level_of(e.nik_deadline, done=False, today=day),
                )
                for day in (before, after)
            ]
            expected += levels[0] != levels[1]
        run = flag_deadlines(today=after).run
        assert not run.full
        assert run.examined == expected > 0
        for baby in babies:
            e = Enrollment.objects.get(newborn=baby)
            assert e.registration_level == level_of(e.registration_deadline, done=False, today=after)
            assert e.nik_level == level_of(e.nik_deadline, done=False, today=after)


def test_the_daily_job_catches_a_birth_written_without_its_membership(district):
    model = born(22)
    flag_deadlines(today=TODAY)
    # A bulk path that bypasses the services: a birth without an enrollment, a status changed by UPDATE.
    Newborn.objects.bulk_create(
        [
            Newborn(
                mother=model.mother,
                birth_date=model.birth_date,
                birth_order=2,
                sex="L",
                weight_grams=2900,
                desa=model.desa,
                temporary_name="By. Ny. X",
            )
        ]
    )
    Enrollment.objects.filter(newborn=model).update(
        status=EnrollmentStatus.TERDAFTAR_SEMENTARA, updated_at=timezone.now()
    )
    run = flag_deadlines(today=TODAY).run
    assert run.created_enrollments == 1
    assert run.examined == 2
    missed = Enrollment.objects.get(newborn__birth_order=2)
    assert missed.registration_level == FlagLevel.KRITIS
    assert Enrollment.objects.get(newborn=model).registration_level == FlagLevel.SELESAI


def test_new_warning_windows_make_the_next_run_look_at_every_row(district, settings):
    born(10)  # 18 days left: PERHATIAN with 30/14/7
    flag_deadlines(today=TODAY)
    settings.DEADLINE_WARNING_DAYS = [21, 20, 19]
    run = flag_deadlines(today=TODAY).run
    assert run.full
    assert Enrollment.objects.get().registration_level == FlagLevel.KRITIS


def test_statement_count_does_not_grow_with_babies(district):
    UserFactory(role=Role.STAF_DINKES)  # told, so the notices and the digest are written
    born(1, serial=1)
    flag_deadlines(today=TODAY)  # the first run (full) is the install's; the daily ones follow
    with CaptureQueriesContext(connection) as few:
        flag_deadlines(today=TODAY + datetime.timedelta(days=1))
    for i in range(2, 30):
        born(i, serial=i)
    with CaptureQueriesContext(connection) as many:
        flag_deadlines(today=TODAY + datetime.timedelta(days=2))
    assert len(many) == len(few)


@pytest.mark.both_databases
def test_only_entering_kritis_notifies_the_midwife_and_dinkes_once(district):
    bidan = BidanFactory(email="bidan@example.id")
    dinkes = UserFactory(role=Role.STAF_DINKES, email="dinkes@example.id")
    UserFactory(role=Role.PETUGAS_BPJS)  # not told
    born(15, attending_midwife=bidan)  # 13 days left: MENDESAK, no notice
    assert not Notification.objects.exists()
    flag_deadlines(today=TODAY)
    flag_deadlines(today=TODAY + datetime.timedelta(days=5))  # 8 days left: still MENDESAK
    assert not Notification.objects.exists()
    flag_deadlines(today=TODAY + datetime.timedelta(days=6))  # 7 days left: KRITIS
    assert set(Notification.objects.values_list("recipient", "level")) == {
        (bidan.pk, FlagLevel.KRITIS),
        (dinkes.pk, FlagLevel.KRITIS),
    }
    flag_deadlines(today=TODAY + datetime.timedelta(days=7))  # still KRITIS: nothing new
    flag_deadlines(today=TODAY + datetime.timedelta(days=14))  # TERLAMBAT now: in the digest, no notice
    assert Notification.objects.count() == 2


def test_a_bidan_is_not_told_of_babies_outside_her_facility(district):
    from sejagad.models import Facility

    bidan = BidanFactory()
    born(22, facility=Facility.objects.get(code="PKM-732211"))
    flag_deadlines(today=TODAY)
    assert not Notification.objects.filter(recipient=bidan).exists()


def test_nik_update_is_done_only_when_bpjs_holds_the_nik(district):
    from django.core.exceptions import ValidationError

    from newborns.services import record_documents

    baby = born(80, sex="L")  # NIK deadline in 12 days: MENDESAK
    flag_deadlines(today=TODAY)
    enrollment = Enrollment.objects.get(newborn=baby)
    assert enrollment.nik_level == FlagLevel.MENDESAK
    bpjs = UserFactory(role=Role.PETUGAS_BPJS)
    registered = {
        "status": EnrollmentStatus.DIPERBARUI,
        "jkn_number": "0001234567890",
        "registered_on": baby.birth_date,
        "nik_updated_on": baby.birth_date + datetime.timedelta(days=70),
    }
    with pytest.raises(ValidationError, match="belum memiliki NIK"):
        update_enrollment(enrollment=enrollment, by=bpjs, **registered)

    record_documents(
        newborn=baby,
        by=baby.created_by,
        nik=nik_for(baby.birth_date, female=False),
        nik_issued_on=baby.birth_date + datetime.timedelta(days=60),
    )
    enrollment = update_enrollment(enrollment=enrollment, by=bpjs, **registered)
    assert (enrollment.registration_level, enrollment.nik_level) == (FlagLevel.SELESAI, FlagLevel.SELESAI)
    assert enrollment.history.first().history_user == bpjs


@pytest.mark.both_databases
def test_a_baby_that_leaves_a_level_and_comes_back_is_not_told_twice(district):
    dinkes = UserFactory(role=Role.STAF_DINKES)
    born(22)  # 6 days left: KRITIS
    flag_deadlines(today=TODAY)
    # The server's date was wrong and is put right (a full re-run): PERHATIAN again, then KRITIS again.
    flag_deadlines(today=TODAY - datetime.timedelta(days=20))
    assert Enrollment.objects.get().registration_level == FlagLevel.PERHATIAN
    flag_deadlines(today=TODAY)
    assert Enrollment.objects.get().registration_level == FlagLevel.KRITIS
    assert list(Notification.objects.filter(recipient=dinkes).values_list("level", flat=True)) == [FlagLevel.KRITIS]


@pytest.mark.both_databases
def test_a_baby_told_of_before_takes_none_of_the_day_s_notices(district, settings):
    settings.KRITIS_NOTICES_PER_DAY = 1
    dinkes = UserFactory(role=Role.STAF_DINKES)
    told_before = born(11, serial=1)  # 17 days left: Perhatian; Kritis in 11 days, the first to fall due
    newcomer = born(10, serial=2)  # 18 days left; Kritis the same day, a day later due
    flag_deadlines(today=TODAY)
    Notification.objects.create(
        recipient=dinkes,
        enrollment=Enrollment.objects.get(newborn=told_before),
        deadline="registration",
        level=FlagLevel.KRITIS,
        created_at=timezone.now() - datetime.timedelta(days=2),  # a clock put right since, say
    )
    flag_deadlines(today=TODAY + datetime.timedelta(days=11))
    assert Enrollment.objects.filter(registration_level=FlagLevel.KRITIS).count() == 2
    told = Notification.objects.filter(recipient=dinkes)
    assert sorted(told.values_list("enrollment__newborn", flat=True)) == sorted([told_before.pk, newcomer.pk])


def test_after_a_clock_put_right_the_next_day_catches_what_the_calendar_moved(district):
    born(13)  # 15 days left today: PERHATIAN; MENDESAK (14 days) tomorrow
    flag_deadlines(today=TODAY + datetime.timedelta(days=1))  # the server's clock ran a day ahead
    flag_deadlines(today=TODAY)  # put right: every row again, PERHATIAN
    assert Enrollment.objects.get().registration_level == FlagLevel.PERHATIAN
    run = flag_deadlines(today=TODAY + datetime.timedelta(days=1))  # the real tomorrow
    assert Enrollment.objects.get().registration_level == FlagLevel.MENDESAK
    assert run.run.examined == 1


@pytest.mark.both_databases
def test_a_move_to_a_milder_at_risk_level_brings_no_notice(district):
    dinkes = UserFactory(role=Role.STAF_DINKES)
    born(22)  # 6 days left: KRITIS
    flag_deadlines(today=TODAY)
    flag_deadlines(today=TODAY - datetime.timedelta(days=5))  # 11 days left: MENDESAK, better than KRITIS
    enrollment = Enrollment.objects.get()
    assert enrollment.registration_level == FlagLevel.MENDESAK
    assert list(Notification.objects.filter(recipient=dinkes).values_list("level", flat=True)) == [FlagLevel.KRITIS]


def _rows_updated(table: str = "enrollment_enrollment") -> int:
    """Rows this transaction has written to a table so far, as PostgreSQL counts them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relname = %s", [table])
        return cursor.fetchone()[0]


def _expected_moves(babies, before: datetime.date, after: datetime.date) -> int:
    moves = 0
    for baby in babies:
        e = Enrollment.objects.get(newborn=baby)
        levels = [
            (level_of(e.registration_deadline, done=False, today=d), level_of(e.nik_deadline, done=False, today=d))
            for d in (before, after)
        ]
        moves += levels[0] != levels[1]
    return moves


def test_the_daily_job_writes_only_the_rows_whose_level_moves(district):
    babies = [born(days_ago, serial=i + 1) for i, days_ago in enumerate(range(0, 100, 3))]
    flag_deadlines(today=TODAY)
    tomorrow = TODAY + datetime.timedelta(days=1)
    expected = _expected_moves(babies, TODAY, tomorrow)
    written = _rows_updated()
    run = flag_deadlines(today=tomorrow).run
    assert 0 < expected < len(babies)
    assert _rows_updated() - written == expected == run.examined
    written = _rows_updated()
    assert flag_deadlines(today=tomorrow).run.examined == 0  # a re-run the same day
    assert _rows_updated() == written


@pytest.mark.both_databases
def test_a_full_run_counts_what_the_daily_run_counts_and_writes_only_those_rows_in_one_update(district):
    babies = [born(days_ago, serial=i + 1) for i, days_ago in enumerate(range(0, 100, 3))]
    flag_deadlines(today=TODAY)
    tomorrow = TODAY + datetime.timedelta(days=1)
    with transaction.atomic():
        daily = flag_deadlines(today=tomorrow)
        transaction.set_rollback(True)
    assert daily.moved["registration"] or daily.moved["nik"]
    levels = list(Enrollment.objects.order_by("id").values_list("registration_level", "nik_level"))

    with CaptureQueriesContext(connection) as queries:
        full = flag_deadlines(today=tomorrow, full=True)
    assert full.run.full and full.run.examined == len(babies)
    assert full.moved == daily.moved
    moved = [
        now != before
        for now, before in zip(
            Enrollment.objects.order_by("id").values_list("registration_level", "nik_level"), levels, strict=True
        )
    ]
    assert sum(moved) == _expected_moves(babies, TODAY, tomorrow)
    # The whole table in one plain UPDATE (on PostgreSQL too), not rows found again by id.
    writes = [q["sql"] for q in queries.captured_queries if 'SET "registration_level"' in q["sql"]]
    assert len(writes) == 1 and "RETURNING" not in writes[0]


def test_the_daily_job_is_a_fixed_list_of_statements_with_one_for_every_level(district):
    UserFactory(role=Role.STAF_DINKES)  # told, so the notices and the digest are written
    for i in range(1, 40):
        born(i, serial=i)
    flag_deadlines(today=TODAY)
    with CaptureQueriesContext(connection) as next_day:
        flag_deadlines(today=TODAY + datetime.timedelta(days=1))
    statements = [q["sql"] for q in next_day.captured_queries if "SAVEPOINT" not in q["sql"]]
    # the job's sort memory, last run, the run's row, births without a membership, deadlines that follow a birth
    # date, the levels with their notices and counts, the digest (counts, areas, today's, insert), the run's
    # figures.
    assert len(statements) == 11
    assert statements[0] == "SELECT set_config('work_mem', '64MB', true)"
    writes_levels = [sql for sql in statements if "SET registration_level" in sql]
    assert len(writes_levels) == 1
    assert "RETURNING" in writes_levels[0] and "INSERT INTO enrollment_notification" in writes_levels[0]
    with CaptureQueriesContext(connection) as rerun:
        flag_deadlines(today=TODAY + datetime.timedelta(days=1))
    # The same day again: no digest to count.
    assert len([q for q in rerun.captured_queries if "SAVEPOINT" not in q["sql"]]) == 7


@pytest.mark.both_databases
def test_after_missed_days_the_next_run_catches_up_every_day_and_tells_who_entered_kritis(district):
    bidan = BidanFactory()
    babies = [born(days_ago, serial=i + 1, attending_midwife=bidan) for i, days_ago in enumerate(range(10, 20))]
    flag_deadlines(today=TODAY)  # 18 to 9 days left: Perhatian and Mendesak, nobody Kritis
    assert not Notification.objects.exists()
    later = TODAY + datetime.timedelta(days=6)  # the worker was down five days
    expected = _expected_moves(babies, TODAY, later)
    run = flag_deadlines(today=later).run
    assert run.examined == expected > 0
    kritis = set(Enrollment.objects.filter(registration_level=FlagLevel.KRITIS).values_list("newborn_id", flat=True))
    assert len(kritis) > 1
    told = set(Notification.objects.filter(recipient=bidan).values_list("enrollment__newborn_id", flat=True))
    assert told == kritis
    for baby in babies:
        e = Enrollment.objects.get(newborn=baby)
        assert e.registration_level == level_of(e.registration_deadline, done=False, today=later)


@pytest.mark.both_databases
def test_the_daily_job_leaves_a_voided_record_as_it_was_and_tells_nobody(district):
    from newborns.services import void_birth

    # The real date, not TODAY: recording a birth flags it for the day it is recorded, and a notice then
    # (Kritis already) would not be the daily job's.
    today = timezone.localdate()
    bidan = BidanFactory()
    born_on = today - datetime.timedelta(days=20)  # 8 days left: Mendesak, Kritis tomorrow
    kept = register(birth_date=born_on, mother_nik=mother_nik(1), attending_midwife=bidan)
    voided = register(birth_date=born_on, mother_nik=mother_nik(2), attending_midwife=bidan)
    flag_deadlines(today=today)
    void_birth(newborn=voided, by=UserFactory(role=Role.ADMIN_DINKES), reason="Tercatat dua kali")
    run = flag_deadlines(today=today + datetime.timedelta(days=1)).run
    assert run.examined == 1
    assert Enrollment.objects.get(newborn=kept).registration_level == FlagLevel.KRITIS
    assert Enrollment.objects.get(newborn=voided).registration_level == FlagLevel.MENDESAK
    assert list(Notification.objects.values_list("enrollment__newborn", flat=True)) == [kept.pk]
