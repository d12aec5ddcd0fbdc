import importlib
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils.translation import gettext as _

from sejagad.benchmarks import claim_database, create_database, reset_database

# Each app's benchmarks: a module with run(out, quick) that prints its own figures (sejagad.benchmarks helps).
SUITES = ["enrollment.bench", "enrollment.bench_exports", "coverage.bench", "sejagad.bench"]


class Command(BaseCommand):
    help = (
        "Benchmark jalur berat (penandaan tenggat, ekspor, impor, dasbor) pada PostgreSQL, di luar tes. Basis data "
        "dibuat bila belum ada; yang berisi data lain ditolak, karena benchmark mengosongkan tabelnya."
    )

    def add_arguments(self, parser):
        parser.add_argument("suites", nargs="*", help="Modul benchmark tertentu, mis. coverage.bench")
        parser.add_argument("--quick", action="store_true", help="Ukuran data kecil, untuk memeriksa bahwa jalan")

    def handle(self, *args, suites=None, quick=False, **options):
        modules = {}
        for name in suites or SUITES:
            try:
                modules[name] = importlib.import_module(name)
            except ModuleNotFoundError as error:
                if error.name != name:
                    raise
                raise CommandError(_("Modul benchmark %(name)s tidak ada.") % {"name": name}) from error
        prepare_database()
        self.stdout.write(f"Database: {connection.settings_dict['NAME']} · PostgreSQL {connection.pg_version}")
        for name, suite in modules.items():
            # Every suite starts from the same empty tables: no figure depends on an earlier suite or run.
            reset_database()
            started = time.perf_counter()
            self.stdout.write(self.style.MIGRATE_HEADING(f"\n== {name}"))
            suite.run(self.stdout, quick=quick)
            self.stdout.write(f"({time.perf_counter() - started:.1f} s)")


def prepare_database() -> None:
    """Any database named by DATABASE_URL: created when missing, refused when it holds someone else's data
    (before anything is written), migrated, and from then on the bench's own."""
    if connection.vendor != "postgresql":
        raise CommandError(_("Benchmark berjalan pada PostgreSQL: set DATABASE_URL (make bench melakukannya)."))
    create_database()
    claim_database("bench")
    call_command("migrate", verbosity=0)
