from coverage.management.commands._base import ImportCommand
from coverage.models import ImportKind


class Command(ImportCommand):
    help = (
        "Impor jumlah penduduk Dukcapil (CSV/XLSX) per desa atau kecamatan, "
        "dengan pemeriksaan yang sama seperti halaman impor."
    )
    kind = ImportKind.POPULATION
