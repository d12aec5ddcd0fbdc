"""The command-line import shared by import_population and import_participants (scheduled loads)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from coverage import services
from coverage.imports import FileRejected
from coverage.models import ImportStatus

SHOWN_ERRORS = 50


class ImportCommand(BaseCommand):
    kind: str

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="Berkas CSV atau XLSX")
        parser.add_argument("--period", default="", help="Periode bawaan bila berkas tanpa kolom periode, mis. 2024-S2")
        parser.add_argument(
            "--dry-run", action="store_true", help="Hanya periksa dan tampilkan pratinjau; tidak menyimpan"
        )

    def handle(self, *args, file: Path, period: str, dry_run: bool, **options):
        if not file.is_file():
            raise CommandError(f"Berkas tidak ditemukan: {file}")
        try:
            record = services.start_import_from_path(kind=self.kind, path=file, period=period.strip().upper())
        except (FileRejected, ValueError) as exc:
            raise CommandError(str(exc)) from None
        record = services.preview_import(import_id=record.pk)
        self.stdout.write(
            f"{record.file_name}: {record.total_rows} baris; baru {record.rows_new}, berubah {record.rows_changed}, "
            f"sama {record.rows_unchanged}, kesalahan {record.error_count}. Periode: {', '.join(record.periods) or '-'}"
        )
        if record.status != ImportStatus.PREVIEWED:
            for error in record.errors[:SHOWN_ERRORS]:
                self.stderr.write(f"baris {error['line']} {error['column']}: {error['message']}")
            if record.error_count > SHOWN_ERRORS:
                self.stderr.write(f"... dan {record.error_count - SHOWN_ERRORS} kesalahan lain.")
            raise CommandError(record.message or f"{record.error_count} kesalahan; tidak ada yang tersimpan.")
        if dry_run:
            self.stdout.write("Uji coba (--dry-run): tidak ada yang tersimpan.")
            return
        outcome = services.commit_import(import_id=record.pk, schedule_rollup=False)
        if outcome.record.status != ImportStatus.DONE:
            raise CommandError(outcome.record.message or outcome.record.get_status_display())
        run = services.compute_coverage(periods=outcome.record.periods)
        self.stdout.write(
            self.style.SUCCESS(
                f"Tersimpan {outcome.written} baris. Cakupan dihitung ulang untuk {', '.join(run.periods)}: "
                f"{run.regions} wilayah, {run.written} berubah."
            )
        )
