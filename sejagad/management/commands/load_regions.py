from django.core.management.base import BaseCommand, CommandError

from sejagad.services import load_regions


class Command(BaseCommand):
    help = (
        "Memuat wilayah Kemendagri: satu kabupaten/kota (73.22), satu provinsi (73) atau seluruh "
        "Indonesia (--all). Aman dijalankan berulang."
    )

    def add_arguments(self, parser):
        parser.add_argument("code", nargs="?", help="Kode wilayah bertitik, mis. 73.22 (Luwu Utara) atau 73")
        parser.add_argument("--all", action="store_true", help="Muat seluruh Indonesia (91.599 wilayah)")

    def handle(self, *args, code=None, all=False, **options):
        if bool(code) == all:
            raise CommandError("Berikan satu kode wilayah atau --all.")
        try:
            result = load_regions(code=code)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Wilayah {code or 'Indonesia'}: {result.created} baru, {result.updated} diperbarui, "
                f"{result.unchanged} tetap."
            )
        )
