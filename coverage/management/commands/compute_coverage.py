from django.core.management.base import BaseCommand

from coverage import services


class Command(BaseCommand):
    help = "Hitung ulang cakupan (roll-up desa > kecamatan > kabupaten > provinsi) untuk semua atau beberapa periode."

    def add_arguments(self, parser):
        parser.add_argument("periods", nargs="*", help="Periode, mis. 2024-S2; kosong untuk semua")

    def handle(self, *args, periods=None, **options):
        run = services.compute_coverage(periods=periods or None)
        self.stdout.write(
            f"{', '.join(run.periods) or '-'}: {run.regions} wilayah, {run.written} berubah, "
            f"{run.deleted} dihapus, {run.seconds:.2f} s"
        )
