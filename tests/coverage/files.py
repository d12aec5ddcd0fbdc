"""Build the spreadsheets Dukcapil and BPJS send, as uploads or files on disk."""

import csv
import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

POPULATION_HEADER = ["kode_wilayah", "nama_wilayah", "periode", "jumlah_penduduk", "laki_laki", "perempuan"]
PARTICIPANT_HEADER = ["kode_wilayah", "periode", "segmen", "jumlah_peserta", "peserta_aktif"]


def csv_text(header, rows, sep=",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def csv_upload(header, rows, name="data.csv", sep=",") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, csv_text(header, rows, sep).encode(), content_type="text/csv")


def xlsx_bytes(header, rows) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xlsx_upload(header, rows, name="data.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name,
        xlsx_bytes(header, rows),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def bytes_upload(content: bytes, name="data.csv") -> SimpleUploadedFile:
    """A file exactly as given: another encoding, stray bytes, a broken workbook."""
    return SimpleUploadedFile(name, content)


def csv_upload_in(encoding: str, header, rows, name="data.csv") -> SimpleUploadedFile:
    """A CSV written as Excel or another tool would in ``encoding`` ("utf-16" writes its byte order mark)."""
    return bytes_upload(csv_text(header, rows).encode(encoding), name)


def zip_without_a_workbook(name="data.xlsx") -> SimpleUploadedFile:
    """A zip archive named .xlsx that holds no workbook: passes the size check, fails when read."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("catatan.txt", "bukan lembar kerja")
    return bytes_upload(out.getvalue(), name)


def xlsx_upload_patched(header, rows, old: bytes, new: bytes, name="data.xlsx") -> SimpleUploadedFile:
    """An XLSX whose sheet XML had ``old`` replaced by ``new``, as a broken tool might write it."""
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes(header, rows)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for item in source.infolist():
            data = source.read(item.filename)
            archive.writestr(item, data.replace(old, new) if item.filename.startswith("xl/worksheets/") else data)
    return bytes_upload(out.getvalue(), name)
