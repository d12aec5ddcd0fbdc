"""Checks every uploaded spreadsheet gets before it is opened (coverage imports, BPJS reconciliation)."""

import zipfile

from django.utils.translation import gettext as _


class UploadRejected(Exception):
    """The file as a whole is refused; the message says why, in Indonesian."""


def check_xlsx_unpacked_size(fileobj, *, limit: int) -> None:
    """An XLSX is a zip archive: a small file can unpack to gigabytes (a zip bomb). Reads only the index."""
    try:
        with zipfile.ZipFile(fileobj) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise UploadRejected(_("Berkas XLSX ini rusak atau bukan XLSX.")) from None
    if unpacked > limit:
        raise UploadRejected(
            _("Isi berkas XLSX terlalu besar setelah dibuka (%(size)s MB); batasnya %(limit)s MB.")
            % {"size": unpacked // 1024 // 1024, "limit": limit // 1024 // 1024}
        )
