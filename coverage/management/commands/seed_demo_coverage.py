from django.core.management.base import BaseCommand

from coverage.demo import seed_demo_coverage


class Command(BaseCommand):
    help = "Mengisi data demo penduduk dan peserta JKN Luwu Utara per desa (2021-S2 s.d. 2024-S2). Aman diulang."

    def handle(self, *args, **options):
        result = seed_demo_coverage()
        self.stdout.write(
            f"Cakupan demo: {result['population']} baris penduduk, {result['participants']} baris peserta ditulis; "
            f"{', '.join(result['periods']) or 'wilayah Luwu Utara belum dimuat'}."
        )
