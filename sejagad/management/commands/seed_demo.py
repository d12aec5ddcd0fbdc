import time
from contextlib import contextmanager

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from coverage.demo import seed_demo_coverage
from enrollment.demo import seed_demo_enrollments
from newborns.demo import seed_demo_births
from sejagad.demo import DEMO_DISTRICT, DEMO_PASSWORD, seed_demo_facilities, seed_demo_users


class Command(BaseCommand):
    help = "Mengisi data demo Luwu Utara: wilayah, fasilitas dan (pada bawaan tertanam) pengguna demo. Aman diulang."

    def add_arguments(self, parser):
        parser.add_argument("--users", action="store_true", help="Buat pengguna demo walau bukan bawaan tertanam")
        parser.add_argument(
            "--births", action="store_true", help="Isi setahun kelahiran demo walau bukan bawaan tertanam"
        )

    @contextmanager
    def step(self, what: str):
        """Say what is being done before doing it, and how long it took: a newcomer sees progress."""
        self.stdout.write(f"  {what} ...")
        self.stdout.flush()
        started = time.monotonic()
        yield
        self.stdout.write(f"    selesai ({time.monotonic() - started:.1f} dtk)")
        self.stdout.flush()

    def handle(self, *args, users=False, births=False, **options):
        started = time.monotonic()
        self.stdout.write("Mengisi data demo Luwu Utara:")
        with self.step("Wilayah Kemendagri"):
            call_command("load_regions", DEMO_DISTRICT, stdout=self.stdout)
        with self.step("Fasilitas kesehatan"):
            created = seed_demo_facilities()
            self.stdout.write(f"    Fasilitas demo: {created} baru.")
        with self.step("Penduduk dan peserta JKN per desa, 7 semester; cakupan UHC"):
            coverage = seed_demo_coverage()
            self.stdout.write(f"    Cakupan demo: {len(coverage['periods'])} semester per desa.")
        if users or settings.DEMO_USERS:
            with self.step("Pengguna demo"):
                names = ", ".join(u.username for u in seed_demo_users())
                self.stdout.write(f"    Pengguna demo (kata sandi {DEMO_PASSWORD}): {names}")
        # Synthetic personal data never lands in a production database unless asked for.
        if births or settings.DEMO_USERS:
            with self.step("Setahun kelahiran (ibu, bayi, dokumen Dukcapil)"):
                self.stdout.write(f"    Kelahiran demo: {seed_demo_births()} baru.")
            with self.step("Kepesertaan JKN dan tingkat tenggat"):
                self.stdout.write(f"    Kepesertaan JKN demo: {seed_demo_enrollments()} diisi.")
        self.stdout.write(f"Data demo siap ({time.monotonic() - started:.1f} dtk).")
