"""``make bench`` runs on any database the user names, but never empties one holding someone else's data."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from enrollment import flagging
from enrollment.models import Enrollment
from newborns.models import Newborn
from sejagad.benchmarks import claim_database, generate_newborns, report_goal, report_ratio, reset_database
from sejagad.demo import DEMO_DISTRICT
from sejagad.models import Region, User
from sejagad.services import load_regions
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
SUITE = __name__  # this module is a benchmark suite too: a tiny one, so a broken refusal costs no time


def run(out, quick: bool = False) -> None:
    out.write(f"suite ran, {User.objects.count()} user(s) left")


@pytest.fixture
def regions(luwu_utara_rows):
    """Only the Kemendagri regions, reference data as after ``load_regions``: the database is still empty."""
    load_regions(code=DEMO_DISTRICT, rows=luwu_utara_rows)


def test_bench_refuses_a_database_with_data_that_is_not_its_own(regions):
    UserFactory(username="petugas-sungguhan")
    with pytest.raises(CommandError, match=r"sudah berisi data \(sejagad_user.*bukan milik bench"):
        call_command("bench", SUITE, stdout=io.StringIO())
    assert User.objects.filter(username="petugas-sungguhan").exists(), "nothing may be emptied before refusing"


def test_bench_runs_its_suites_on_an_empty_database_from_empty_tables(regions):
    out = io.StringIO()
    call_command("bench", SUITE, stdout=out)
    UserFactory(username="ditinggalkan-run-sebelumnya")
    call_command("bench", SUITE, stdout=out)  # the second run: its own database, emptied before the suite
    assert out.getvalue().count("suite ran, 0 user(s) left") == 2


def test_bench_takes_an_empty_database_and_then_treats_it_as_its_own(regions):
    claim_database("bench")
    UserFactory(username="ditinggalkan-run-sebelumnya")
    claim_database("bench")  # what an earlier run left is the bench's own: no refusal
    with pytest.raises(CommandError, match="bukan milik loadtest"):
        claim_database("loadtest")


def test_bench_reset_empties_users_left_over_but_keeps_the_regions(regions):
    claim_database("bench")
    UserFactory(username="ditinggalkan-run-sebelumnya")
    reset_database()
    assert not User.objects.exists()
    assert Region.objects.filter(code="73.22").exists()


def test_unknown_suite_is_named_before_the_database_is_touched(regions):
    UserFactory(username="petugas-sungguhan")
    with pytest.raises(CommandError, match="Modul benchmark sejagad.tidak_ada tidak ada"):
        call_command("bench", "sejagad.tidak_ada", stdout=io.StringIO())


def test_figures_print_beside_their_comparison_with_the_ratio_and_the_goal():
    out = io.StringIO()
    report_ratio(out, "next day", 3.41, against="indexed UPDATE floor", against_value=2.9, goal=1.5)
    report_ratio(
        out,
        "CSV export",
        150_000,
        against="COPY",
        against_value=261_000,
        goal=0.75,
        unit="rows/s",
        higher_is_better=True,
    )
    report_goal(out, "re-run", 0.04, goal=0.2)
    assert out.getvalue().splitlines() == [
        "next day: 3.41 s | comparison (indexed UPDATE floor): 2.90 s | ratio 1.18x (goal <= 1.5x) OK",
        "CSV export: 150,000 rows/s | comparison (COPY): 261,000 rows/s | ratio 0.57x (goal >= 0.75x) MISSED",
        "re-run: 0.04 s (goal <= 0.20 s) OK",
    ]


def test_the_generator_fills_the_tables_that_the_lists_read(regions):
    """``make bench`` and the national load test fill their tables with it: every column a later migration
    adds, generated ones included, must still take its value."""
    generate_newborns(40)
    flagging.create_missing_enrollments()
    assert Newborn.objects.filter(kabupaten=DEMO_DISTRICT).count() == 40
    assert Enrollment.objects.filter(kabupaten=DEMO_DISTRICT, live=True, birth_date__isnull=False).count() == 40
