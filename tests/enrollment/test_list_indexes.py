"""Each worklist's page is read through an index of that list's own rows, in its order: on a national table
the at-risk list's "Terlambat" babies came after 3.4 million babies of the reactivation list (12 s for the
first page), and the reactivation list's after every baby still under 3 months (3 s)."""

import itertools
import re

import pytest
from django.db import connection

from enrollment import selectors
from enrollment.models import LEVEL_PRIORITY, Enrollment, FlagLevel
from sejagad.models import User
from sejagad.roles import Role
from tests.factories import UserFactory, register

pytestmark = pytest.mark.django_db


def plan(rows) -> str:
    """The plan of a list's first page, the planner told that reading rows out of order is the last resort
    (the test's few rows would otherwise be read whole and sorted)."""
    sql, params = rows.values_list("pk", flat=True)[:26].query.sql_with_params()
    with connection.cursor() as cursor:
        for method in ("seqscan", "bitmapscan", "sort"):
            cursor.execute(f"SET LOCAL enable_{method} = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def national():
    return User(username="kemenkes", is_superuser=True, is_active=True)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.parametrize(
    ("who", "filters", "index", "bound"),
    [
        (national, {"kind": "risiko"}, "enrollment_risk_order", None),
        (national, {"kind": "risiko", "level": FlagLevel.TERLAMBAT}, "enrollment_risk_order", "priority = 3"),
        (national, {"kind": "risiko", "level": FlagLevel.PERHATIAN}, "enrollment_risk_order", "priority = 2"),
        (national, {"kind": "aktivasi"}, "enrollment_reactivation", None),
        (lambda: UserFactory(role=Role.STAF_DINKES), {"kind": "risiko"}, "enrollment_area_risk", "(kabupaten)::text ="),
        (
            lambda: UserFactory(role=Role.STAF_DINKES),
            {"kind": "risiko", "level": FlagLevel.KRITIS},
            "enrollment_area_risk",
            "priority = 0",
        ),
    ],
)
def test_each_list_page_is_read_through_its_own_index(district, who, filters, index, bound):
    shown = plan(selectors.worklist(who(), **filters))
    assert f"Index Scan using {index}" in shown, shown
    assert "Sort" not in shown, shown
    if bound:
        # A parameter bound server-side shows as a typed literal: priority = '3'::smallint.
        condition = re.sub(r"'(\d+)'::smallint", r"\1", shown.split("Index Cond:")[1].splitlines()[0])
        assert bound in condition, shown


@pytest.mark.both_databases
def test_an_at_risk_level_is_one_band_of_the_at_risk_order(district):
    """What lets a level filter read its band of the index: on every row, whatever its two levels."""
    enrollment = Enrollment.objects.get(newborn=register())
    for registration, nik in itertools.product(FlagLevel, FlagLevel):
        Enrollment.objects.filter(pk=enrollment.pk).update(registration_level=registration, nik_level=nik)
        worst, priority = Enrollment.objects.values_list("worst_level", "priority").get(pk=enrollment.pk)
        if worst in LEVEL_PRIORITY:
            assert priority == LEVEL_PRIORITY[worst], (registration, nik)
