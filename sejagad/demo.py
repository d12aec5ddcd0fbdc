"""Demo reference data for the embedded default: Luwu Utara facilities and one user per role."""

import csv
from pathlib import Path

from django.db import transaction

from sejagad.models import Facility, Region, User
from sejagad.roles import Role

DEMO_FACILITIES_FILE = Path(__file__).resolve().parent / "data" / "demo_facilities.csv"
DEMO_PASSWORD = "sejagad-demo"
DEMO_DISTRICT = "73.22"

# username, first name, last name, role, facility code (bidan, facility system) or region code
DEMO_USERS = [
    ("admin", "Andi", "Syamsuddin", Role.ADMIN_DINKES, None),
    ("dinkes", "Nurul", "Hidayah", Role.STAF_DINKES, None),
    ("bidan", "Rahmawati", "Amir", Role.BIDAN, "PKM-732203"),
    ("bpjs", "Muhammad", "Arief", Role.PETUGAS_BPJS, None),
    ("dukcapil", "Sitti", "Marwah", Role.PETUGAS_DUKCAPIL, None),
    ("dinsos", "Hasanuddin", "Latif", Role.PETUGAS_DINSOS, None),
    # The hospital's EMR sending births as FHIR bundles (POST /fhir/Bundle), scoped to its facility.
    ("sistem_rsud", "Sistem", "RSUD Andi Djemma", Role.SISTEM_FASKES, "RSUD-7322"),
]


@transaction.atomic
def seed_demo_facilities() -> int:
    """Upsert the demo facilities of Luwu Utara by code; returns how many were new."""
    with DEMO_FACILITIES_FILE.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    existing = set(Facility.objects.filter(code__in=[r["code"] for r in rows]).values_list("code", flat=True))
    for row in rows:
        Facility.objects.update_or_create(
            code=row["code"],
            defaults={
                "name": row["name"],
                "kind": row["kind"],
                "region_id": row["region_code"],
                "address": row["address"],
            },
        )
    return len(rows) - len(existing)


@transaction.atomic
def seed_demo_users() -> list[User]:
    """One user per role, password ``sejagad-demo``; an existing user keeps the password it has."""
    district = Region.objects.get(code=DEMO_DISTRICT)
    users = []
    for username, first, last, role, facility_code in DEMO_USERS:
        user, created = User.objects.update_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "role": role,
                "facility": Facility.objects.get(code=facility_code) if facility_code else None,
                "region": None if facility_code else district,
                "is_staff": role == Role.ADMIN_DINKES,
                "is_superuser": role == Role.ADMIN_DINKES,
                "email": f"{username}@sejagad.local",
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        users.append(user)
    return users
