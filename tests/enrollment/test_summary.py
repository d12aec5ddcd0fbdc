"""The dashboard's summary stays what a recount from scratch would give, whatever wrote the babies."""

import datetime

import pytest
from dateutil.relativedelta import relativedelta
from django.db import connection
from django.utils import timezone

from enrollment import selectors, summary
from enrollment.flagging import flag_deadlines
from enrollment.models import (
    AT_RISK,
    BirthSummary,
    BirthSummaryMark,
    BirthSummaryState,
    Enrollment,
    EnrollmentStatus,
)
from enrollment.services import update_enrollment
from newborns.models import Newborn
from newborns.services import correct_birth, record_documents, restore_birth, void_birth
from sejagad.models import Region
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory, mother_nik, nik_for, register

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_databases]
TODAY = timezone.localdate
FIELDS = ("kabupaten", "desa", "month", *summary.COUNTS)


def born(days_ago, serial, desa="73.22.03.2004", **kw):
    return register(
        birth_date=TODAY() - datetime.timedelta(days=days_ago),
        mother_nik=mother_nik(serial),
        desa=Region.objects.get(code=desa),
        **kw,
    )


def rows() -> list[dict]:
    return list(BirthSummary.objects.order_by("kabupaten", "desa", "month").values(*FIELDS))


def assert_as_recounted(today=None) -> list[dict]:
    """Refresh as a dashboard would, then compare with the summary built from nothing on the same day."""
    summary.refresh(today)
    kept = rows()
    for model in (BirthSummary, BirthSummaryMark, BirthSummaryState):
        model.objects.all().delete()
    summary.refresh(today)
    assert kept == rows()
    return kept


def totals(user, region_code="73.22", today=None):
    today = today or TODAY()
    summary.current_version(today)
    counts = summary.dashboard_counts(
        user,
        region=Region.objects.get(code=region_code),
        months_from=today - relativedelta(months=11),
        born_to=today,
    )
    return counts["totals"]


@pytest.fixture
def staf(district):
    return UserFactory(role=Role.STAF_DINKES)


def test_every_write_path_keeps_the_summary_as_a_recount_would(staf):
    bpjs, dukcapil = UserFactory(role=Role.PETUGAS_BPJS), UserFactory(role=Role.PETUGAS_DUKCAPIL)
    assert_as_recounted()  # built once, empty
    a = born(40, 1)
    b = born(20, 2, desa="73.22.11.2002")
    c = born(100, 3, desa="73.22.01.2001")
    assert totals(staf)["births"] == 3
    assert_as_recounted()

    update_enrollment(
        enrollment=a.enrollment,
        by=bpjs,
        status=EnrollmentStatus.TERDAFTAR_SEMENTARA,
        registered_on=a.birth_date,
        jkn_number="0001234567890",
    )
    assert totals(staf)["registered"] == 1
    record_documents(
        newborn=b, by=dukcapil, nik=nik_for(b.birth_date, female=True, serial=2), nik_issued_on=TODAY(), confirmed=True
    )
    assert totals(staf)["with_nik"] == 1
    assert_as_recounted()

    # A birth moved to another desa leaves the first and counts in the second.
    correct_birth(
        newborn=c,
        by=UserFactory(role=Role.ADMIN_DINKES),
        desa=Region.objects.get(code="73.22.03.2005"),
        reason="Salah desa",
    )
    assert totals(staf, "73.22.01")["births"] == 0
    assert totals(staf, "73.22.03")["births"] == 2
    assert_as_recounted()

    void_birth(newborn=a, by=UserFactory(role=Role.ADMIN_DINKES), reason="Tercatat dua kali")
    assert totals(staf)["births"] == 2
    restore_birth(newborn=a, by=UserFactory(role=Role.ADMIN_DINKES), reason="Ternyata benar")
    assert totals(staf)["births"] == 3

    # Writes no service made: a bulk UPDATE and raw SQL are marked by the database itself.
    Enrollment.objects.filter(newborn=c).update(status=EnrollmentStatus.NONAKTIF, deactivated_on=TODAY())
    assert totals(staf)["deactivated_this_month"] == 1
    with connection.cursor() as cursor:
        cursor.execute("UPDATE newborns_newborn SET kk_added_on = %s WHERE id = %s", [TODAY(), b.pk])
    assert totals(staf)["in_kk"] == 1
    flag_deadlines()
    assert_as_recounted()


def test_the_kabupaten_rows_add_up_their_desa_rows(staf):
    for i, desa in enumerate(["73.22.03.2004", "73.22.03.2005", "73.22.11.2002"], start=1):
        born(i * 15, i, desa=desa)
    summary.refresh()
    desa_rows = BirthSummary.objects.exclude(desa="")
    kabupaten_rows = BirthSummary.objects.filter(desa="")
    assert sum(desa_rows.values_list("births", flat=True)) == 3
    assert sum(kabupaten_rows.values_list("births", flat=True)) == 3
    assert set(kabupaten_rows.values_list("kabupaten", flat=True)) == {"73.22"}
    # The province (for an officer above the kabupaten) reads the kabupaten rows: the same figures.
    province = UserFactory(role=Role.STAF_DINKES, region=None)
    assert totals(province, "73") == totals(province, "73.22") == totals(staf, "73.22")
    assert totals(province, "73")["births"] == 3


def test_deadline_figures_move_with_the_calendar_without_any_write(staf):
    today = TODAY()
    baby = born(27, 1)  # the 28-day registration deadline is tomorrow
    summary.refresh(today)
    assert totals(staf, today=today)["registration_due"] == 0
    tomorrow = today + datetime.timedelta(days=2)
    assert baby.enrollment.registration_deadline < tomorrow
    assert totals(staf, today=tomorrow)["registration_due"] == 1
    assert_as_recounted(tomorrow)


def test_last_months_deactivations_leave_this_months_figure_on_a_new_month(staf):
    old = born(200, 1)  # outside the months recounted every day
    today = TODAY()
    Enrollment.objects.filter(newborn=old).update(status=EnrollmentStatus.NONAKTIF, deactivated_on=today)
    assert totals(staf, today=today)["deactivated_this_month"] == 1
    next_month = today.replace(day=1) + relativedelta(months=1)
    assert totals(staf, today=next_month)["deactivated_this_month"] == 0
    assert_as_recounted(next_month)


def test_a_write_marked_while_a_refresh_runs_is_recounted_by_the_next_one(staf):
    """Marks are claimed before the recount and only claimed marks are removed: a mark written after the
    claim (by another transaction, here simply later) survives for the next refresh."""
    born(10, 1)
    first = summary.refresh()
    assert not BirthSummaryMark.objects.exists()
    assert summary.current_version(TODAY()) == first  # nothing written: the same version, nothing recounted
    born(12, 2, desa="73.22.11.2002")
    assert BirthSummaryMark.objects.filter(desa="73.22.11.2002").exists()
    second = summary.current_version(TODAY())
    assert second != first
    assert not BirthSummaryMark.objects.exists()
    assert totals(staf)["births"] == 2
    assert summary.current_version(TODAY()) == second


@pytest.mark.parametrize("who", ["bidan", "other_kecamatan"])
def test_no_rows_for_a_user_whose_scope_the_summary_cannot_tell(district, who):
    born(10, 1)
    user = {
        "bidan": lambda: BidanFactory(),
        "other_kecamatan": lambda: UserFactory(role=Role.STAF_DINKES, region=Region.objects.get(code="73.22.11")),
    }[who]()
    summary.refresh()
    assert not summary.rows_in(user, "73.22.03").exists()
    assert summary.worklist_counts(user, {"kind": "risiko"}, TODAY()) is None or who != "bidan"
    assert Newborn.objects.count() == 1


@pytest.mark.parametrize(
    "area",
    [{}, {"region": "73.22.03"}, {"kecamatan": "73.22.03", "desa": "73.22.03.2004"}, {"desa": "73.22.11.2002"}],
)
def test_worklist_badges_from_the_summary_equal_the_lists(staf, area):
    """Every list and level the summary counts for a worklist page equals the list's own count."""
    bpjs, dukcapil = UserFactory(role=Role.PETUGAS_BPJS), UserFactory(role=Role.PETUGAS_DUKCAPIL)
    for i, days in enumerate((3, 20, 26, 40, 85, 100, 200), start=1):
        desa = ("73.22.03.2004", "73.22.11.2002", "73.22.03.1001")[i % 3]
        baby = born(days, i, desa=desa)
        if i % 2:
            record_documents(
                newborn=baby,
                by=dukcapil,
                nik=nik_for(baby.birth_date, female=True, serial=i),
                nik_issued_on=TODAY(),
                confirmed=True,
            )
        if i % 3 == 0:
            update_enrollment(
                enrollment=baby.enrollment,
                by=bpjs,
                status=EnrollmentStatus.TERDAFTAR_SEMENTARA,
                registered_on=baby.birth_date,
                jkn_number=f"00012345678{i:02d}",
            )
    flag_deadlines()
    filters = {key: Region.objects.get(code=code) for key, code in area.items()}
    filters |= {"born_from": (TODAY() - relativedelta(months=5)).replace(day=1), "born_to": TODAY()}
    lists = {kind: selectors.worklist(staf, kind=kind, **filters).count() for kind in selectors.WORKLISTS}
    for kind in selectors.WORKLISTS:  # each list's tabs and its level badges
        counted = summary.worklist_counts(staf, {"kind": kind, **filters}, TODAY())
        assert counted["lists"] == lists
        assert counted["levels"] == {
            level: selectors.worklist(staf, kind=kind, level=level, **filters).count() for level in AT_RISK
        }, kind
    assert sum(lists.values()) > 0
    # A filter the summary cannot answer leaves the counting to the list.
    assert summary.worklist_counts(staf, {"kind": "risiko", "segment": "PBPU", **filters}, TODAY()) is None
    assert summary.worklist_counts(staf, {"kind": "risiko", "born_from": TODAY().replace(day=2)}, TODAY()) is None
