"""Demo memberships for the demo births: most registered in time, most NIKs reach BPJS, a tail lapses."""

import datetime
import random

from django.db import transaction
from django.utils import timezone

from enrollment import flagging
from enrollment.models import Enrollment, EnrollmentStatus

PBI = {"PBI-APBN", "PBI-APBD"}


def _jkn_number(rng: random.Random) -> str:
    return f"000{rng.randrange(10**9, 10**10)}"


@transaction.atomic
def seed_demo_enrollments(*, today: datetime.date | None = None, seed: int = 7322) -> int:
    """Give each demo baby a plausible membership history, then flag the deadlines. Runs once."""
    today = today or timezone.localdate()
    if Enrollment.objects.exclude(status=EnrollmentStatus.BELUM_TERDAFTAR).exists():
        return 0
    flagging.create_missing_enrollments()
    rng = random.Random(seed)
    rows = list(Enrollment.objects.select_related("newborn__mother").order_by("newborn_id"))
    for e in rows:
        baby = e.newborn
        e.segment = baby.mother.jkn_segment or rng.choice(["", "", "PBPU", "PBI-APBD"])
        delay = 0 if e.segment in PBI else int(rng.triangular(1, 40, 12))
        registered_on = baby.birth_date + datetime.timedelta(days=delay)
        if e.segment and registered_on <= today and rng.random() < 0.93:
            e.status, e.registered_on, e.jkn_number = (
                EnrollmentStatus.TERDAFTAR_SEMENTARA,
                registered_on,
                _jkn_number(rng),
            )
        if e.status == EnrollmentStatus.TERDAFTAR_SEMENTARA and baby.nik_issued_on and rng.random() < 0.9:
            updated = baby.nik_issued_on + datetime.timedelta(days=int(rng.triangular(0, 30, 5)))
            if updated <= today:
                e.status, e.nik_updated_on = EnrollmentStatus.DIPERBARUI, updated
        if e.status == EnrollmentStatus.TERDAFTAR_SEMENTARA and e.nik_deadline < today:
            e.status, e.deactivated_on = EnrollmentStatus.NONAKTIF, e.nik_deadline + datetime.timedelta(days=1)
    Enrollment.objects.bulk_update(
        rows, ["segment", "status", "registered_on", "jkn_number", "nik_updated_on", "deactivated_on"], batch_size=1000
    )
    flagging.flag_deadlines(today=today)
    return len(rows)
