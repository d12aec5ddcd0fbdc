"""Reconciliation with BPJS's membership list: read the file, match each row to a baby, preview, commit.

The liaison uploads BPJS's list (CSV or XLSX). Each row is matched to an enrollment in the uploader's
scope (JKN number, else the baby's NIK, else the "By. Ny." name and birth date) and classified before
anything changes; the commit then applies every change through ``services.update_enrollment`` in one
transaction, or none of them.
"""

import datetime
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from enrollment import services
from enrollment.models import (
    NIK_UPDATED,
    REGISTERED,
    Enrollment,
    EnrollmentStatus,
    Reconciliation,
    ReconciliationStatus,
)
from newborns.naming import normalize_name
from sejagad import spreadsheets
from sejagad.text import ascii_digits, cap, clean_number, control_character, is_ascii_number, shown, shown_list

DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_XLSX_UNPACKED_BYTES = 50 * 1024 * 1024
MAX_SHOWN_ERRORS = 50
MAX_HEADER_NAME_CHARS = spreadsheets.MAX_HEADER_NAME_CHARS
LOOKUP_BATCH = 2000  # SQLite refuses statements with too many parameters
COLUMNS = ("nomor_kartu", "nik", "nama", "tanggal_lahir", "status", "tanggal_update")
DATE_FORMATS = ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y")
BPJS_AKTIF, BPJS_NONAKTIF = "AKTIF", "NONAKTIF"
TRACKED = ("status", "jkn_number", "registered_on", "nik_updated_on", "deactivated_on")
DATE_FIELDS = ("registered_on", "nik_updated_on", "deactivated_on")


class RowClass(models.TextChoices):
    COCOK = "cocok", gettext_lazy("Cocok")
    BERUBAH = "berubah", gettext_lazy("Akan berubah")
    TIDAK_COCOK = "tidak_cocok", gettext_lazy("Tidak cocok")
    KONFLIK = "konflik", gettext_lazy("Konflik")


# The one refusal of every upload (coverage imports too): ``message``, and ``errors`` when rows are bad.
FileRejected = spreadsheets.UploadRejected


@dataclass(frozen=True)
class BpjsRow:
    line: int
    jkn_number: str
    nik: str
    name: str
    birth_date: datetime.date | None
    status: str
    updated_on: datetime.date
    original: list[str]


# --- Reading the file ---------------------------------------------------------------------------


def limits() -> spreadsheets.Limits:
    return spreadsheets.Limits(
        max_bytes=getattr(settings, "RECONCILIATION_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES),
        max_unpacked_bytes=getattr(settings, "RECONCILIATION_MAX_XLSX_UNPACKED_BYTES", DEFAULT_MAX_XLSX_UNPACKED_BYTES),
    )


def read_rows(upload) -> tuple[list[str], list[BpjsRow]]:
    """The file's header as written and its rows, checked; any invalid row rejects the whole file."""
    frame = spreadsheets.read_upload(upload, limits=limits(), check_header=_columns)
    # The header is stored with the preview and written back in the unmatched rows' export.
    header = list(frame.columns)
    by_name = _columns(header)
    rows, errors = [], []
    today = timezone.localdate()
    for line, values in zip(frame.index.tolist(), frame.to_numpy(dtype=object).tolist(), strict=True):
        row, row_errors = _parse_row(line, values, by_name, today)
        if row_errors:
            errors.extend(row_errors)
        else:
            rows.append(row)
    if errors:
        raise FileRejected(
            _("Berkas ditolak: %(n)s kesalahan. Perbaiki baris berikut lalu unggah ulang; tidak ada data yang diubah.")
            % {"n": len(errors)},
            errors[:MAX_SHOWN_ERRORS],
            len(errors),
        )
    if not rows:
        raise FileRejected(_("Berkas tidak berisi baris data."))
    return header, rows


def _columns(header: list[str]) -> dict[str, int]:
    if char := control_character("".join(header)):
        raise FileRejected(
            _("Baris 1 (judul kolom): berisi karakter tidak sah (%(char)s). Periksa berkasnya.") % {"char": char}
        )
    return spreadsheets.find_columns(header, {c: (c,) for c in COLUMNS}, required=COLUMNS)


def _parse_date(text: str) -> datetime.date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(text, fmt).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    return None


def _parse_row(line: int, values: list, by_name: dict[str, int], today: datetime.date):
    errors = []

    def error(message: str) -> None:
        errors.append(cap(_("Baris %(line)s: %(message)s") % {"line": line, "message": message}))

    # Every cell is kept with the preview (and PostgreSQL refuses NUL), not only the six we read.
    if char := next(filter(None, (control_character(str(v)) for v in values)), ""):
        error(_("sel berisi karakter tidak sah (%(char)s).") % {"char": char})
        return None, errors
    cell = {column: str(values[by_name[column]] or "").strip() for column in COLUMNS}
    jkn = clean_number(cell["nomor_kartu"])
    if jkn and (not is_ascii_number(jkn) or len(jkn) > 13):
        error(_('nomor_kartu "%(value)s" harus 13 digit angka.') % {"value": shown(cell["nomor_kartu"])})
    elif jkn:
        # Excel drops the leading zeros of a number cell.
        jkn = jkn.zfill(13)
    nik = clean_number(cell["nik"])
    if nik and (not is_ascii_number(nik) or len(nik) != 16):
        error(_('nik "%(value)s" harus 16 digit angka.') % {"value": shown(cell["nik"])})
    status = cell["status"].upper().replace(" ", "").replace("-", "")
    if status not in (BPJS_AKTIF, BPJS_NONAKTIF):
        error(_('status "%(value)s" tidak dikenal; gunakan AKTIF atau NONAKTIF.') % {"value": shown(cell["status"])})
    dates = {}
    for column, required in (("tanggal_lahir", False), ("tanggal_update", True)):
        text = cell[column]
        if not text:
            if required:
                error(_("%(column)s wajib diisi.") % {"column": column})
            dates[column] = None
            continue
        dates[column] = _parse_date(ascii_digits(text))
        if dates[column] is None:
            error(
                _('%(column)s "%(value)s" bukan tanggal (gunakan YYYY-MM-DD, DD-MM-YYYY atau DD/MM/YYYY).')
                % {"column": column, "value": shown(text)}
            )
        elif dates[column] > today:
            error(_("%(column)s %(value)s ada di masa depan.") % {"column": column, "value": shown(text)})
    if not (jkn or nik or (cell["nama"] and cell["tanggal_lahir"])):
        error(_("isi nomor_kartu, nik, atau nama dan tanggal_lahir agar bayi dapat dicocokkan."))
    if errors:
        return None, errors
    original = [str(v) for v in values]
    row = BpjsRow(line, jkn, nik, cell["nama"], dates["tanggal_lahir"], status, dates["tanggal_update"], original)
    return row, []


# --- Matching -----------------------------------------------------------------------------------


def name_key(text: str) -> str:
    """``By. Ny. Siti Aminah``, ``BY NY SITI AMINAH`` and ``Siti Aminah`` all give ``SITI AMINAH``."""
    words = re.sub(r"[.,]", " ", text or "").upper().split()
    if words[:1] in (["BY"], ["BAYI"]):
        words = words[1:]
    return normalize_name(" ".join(words))


CANDIDATE_FIELDS = (
    "id",
    "jkn_number",
    "status",
    "registered_on",
    "nik_updated_on",
    "deactivated_on",
    "newborn_id",
    "newborn__nik",
    "newborn__birth_date",
    "newborn__temporary_name",
    "newborn__given_name",
    "newborn__mother__name",
)


def _candidates(scope, lookup: str, values: Iterable) -> list[dict]:
    values = sorted(set(values))
    found = []
    for start in range(0, len(values), LOOKUP_BATCH):
        found.extend(scope.filter(**{f"{lookup}__in": values[start : start + LOOKUP_BATCH]}).values(*CANDIDATE_FIELDS))
    return found


class Conflict(Exception):
    pass


def match_rows(rows: list[BpjsRow], user) -> list[dict]:
    """Each row matched to at most one enrollment in the user's scope and classified, in three queries."""
    scope = Enrollment.objects.in_scope_of(user).order_by()
    by_jkn: dict[str, list[dict]] = defaultdict(list)
    for candidate in _candidates(scope, "jkn_number", (r.jkn_number for r in rows if r.jkn_number)):
        by_jkn[candidate["jkn_number"]].append(candidate)
    by_nik = {c["newborn__nik"]: c for c in _candidates(scope, "newborn__nik", (r.nik for r in rows if r.nik))}
    by_name: dict[tuple, dict[int, dict]] = defaultdict(dict)
    by_name_dates = {
        r.birth_date for r in rows if r.birth_date and not by_jkn.get(r.jkn_number) and r.nik not in by_nik
    }
    for candidate in _candidates(scope, "newborn__birth_date", by_name_dates):
        born = candidate["newborn__birth_date"]
        for text in (
            candidate["newborn__temporary_name"],
            candidate["newborn__mother__name"],
            candidate["newborn__given_name"],
        ):
            if text:
                by_name[(name_key(text), born)][candidate["id"]] = candidate

    claimed: dict[int, int] = {}
    result = []
    for row in rows:
        entry = {
            "line": row.line,
            "original": row.original,
            "nomor_kartu": row.jkn_number,
            "nik": row.nik,
            "nama": row.name,
            "tanggal_lahir": _iso(row.birth_date),
            "status": row.status,
            "tanggal_update": _iso(row.updated_on),
            "enrollment": None,
            "newborn": None,
            "baby": "",
            "matched_by": "",
            "changes": {},
            "before": {},
            "summary": [],
            "reason": "",
        }
        result.append(entry)
        if row.jkn_number and by_jkn.get(row.jkn_number):
            found, entry["matched_by"] = by_jkn[row.jkn_number], "nomor_kartu"
        elif row.nik in by_nik:
            found, entry["matched_by"] = [by_nik[row.nik]], "nik"
        elif row.name and row.birth_date:
            found, entry["matched_by"] = list(by_name.get((name_key(row.name), row.birth_date), {}).values()), "nama"
        else:
            found = []
        if not found:
            entry["kind"], entry["matched_by"] = RowClass.TIDAK_COCOK, ""
            continue
        if len(found) > 1:
            entry["kind"] = RowClass.KONFLIK
            entry["reason"] = _("Cocok dengan %(n)s bayi: %(names)s.") % {
                "n": len(found),
                "names": shown_list(c["newborn__temporary_name"] for c in found),
            }
            continue
        candidate = found[0]
        entry.update(
            enrollment=candidate["id"], newborn=candidate["newborn_id"], baby=candidate["newborn__temporary_name"]
        )
        try:
            _check_identity(row, candidate, by_nik)
            if candidate["id"] in claimed:
                raise Conflict(
                    _("Bayi yang sama sudah cocok dengan baris %(line)s.") % {"line": claimed[candidate["id"]]}
                )
            claimed[candidate["id"]] = row.line
            changes = proposed_changes(row, candidate)
        except Conflict as exc:
            entry["kind"], entry["reason"] = RowClass.KONFLIK, str(exc)
            continue
        entry["kind"] = RowClass.BERUBAH if changes else RowClass.COCOK
        if changes:
            entry["changes"] = {k: _iso(v) if k in DATE_FIELDS else v for k, v in changes.items()}
            entry["before"] = {k: _iso(candidate[k]) if k in DATE_FIELDS else candidate[k] for k in TRACKED}
            entry["summary"] = _summary(candidate, changes)
    return result


def _check_identity(row: BpjsRow, candidate: dict, by_nik: dict) -> None:
    """The file and our record must describe the same baby, or nothing is changed for this row."""
    ours_nik = candidate["newborn__nik"]
    if row.nik and ours_nik and row.nik != ours_nik:
        raise Conflict(_("NIK di berkas berbeda dengan NIK bayi di SEJAGAD."))
    if row.nik and row.nik in by_nik and by_nik[row.nik]["id"] != candidate["id"]:
        raise Conflict(
            _("NIK di berkas milik bayi lain (%(name)s).") % {"name": by_nik[row.nik]["newborn__temporary_name"]}
        )
    if row.birth_date and row.birth_date != candidate["newborn__birth_date"]:
        raise Conflict(
            _("Tanggal lahir berbeda: berkas %(file)s, SEJAGAD %(ours)s.")
            % {"file": _iso(row.birth_date), "ours": _iso(candidate["newborn__birth_date"])}
        )
    # The card number is matched first, so a card of another baby in scope shows up as a NIK of another baby.
    if row.jkn_number and candidate["jkn_number"] and candidate["jkn_number"] != row.jkn_number:
        raise Conflict(
            _("Nomor kartu berbeda: berkas %(file)s, SEJAGAD %(ours)s.")
            % {"file": row.jkn_number, "ours": candidate["jkn_number"]}
        )


def proposed_changes(row: BpjsRow, candidate: dict) -> dict:
    """What BPJS's row says about our enrollment: a NIK update, a reactivation, a deactivation, a number."""
    status, changes = candidate["status"], {}
    if row.jkn_number and not candidate["jkn_number"]:
        changes["jkn_number"] = row.jkn_number
    if row.status == BPJS_NONAKTIF:
        if status != EnrollmentStatus.NONAKTIF:
            latest = candidate["nik_updated_on"] if status in NIK_UPDATED else None
            if latest and row.updated_on < latest:
                raise Conflict(_older(row.updated_on, latest))
            changes.update(status=EnrollmentStatus.NONAKTIF, deactivated_on=row.updated_on)
    elif row.nik:
        if not candidate["newborn__nik"]:
            raise Conflict(
                _("BPJS mencatat NIK, tetapi NIK bayi ini belum tercatat di SEJAGAD (catat dulu dari Dukcapil).")
            )
        if status == EnrollmentStatus.NONAKTIF:
            if candidate["deactivated_on"] and row.updated_on < candidate["deactivated_on"]:
                raise Conflict(_older(row.updated_on, candidate["deactivated_on"]))
            changes.update(status=EnrollmentStatus.AKTIF_KEMBALI, nik_updated_on=row.updated_on)
        elif status not in NIK_UPDATED:
            changes.update(status=EnrollmentStatus.DIPERBARUI, nik_updated_on=row.updated_on)
    elif status == EnrollmentStatus.BELUM_TERDAFTAR:
        changes["status"] = EnrollmentStatus.TERDAFTAR_SEMENTARA
    elif status == EnrollmentStatus.NONAKTIF:
        raise Conflict(_("BPJS mencatat aktif tanpa NIK, padahal nonaktif di SEJAGAD; pengaktifan kembali perlu NIK."))
    if changes.get("status") in REGISTERED and not candidate["registered_on"]:
        # BPJS reports the membership on that date, so the baby was registered by then.
        changes["registered_on"] = row.updated_on
    if changes.get("status") in REGISTERED and not (candidate["jkn_number"] or row.jkn_number):
        raise Conflict(_("Nomor kartu JKN belum ada di SEJAGAD maupun di berkas."))
    if changes and row.updated_on < candidate["newborn__birth_date"]:
        raise Conflict(_("tanggal_update %(date)s sebelum tanggal lahir bayi.") % {"date": _iso(row.updated_on)})
    return changes


def _older(file_date: datetime.date, ours: datetime.date) -> str:
    return _("Data BPJS (tanggal_update %(file)s) lebih lama dari data SEJAGAD (%(ours)s).") % {
        "file": _iso(file_date),
        "ours": _iso(ours),
    }


FIELD_LABELS = {
    "status": gettext_lazy("Status"),
    "jkn_number": gettext_lazy("Nomor kartu"),
    "registered_on": gettext_lazy("Tanggal terdaftar"),
    "nik_updated_on": gettext_lazy("Tanggal NIK diperbarui"),
    "deactivated_on": gettext_lazy("Tanggal nonaktif"),
}


def _summary(candidate: dict, changes: dict) -> list[str]:
    def shown(field, value):
        if field == "status":
            return str(EnrollmentStatus(value).label)
        return (_iso(value) if field in DATE_FIELDS else value) or "–"

    return [f"{FIELD_LABELS[f]}: {shown(f, candidate[f])} → {shown(f, v)}" for f, v in changes.items()]


def _iso(value: datetime.date | None) -> str:
    return value.isoformat() if value else ""


# --- Services -----------------------------------------------------------------------------------


def preview_reconciliation(*, upload, by) -> Reconciliation:
    """Read and match BPJS's file and keep the result for review; no enrollment changes here."""
    columns, rows = read_rows(upload)
    matched = match_rows(rows, by)
    counts = {kind.value: 0 for kind in RowClass}
    for entry in matched:
        counts[entry["kind"]] += 1
    return Reconciliation.objects.create(
        uploaded_by=by, file_name=Path(upload.name).name[:255], columns=columns, rows=matched, counts=counts
    )


def commit_reconciliation(*, reconciliation: Reconciliation, by) -> Reconciliation:
    """Apply every "berubah" row in one transaction, or none: a row that fails (or whose baby changed since
    the preview) rolls everything back and rejects the reconciliation, naming the line."""
    now = timezone.now()
    try:
        with transaction.atomic():
            # Claim the reconciliation: a second commit (a double click, another tab) finds nothing to claim.
            claimed = Reconciliation.objects.filter(pk=reconciliation.pk, status=ReconciliationStatus.PREVIEW).update(
                status=ReconciliationStatus.COMMITTED, committed_at=now, committed_by=by
            )
            if not claimed:
                raise ValidationError(
                    _("Rekonsiliasi ini sudah diterapkan atau ditolak; unggah ulang berkasnya."), code="done"
                )
            _apply(reconciliation.rows, by)
    except ValidationError as exc:
        if getattr(exc, "code", None) != "done":
            Reconciliation.objects.filter(pk=reconciliation.pk, status=ReconciliationStatus.PREVIEW).update(
                status=ReconciliationStatus.REJECTED, error=cap(" ".join(exc.messages))
            )
        reconciliation.refresh_from_db()
        raise
    reconciliation.refresh_from_db()
    return reconciliation


def _apply(rows: list[dict], by) -> None:
    changing = [r for r in rows if r["kind"] == RowClass.BERUBAH]
    ids = [r["enrollment"] for r in changing]
    current = {}
    for start in range(0, len(ids), LOOKUP_BATCH):
        batch = ids[start : start + LOOKUP_BATCH]
        locked = Enrollment.objects.in_scope_of(by).select_for_update().filter(pk__in=batch).order_by()
        current.update({e["id"]: e for e in locked.values("id", *TRACKED)})
    for row in changing:
        enrollment = current.get(row["enrollment"])
        now_values = enrollment and {k: _iso(enrollment[k]) if k in DATE_FIELDS else enrollment[k] for k in TRACKED}
        if now_values != row["before"]:
            raise _row_error(row, _("data bayi %(name)s berubah sejak pratinjau.") % {"name": row["baby"]})
        changes = {k: datetime.date.fromisoformat(v) if k in DATE_FIELDS else v for k, v in row["changes"].items()}
        try:
            services.update_enrollment(enrollment=Enrollment(pk=row["enrollment"]), by=by, **changes)
        except ValidationError as exc:
            raise _row_error(row, " ".join(exc.messages)) from None


def _row_error(row: dict, message: str) -> ValidationError:
    return ValidationError(
        _("Baris %(line)s: %(message)s Tidak ada perubahan yang disimpan.") % {"line": row["line"], "message": message},
        code="row",
    )


def unmatched_rows(reconciliation: Reconciliation) -> list[list[str]]:
    return [r["original"] for r in reconciliation.rows if r["kind"] == RowClass.TIDAK_COCOK]
