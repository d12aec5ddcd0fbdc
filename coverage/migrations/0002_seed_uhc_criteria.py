from decimal import Decimal

from django.db import migrations

# DOMAIN.md, "Universal Health Coverage": (years, rank, name, coverage %, active % or None, source)
CRITERIA = [
    (range(2018, 2023), 1, "UHC", "95", None, "Target nasional, UHC Award"),
    (range(2023, 2025), 1, "UHC", "95", "75", "UHC Award 2023, 2024"),
    (range(2025, 2026), 1, "UHC Prioritas", "98", "80", "BPJS / Kemendagri"),
    (range(2026, 2027), 1, "Pratama", "98", "80", "UHC Awards 2026"),
    (range(2026, 2027), 2, "Madya", "98", "85", "UHC Awards 2026"),
    (range(2026, 2027), 3, "Utama", "99", "95", "UHC Awards 2026"),
]


def seed(apps, schema_editor):
    UhcCriterion = apps.get_model("coverage", "UhcCriterion")
    for years, rank, name, coverage, active, source in CRITERIA:
        for year in years:
            UhcCriterion.objects.update_or_create(
                year=year,
                rank=rank,
                defaults={
                    "name": name,
                    "coverage_threshold": Decimal(coverage),
                    "active_threshold": Decimal(active) if active else None,
                    "source": source,
                },
            )


def unseed(apps, schema_editor):
    apps.get_model("coverage", "UhcCriterion").objects.filter(year__gte=2018, year__lte=2026).delete()


class Migration(migrations.Migration):
    dependencies = [("coverage", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
