"""Build the spreadsheets Dukcapil and BPJS send, as uploads or files on disk."""

import csv
import io

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
