"""The rules of coverage data: importing Dukcapil and BPJS files all or nothing, and computing coverage.

An import has two steps. ``preview_import`` reads and checks the whole file and records what a commit would
do (rows to add, rows to change, errors per line) without writing any count. ``commit_import`` then writes
every row in one transaction, or nothing. Both are safe to run twice; re-importing a file changes nothing.
"""

import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from coverage import bulk, imports
from coverage.imports import KEY, VALUES, FileRejected, ParsedFile
from coverage.models import (
    CoverageImport,
    CoverageSnapshot,
    ImportKind,
    ImportStatus,
    ParticipantCount,
    PopulationCount,
    UhcCriterion,
    period_year,
    validate_period,
)
from coverage.rollup import SNAPSHOT_COLUMNS, Tier, hundredths, roll_up
from sejagad.models import Region, User

logger = logging.getLogger(__name__)

MODELS = {ImportKind.POPULATION: PopulationCount, ImportKind.PARTICIPANTS: ParticipantCount}
SQL_TYPES = {
    "region_id": "varchar(13)",
    "period": "varchar(7)",
    "segment": "varchar(10)",
    "source": "varchar(200)",
    "level": "varchar(20)",
    "tier": "varchar(50)",
    "coverage_pct": "numeric(9, 2)",
    "active_pct": "numeric(9, 2)",
    "is_uhc": "boolean",
}
DEFAULT_SYNC_MAX_BYTES = 256 * 1024


# --- Imports ------------------------------------------------------------------------------------


def runs_in_background(record: CoverageImport) -> bool:
    """Files above a few thousand rows are checked and written by a Celery worker, with a progress bar."""
    limit = getattr(settings, "COVERAGE_IMPORT_SYNC_MAX_BYTES", DEFAULT_SYNC_MAX_BYTES)
    try:
        return record.file.size > limit
    except OSError:
        return False


@transaction.atomic
def start_import(*, kind: str, uploaded: UploadedFile, by: User | None, period: str = "") -> CoverageImport:
    """Keep an uploaded file for checking; refuse oversize files, foreign types and XLSX zip bombs up front."""
    if kind not in ImportKind.values:
        raise FileRejected(_("Jenis impor tidak dikenal."))
    if period:
        validate_period(period)
    uploaded.seek(0)
    head = uploaded.read(4)
    uploaded.seek(0)
    imports.check_upload(uploaded.name, uploaded.size, head, lambda: uploaded)
    uploaded.seek(0)
    record = CoverageImport(kind=kind, file_name=Path(uploaded.name).name[:255], period=period, uploaded_by=by)
    record.file.save(record.file_name, uploaded, save=False)
    record.full_clean()
    record.save()
    return record


def start_import_from_path(*, kind: str, path: Path, by: User | None = None, period: str = "") -> CoverageImport:
    """The command-line way in: the same record and checks as an upload, without the upload size cap."""
    if period:
        validate_period(period)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise FileRejected(_("Hanya berkas CSV atau XLSX yang dapat diimpor."))
    with transaction.atomic(), path.open("rb") as f:
        record = CoverageImport(kind=kind, file_name=path.name[:255], period=period, uploaded_by=by)
        record.file.save(path.name, File(f), save=False)
        record.full_clean()
        record.save()
    return record


def _known_regions() -> frozenset[str]:
    return frozenset(Region.objects.values_list("code", flat=True))


def _existing(kind: str, periods: list[str]) -> pd.DataFrame:
    columns = KEY[kind] + VALUES[kind]
    rows = []
    if periods:
        # A plain cursor: a million stored rows come back in a second, without model machinery per row.
        placeholders = ", ".join(["%s"] * len(periods))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(columns)} FROM {MODELS[kind]._meta.db_table} WHERE period IN ({placeholders})",
                list(periods),
            )
            rows = cursor.fetchall()
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for column in VALUES[kind]:
        if column != "source":
            frame[column] = frame[column].astype("Int64")
    return frame


def _parse(record: CoverageImport, progress=lambda pct: None) -> ParsedFile:
    return imports.parse_file(
        Path(record.file.path),
        name=record.file_name,
        kind=record.kind,
        known_regions=_known_regions(),
        default_period=record.period,
        progress=progress,
    )


def _set_progress(import_id: int, pct: int) -> None:
    # Outside any transaction on purpose: the page polls this while the file is being read.
    CoverageImport.objects.filter(pk=import_id).update(progress=pct)


def preview_import(*, import_id: int) -> CoverageImport:
    """Read and check every row; record the rows to add and change and every error with its line number.

    Writes only the import record, so nothing changes if the file is never committed."""
    claimed = CoverageImport.objects.filter(
        pk=import_id, status__in=[ImportStatus.PENDING, ImportStatus.VALIDATING]
    ).update(status=ImportStatus.VALIDATING, progress=5)
    record = CoverageImport.objects.get(pk=import_id)
    if not claimed:
        return record
    try:
        parsed = _parse(record, progress=lambda pct: _set_progress(import_id, pct))
        _set_progress(import_id, 70)
        _to_write, new, changed, unchanged = imports.diff_against(parsed, _existing(record.kind, parsed.periods))
    except FileRejected as exc:
        return _finish(record, status=ImportStatus.INVALID, message=str(exc), error_count=1)
    except Exception as exc:  # a worker must leave a readable record behind, whatever broke
        logger.exception("coverage import %s: preview failed", import_id)
        return _finish(record, status=ImportStatus.FAILED, message=_("Berkas tidak dapat dibaca: %s") % exc)
    return _finish(
        record,
        status=ImportStatus.INVALID if parsed.error_count else ImportStatus.PREVIEWED,
        total_rows=parsed.total_rows,
        rows_new=new,
        rows_changed=changed,
        rows_unchanged=unchanged,
        error_count=parsed.error_count,
        errors=parsed.errors,
        periods=parsed.periods,
        message="",
        finished_at=None,
    )


def _finish(record: CoverageImport, **fields) -> CoverageImport:
    fields.setdefault("progress", 100)
    fields.setdefault("finished_at", timezone.now())
    for name, value in fields.items():
        setattr(record, name, value)
    record.save(update_fields=list(fields))
    return record


def queue_commit(*, import_id: int) -> bool:
    """Mark a previewed, error-free import as being saved, before its background job starts; False if it
    is not in that state (already saved, or a second click)."""
    return bool(
        CoverageImport.objects.filter(pk=import_id, status=ImportStatus.PREVIEWED, error_count=0).update(
            status=ImportStatus.COMMITTING, progress=0
        )
    )


@dataclass(frozen=True)
class CommitOutcome:
    record: CoverageImport
    written: int


def commit_import(*, import_id: int, schedule_rollup: bool = True) -> CommitOutcome:
    """Write every row of a previewed, error-free file in one transaction, or none; then recompute coverage.

    The file is checked again inside the transaction, so regions removed since the preview cannot slip in."""
    claimed = CoverageImport.objects.filter(
        pk=import_id, status__in=[ImportStatus.PREVIEWED, ImportStatus.COMMITTING], error_count=0
    ).update(status=ImportStatus.COMMITTING, progress=10)
    if not claimed:
        return CommitOutcome(CoverageImport.objects.get(pk=import_id), written=0)
    try:
        with transaction.atomic():
            # Two deliveries of the same task wait here for each other; the second finds it done.
            record = CoverageImport.objects.select_for_update().get(pk=import_id)
            if record.status == ImportStatus.DONE:
                return CommitOutcome(record, written=0)
            parsed = _parse(record)
            to_write, new, changed, unchanged = imports.diff_against(parsed, _existing(record.kind, parsed.periods))
            if parsed.error_count:
                transaction.set_rollback(True)
                return CommitOutcome(
                    _mark_invalid_after_commit_check(import_id, parsed, new, changed, unchanged), written=0
                )
            written = write_counts(kind=record.kind, rows=to_write)
            _finish(
                record,
                status=ImportStatus.DONE,
                total_rows=parsed.total_rows,
                rows_new=new,
                rows_changed=changed,
                rows_unchanged=unchanged,
                periods=parsed.periods,
                message="",
            )
            if schedule_rollup and parsed.periods:
                periods = parsed.periods
                transaction.on_commit(lambda: _enqueue_rollup(periods))
    except Exception as exc:
        logger.exception("coverage import %s: commit failed", import_id)
        record = CoverageImport.objects.get(pk=import_id)
        _finish(record, status=ImportStatus.FAILED, message=_("Penyimpanan gagal, tidak ada yang tersimpan: %s") % exc)
        return CommitOutcome(record, written=0)
    return CommitOutcome(record, written=written)


def _mark_invalid_after_commit_check(import_id, parsed: ParsedFile, new, changed, unchanged) -> CoverageImport:
    record = CoverageImport.objects.get(pk=import_id)
    return _finish(
        record,
        status=ImportStatus.INVALID,
        total_rows=parsed.total_rows,
        rows_new=new,
        rows_changed=changed,
        rows_unchanged=unchanged,
        error_count=parsed.error_count,
        errors=parsed.errors,
        message=_("Data wilayah berubah sejak pratinjau; periksa kesalahan di bawah. Tidak ada yang tersimpan."),
    )


def _enqueue_rollup(periods: list[str]) -> None:
    from coverage import tasks

    tasks.compute_coverage.delay(periods=periods)


def write_counts(*, kind: str, rows: pd.DataFrame) -> int:
    """Upsert population or participant rows (our columns) through a staging table; returns rows written."""
    if rows.empty:
        return 0
    model = MODELS[kind]
    key, values = KEY[kind], VALUES[kind]
    columns = [(c, SQL_TYPES.get(c, "bigint")) for c in key + values]
    with transaction.atomic(), connection.cursor() as cursor:
        bulk.stage(cursor, "coverage_staging_counts", columns, rows)
        written = bulk.upsert_from_stage(
            cursor,
            table=model._meta.db_table,
            staging="coverage_staging_counts",
            key=key,
            columns=values,
            stamp=("updated_at", timezone.now()),
            expressions={"source": "COALESCE(source, '')"},
        )
        bulk.drop(cursor, "coverage_staging_counts")
    return written


# --- Coverage -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageRun:
    periods: list[str]
    regions: int
    written: int
    deleted: int
    seconds: float


def tiers_for_years(years) -> dict[int, list[Tier]]:
    """The UHC tiers in force for each year (the latest year with criteria at or before it), lowest first."""
    by_year: dict[int, list[Tier]] = defaultdict(list)
    for c in UhcCriterion.objects.order_by("year", "rank"):
        by_year[c.year].append(
            Tier(
                rank=c.rank,
                name=c.name,
                coverage_hundredths=hundredths(c.coverage_threshold),
                active_hundredths=None if c.active_threshold is None else hundredths(c.active_threshold),
            )
        )
    defined = sorted(by_year)
    result = {}
    for year in years:
        earlier = [y for y in defined if y <= year]
        if earlier:
            result[year] = by_year[earlier[-1]]
    return result


def all_periods() -> list[str]:
    periods: set[str] = set()
    for model in (PopulationCount, ParticipantCount, CoverageSnapshot):
        periods |= set(model.objects.order_by().values_list("period", flat=True).distinct())
    return sorted(periods)


def compute_coverage(*, periods: list[str] | None = None) -> CoverageRun:
    """Rebuild coverage snapshots for the periods (all when None) from the counts, desa up to provinsi, in a
    few set-based statements; only snapshots whose figures change are written."""
    started = time.perf_counter()
    periods = sorted(set(periods)) if periods is not None else all_periods()
    if not periods:
        return CoverageRun(periods=[], regions=0, written=0, deleted=0, seconds=0.0)
    population = pd.DataFrame.from_records(
        list(PopulationCount.objects.filter(period__in=periods).values_list("region_id", "period", "total")),
        columns=["region_id", "period", "total"],
    ).astype({"total": "Int64"})
    grouped = (
        ParticipantCount.objects.filter(period__in=periods)
        .values("region_id", "period")
        .annotate(total_sum=Sum("total"), active_sum=Sum("active"), unknown=Count("pk", filter=Q(active__isnull=True)))
        .order_by()
        .values_list("region_id", "period", "total_sum", "active_sum", "unknown")
    )
    participants = pd.DataFrame.from_records(
        list(grouped), columns=["region_id", "period", "total", "active", "unknown"]
    ).astype({"total": "Int64", "active": "Int64", "unknown": "Int64"})
    participants["active"] = participants["active"].mask(participants["unknown"] > 0)
    participants = participants.drop(columns="unknown")
    tiers = tiers_for_years({period_year(p) for p in periods})
    frame = roll_up(population, participants, tiers, _known_regions())

    with transaction.atomic(), connection.cursor() as cursor:
        columns = [(c, SQL_TYPES.get(c, "bigint")) for c in SNAPSHOT_COLUMNS]
        bulk.stage(cursor, "coverage_staging_snapshots", columns, frame)
        key, values = ["region_id", "period"], SNAPSHOT_COLUMNS[2:]
        table = CoverageSnapshot._meta.db_table
        written = bulk.upsert_from_stage(
            cursor,
            table=table,
            staging="coverage_staging_snapshots",
            key=key,
            columns=values,
            stamp=("computed_at", timezone.now()),
            expressions={"tier": "COALESCE(tier, '')"},
        )
        deleted = bulk.delete_missing_from_stage(
            cursor, table=table, staging="coverage_staging_snapshots", key=key, periods=periods
        )
        bulk.drop(cursor, "coverage_staging_snapshots")
    return CoverageRun(
        periods=periods,
        regions=len(frame),
        written=written,
        deleted=deleted,
        seconds=time.perf_counter() - started,
    )
