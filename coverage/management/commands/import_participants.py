from coverage.management.commands._base import ImportCommand
from coverage.models import ImportKind


class Command(ImportCommand):
    help = (
        "Impor jumlah peserta JKN BPJS (CSV/XLSX) per wilayah dan segmen, "
        "dengan pemeriksaan yang sama seperti halaman impor."
    )
    kind = ImportKind.PARTICIPANTS
