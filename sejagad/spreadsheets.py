"""Spreadsheet safety both ways: uploads checked before they are opened (coverage imports, BPJS
reconciliation), exported cells that cannot run as formulas (worklist and coverage exports)."""

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


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection, OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value):
    """Text that a spreadsheet would run as a formula gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value
