import importlib
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

# Each app's benchmarks: a module with run(out, quick) that prints its own figures.
SUITES = ["enrollment.bench", "coverage.bench", "sejagad.bench"]


class Command(BaseCommand):
    help = "Benchmark jalur berat (impor, roll-up, penandaan tenggat, ekspor) pada PostgreSQL. Bukan bagian tes."

    def add_arguments(self, parser):
        parser.add_argument("suites", nargs="*", help="Modul benchmark tertentu, mis. coverage.bench")
        parser.add_argument("--quick", action="store_true", help="Ukuran data kecil, untuk memeriksa bahwa jalan")

    def handle(self, *args, suites=None, quick=False, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Benchmark berjalan pada PostgreSQL: set DATABASE_URL (make bench melakukannya).")
        self._create_database()
        call_command("migrate", verbosity=0)
        self.stdout.write(f"Database: {settings.DATABASES['default']['NAME']} · PostgreSQL {connection.pg_version}")
        for name in suites or SUITES:
            started = time.perf_counter()
            self.stdout.write(self.style.MIGRATE_HEADING(f"\n== {name}"))
            importlib.import_module(name).run(self.stdout, quick=quick)
            self.stdout.write(f"({time.perf_counter() - started:.1f} s)")

    def _create_database(self):
        """The bench database is created on first use, through the server's maintenance database."""
        name = connection.settings_dict["NAME"]
        with connection._nodb_cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{name}"')
