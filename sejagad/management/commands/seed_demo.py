from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from sejagad.demo import DEMO_DISTRICT, DEMO_PASSWORD, seed_demo_facilities, seed_demo_users


class Command(BaseCommand):
    help = "Mengisi data demo Luwu Utara: wilayah, fasilitas dan (pada bawaan tertanam) pengguna demo. Aman diulang."

    def add_arguments(self, parser):
        parser.add_argument("--users", action="store_true", help="Buat pengguna demo walau bukan bawaan tertanam")

    def handle(self, *args, users=False, **options):
        call_command("load_regions", DEMO_DISTRICT, stdout=self.stdout)
        created = seed_demo_facilities()
        self.stdout.write(f"Fasilitas demo: {created} baru.")
        if users or settings.DEMO_USERS:
            names = ", ".join(u.username for u in seed_demo_users())
            self.stdout.write(f"Pengguna demo (kata sandi {DEMO_PASSWORD}): {names}")
