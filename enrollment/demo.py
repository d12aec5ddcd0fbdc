"""Demo memberships for the demo births: most registered in time, most NIKs reach BPJS, a tail lapses.

The births arrive with their enrollments (``birth_changed``); this draws what BPJS did for each baby and
writes it in one statement per thousand rows, then lets the daily job flag the deadlines once."""

import datetime
import random

from django.db import connection, transaction
from django.utils import timezone

from enrollment import flagging
from enrollment.models import Enrollment, EnrollmentStatus

PBI = {"PBI-APBN", "PBI-APBD"}
FIELDS = ["segment", "status", "registered_on", "jkn_number", "nik_updated_on", "deactivated_on"]
CHUNK = 1000


def _jkn_number(rng: random.Random) -> str:
    return f"000{rng.randrange(10**9, 10**10)}"


@transaction.atomic
def seed_demo_enrollments(*, today: datetime.date | None = None, seed: int = 7322) -> int:
    """Give each demo baby a plausible membership history, then flag the deadlines. Runs once."""
    today = today or timezone.localdate()
    if Enrollment.objects.exclude(status=EnrollmentStatus.BELUM_TERDAFTAR).exists():
        return 0
    flagging.create_missing_enrollments()  # births seeded before they announced themselves
    rng = random.Random(seed)
    rows = Enrollment.objects.order_by("newborn_id").values_list(
        "id", "newborn__mother__jkn_segment", "newborn__birth_date", "newborn__nik_issued_on", "nik_deadline"
    )
    states = []
    for pk, mother_segment, birth_date, nik_issued_on, nik_deadline in rows:
        segment = mother_segment or rng.choice(["", "", "PBPU", "PBI-APBD"])
        status, registered_on, jkn_number, nik_updated_on, deactivated_on = (
            EnrollmentStatus.BELUM_TERDAFTAR,
            None,
            "",
            None,
            None,
        )
        delay = 0 if segment in PBI else int(rng.triangular(1, 40, 12))
        registered = birth_date + datetime.timedelta(days=delay)
        if segment and registered <= today and rng.random() < 0.93:
            status, registered_on, jkn_number = EnrollmentStatus.TERDAFTAR_SEMENTARA, registered, _jkn_number(rng)
        if status == EnrollmentStatus.TERDAFTAR_SEMENTARA and nik_issued_on and rng.random() < 0.9:
            updated = nik_issued_on + datetime.timedelta(days=int(rng.triangular(0, 30, 5)))
            if updated <= today:
                status, nik_updated_on = EnrollmentStatus.DIPERBARUI, updated
        if status == EnrollmentStatus.TERDAFTAR_SEMENTARA and nik_deadline < today:
            status, deactivated_on = EnrollmentStatus.NONAKTIF, nik_deadline + datetime.timedelta(days=1)
        states.append((pk, segment, str(status), registered_on, jkn_number, nik_updated_on, deactivated_on))
    for start in range(0, len(states), CHUNK):
        _write_states(states[start : start + CHUNK])
    # The demo's first day of flags: a full run, which tells nobody baby by baby (the digest says it all).
    flagging.flag_deadlines(today=today, full=True)
    return len(states)


def _write_states(states: list[tuple]) -> None:
    """One UPDATE ... FROM (VALUES ...) for a chunk of rows: what ``bulk_update`` does with a CASE per
    column and row, at a fraction of the cost. PostgreSQL and SQLite (3.33+) both read it."""
    table = connection.ops.quote_name(Enrollment._meta.db_table)
    date = "::date" if connection.vendor == "postgresql" else ""
    casts = ["", "", "", date, "", date, date]
    row = "(" + ", ".join(f"%s{cast}" for cast in casts) + ")"
    assignments = ", ".join(
        f"{connection.ops.quote_name(field)} = v.column{index}" for index, field in enumerate(FIELDS, start=2)
    )
    sql = (
        f"UPDATE {table} SET {assignments}, updated_at = %s "
        f"FROM (VALUES {', '.join([row] * len(states))}) AS v WHERE {table}.id = v.column1"
    )
    params = [value for state in states for value in state]
    with connection.cursor() as cursor:
        cursor.execute(sql, [timezone.now(), *params])
