"""Send what waits in the SATUSEHAT outbox now, or with --dry-run print what would be sent (NIKs masked)."""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from newborns import fhir, outbox
from newborns.models import SatusehatAction, SatusehatOutbox
from newborns.satusehat import hide_numbers, is_configured, not_configured_message


def masked(payload) -> str:
    """The payload as JSON with every 16-digit number (NIK, KK) masked: an operator's terminal is logged too."""
    return hide_numbers(json.dumps(payload, indent=2, ensure_ascii=False))


def planned_calls(row: SatusehatOutbox) -> list[tuple[str, str, object]]:
    baby = row.newborn
    ihs = baby.ihs_number or "<IHS>"
    if row.action == SatusehatAction.ADD_NIK:
        if row.merged_into:  # a merge under way: only the link is left to send
            return [("PATCH", f"Patient/{row.merged_from}", fhir.merge_patch(row.merged_into))]
        return [("PATCH", f"Patient/{ihs}", fhir.nik_patch(baby))]
    calls = [] if baby.ihs_number else [("POST", "Patient", fhir.patient(baby))]
    if not row.observation_id:
        performer = f"Organization/{settings.SATUSEHAT_ORGANIZATION_ID or '<ORG>'}"
        calls.append(("POST", "Observation", fhir.birth_weight(baby, subject=f"Patient/{ihs}", performer=performer)))
    return calls


class Command(BaseCommand):
    help = "Kirim antrean SATUSEHAT sekarang; --dry-run hanya menampilkan yang akan dikirim (NIK disamarkan)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Tampilkan saja, jangan kirim.")
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args, dry_run: bool, limit: int, **options):
        configured = is_configured()
        if not configured:
            self.stderr.write(not_configured_message())
            if not dry_run:
                raise CommandError(not_configured_message())
        ids = outbox.due_rows(limit)
        if dry_run:
            rows = SatusehatOutbox.objects.filter(pk__in=ids).select_related(
                "newborn__mother",
                "newborn__desa__parent__parent__parent",
                "newborn__facility__region__parent__parent__parent",
            )
            rows = sorted(rows, key=lambda r: ids.index(r.pk))
            for row in rows:
                self.stdout.write(f"# bayi {row.newborn_id} · {row.get_action_display()}")
                for method, path, payload in planned_calls(row):
                    self.stdout.write(f"{method} {settings.SATUSEHAT_BASE_URL.rstrip('/')}/{path}")
                    self.stdout.write(masked(payload))
            self.stdout.write(f"{len(rows)} kiriman akan dikirim (uji coba, tidak ada yang dikirim).")
            return
        results = [outbox.send(pk) for pk in ids]
        sent = sum(r.status == "sent" for r in results)
        self.stdout.write(f"{sent} terkirim, {len(results) - sent} belum (lihat halaman bayi).")
