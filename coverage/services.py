"""The rules of coverage data: importing Dukcapil and BPJS files all or nothing, and computing coverage.

An import has two steps. ``preview_import`` reads and checks the whole file and records what a commit would
do (rows to add, rows to change, errors per line) without writing any count. ``commit_import`` then writes
every row in one transaction, or nothing. Both are safe to run twice; re-importing a file changes nothing.

Jobs recover by themselves: each claim and each step of progress is a heartbeat, a job killed with its worker
is delivered again by the broker (acks_late) and, failing that, ``sweep_stuck_imports`` queues it again; an
import that could not be queued (broker down) is kept and queued by the sweeper. An import belongs to its
uploader's region: rows outside it are refused line by line.
"""

import logging
import re
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Case, Count, F, Q, Sum, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from coverage import bulk, imports
from coverage.imports import KEY, VALUES, FileRejected, ParsedFile
from coverage.models import (
    RUNNING,
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
    """Every XLSX (a small one can unpack large) and CSV files above a few thousand rows are checked and
    written by a Celery worker, with a progress bar and the job's time limit; the request only keeps the file."""
    if Path(record.file_name).suffix.lower() == ".xlsx":
        return True
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
    # Reads the zip index only (milliseconds), so a zip bomb is refused at once; the worker reads the sheet.
    imports.check_upload(uploaded.name, uploaded.size, head, lambda: uploaded)
    uploaded.seek(0)
    record = CoverageImport(
        kind=kind,
        file_name=Path(uploaded.name).name[:255],
        period=period,
        uploaded_by=by,
        region=by.scope_region if by else None,
    )
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


DOTTED_CODE = re.compile(r"\b\d{2}(?:\.\d{2}){0,2}(?:\.\d{4})?\b")


def _explain_outside(parsed: ParsedFile, outside: frozenset[str]) -> None:
    """A code that exists but lies outside the import's region is reported as such, not as unknown."""
    for error in parsed.errors:
        for code in DOTTED_CODE.findall(error["message"]):
            if code in outside:
                error["message"] = _("Wilayah %(code)s di luar wilayah Anda.") % {"code": code}
                break


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
    known = _known_regions()
    allowed = known
    if record.region_id:
        inside = record.region_id + "."
        allowed = frozenset(code for code in known if code == record.region_id or code.startswith(inside))
    parsed = imports.parse_file(
        Path(record.file.path),
        name=record.file_name,
        kind=record.kind,
        known_regions=allowed,
        default_period=record.period,
        progress=progress,
    )
    if allowed is not known:
        _explain_outside(parsed, known - allowed)
    return parsed


def _set_progress(import_id: int, pct: int) -> None:
    # Outside any transaction on purpose: the page polls this while the file is being read, and the sweeper
    # reads it as the job's heartbeat.
    CoverageImport.objects.filter(pk=import_id).update(progress=pct, heartbeat_at=timezone.now())


def _claim(import_id: int, statuses, *, status: str, **fields) -> bool:
    """Take the import for this delivery of its job: the first attempt of the step, or one more when it
    is already in it (delivered again after its worker died); a step past its last attempt fails."""
    claimed = CoverageImport.objects.filter(
        pk=import_id, status__in=statuses, attempts__lt=settings.JOB_MAX_ATTEMPTS
    ).update(
        attempts=Case(When(status=status, then=F("attempts") + 1), default=Value(1)),
        heartbeat_at=timezone.now(),
        message="",
        status=status,
        **fields,
    )
    if not claimed:
        CoverageImport.objects.filter(
            pk=import_id, status__in=statuses, attempts__gte=settings.JOB_MAX_ATTEMPTS
        ).update(
            status=ImportStatus.FAILED,
            finished_at=timezone.now(),
            message=_(
                "Pekerjaan ini terhenti %(n)s kali (berkas mungkin terlalu besar untuk server). Tidak ada yang "
                "tersimpan; pecah berkas lalu unggah ulang."
            )
            % {"n": settings.JOB_MAX_ATTEMPTS},
        )
    return bool(claimed)


def _time_limit_message() -> str:
    minutes = settings.JOB_TIME_LIMITS["coverage.tasks.commit_import"] // 60
    return _("Melebihi batas waktu %(minutes)s menit. Tidak ada yang tersimpan; pecah berkas lalu unggah ulang.") % {
        "minutes": minutes
    }


def preview_import(*, import_id: int) -> CoverageImport:
    """Read and check every row; record the rows to add and change and every error with its line number.

    Writes only the import record, so nothing changes if the file is never committed."""
    claimed = _claim(
        import_id, [ImportStatus.PENDING, ImportStatus.VALIDATING], status=ImportStatus.VALIDATING, progress=5
    )
    record = CoverageImport.objects.get(pk=import_id)
    if not claimed:
        return record
    try:
        parsed = _parse(record, progress=lambda pct: _set_progress(import_id, pct))
        _set_progress(import_id, 70)
        _to_write, new, changed, unchanged = imports.diff_against(parsed, _existing(record.kind, parsed.periods))
    except FileRejected as exc:
        return _finish(record, status=ImportStatus.INVALID, message=str(exc), error_count=1)
    except SoftTimeLimitExceeded:
        return _finish(record, status=ImportStatus.FAILED, message=_time_limit_message())
    except Exception:  # a worker must leave a readable record behind, whatever broke
        logger.exception("coverage import %s: preview failed", import_id)
        return _finish(record, status=ImportStatus.FAILED, message=_("Berkas tidak dapat dibaca (kesalahan sistem)."))
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
            status=ImportStatus.COMMITTING, progress=0, heartbeat_at=timezone.now(), attempts=0
        )
    )


def _queue_down_message(status: str) -> str:
    if status == ImportStatus.COMMITTING:
        return _("Antrean sedang tidak tersedia; penyimpanan akan berjalan otomatis.")
    return _("Antrean sedang tidak tersedia; pemeriksaan akan berjalan otomatis.")


def _send(task, *args, **kwargs) -> bool:
    """Hand a job to the broker; False when it cannot be reached, so the caller records that and the sweeper
    tries again. Call outside a transaction: the worker must see what the job needs."""
    try:
        task.delay(*args, **kwargs)
    except Exception:  # kombu's OperationalError, or the transport's own; losing the job is the one bad outcome
        logger.warning("could not queue %s%s", task.name, args, exc_info=True)
        return False
    return True


def queue_import_job(*, import_id: int) -> bool:
    """Send the job the import is waiting for (its check, or its saving) to a worker; when the queue cannot
    be reached the import keeps its file and says so, and the sweeper sends the job later."""
    from coverage import tasks

    record = CoverageImport.objects.only("status").get(pk=import_id)
    if record.status not in RUNNING:
        return False
    task = tasks.commit_import if record.status == ImportStatus.COMMITTING else tasks.preview_import
    CoverageImport.objects.filter(pk=import_id, status=record.status).update(heartbeat_at=timezone.now(), message="")
    if _send(task, import_id):
        return True
    CoverageImport.objects.filter(pk=import_id, status=record.status).update(
        heartbeat_at=None, message=_queue_down_message(record.status)
    )
    return False


def retry_import(*, import_id: int) -> bool:
    """The page's "try again" for a stalled import: queue its job again (the job itself is idempotent)."""
    if not CoverageImport.objects.filter(pk=import_id).stalled().exists():
        return False
    return queue_import_job(import_id=import_id)


@dataclass(frozen=True)
class Sweep:
    requeued: int
    rollups: int


def sweep_stuck_imports(*, now=None) -> Sweep:
    """Every few minutes: queue again the imports whose job died or was never queued, and the roll-ups of
    committed imports that never ran (a roll-up runs within its time limit, or it was lost)."""
    now = now or timezone.now()
    stalled = list(CoverageImport.objects.stalled(now).order_by("pk").values_list("pk", flat=True)[:100])
    requeued = sum(queue_import_job(import_id=pk) for pk in stalled)
    grace = timezone.timedelta(seconds=settings.JOB_TIME_LIMITS["coverage.tasks.compute_coverage"] + 60)
    waiting = CoverageImport.objects.filter(rollup_pending=True, finished_at__lt=now - grace)
    periods = sorted({p for ps in waiting.values_list("periods", flat=True) for p in ps})
    rollups = 0
    if periods:
        from coverage import tasks

        rollups = int(_send(tasks.compute_coverage, periods=periods))
    return Sweep(requeued=requeued, rollups=rollups)


@dataclass(frozen=True)
class CommitOutcome:
    record: CoverageImport
    written: int


def commit_import(*, import_id: int, schedule_rollup: bool = True) -> CommitOutcome:
    """Write every row of a previewed, error-free file in one transaction, or none; then recompute coverage.

    The file is checked again inside the transaction, so regions removed since the preview cannot slip in."""
    claimed = _claim(
        import_id, [ImportStatus.PREVIEWED, ImportStatus.COMMITTING], status=ImportStatus.COMMITTING, progress=10
    )
    if not claimed:
        return CommitOutcome(CoverageImport.objects.get(pk=import_id), written=0)
    written = 0
    try:
        with transaction.atomic():
            # Two deliveries of the same task wait here for each other; the second finds it done.
            record = CoverageImport.objects.select_for_update().get(pk=import_id)
            if record.status == ImportStatus.DONE:
                return CommitOutcome(record, written=0)
            parsed = _parse(record)
            to_write, new, changed, unchanged = imports.diff_against(parsed, _existing(record.kind, parsed.periods))
            if parsed.error_count:
                # Nothing is written before this check, so the record is marked in this same transaction
                # (a transaction marked for rollback would refuse the query and report a system failure).
                return CommitOutcome(
                    _mark_invalid_after_commit_check(import_id, parsed, new, changed, unchanged), written=0
                )
            written = write_counts(kind=record.kind, rows=to_write)
            # The roll-up is owed until it runs: queued below, else by the sweeper or the nightly run.
            _finish(
                record,
                status=ImportStatus.DONE,
                total_rows=parsed.total_rows,
                rows_new=new,
                rows_changed=changed,
                rows_unchanged=unchanged,
                periods=parsed.periods,
                message="",
                rollup_pending=bool(parsed.periods),
            )
        if schedule_rollup and parsed.periods:
            _send(_rollup_task(), periods=parsed.periods)
    except Exception as exc:
        record = CoverageImport.objects.get(pk=import_id)
        if record.status == ImportStatus.DONE:  # the rows are saved; only what came after failed
            logger.exception("coverage import %s: saved, then failed", import_id)
            return CommitOutcome(record, written=written)
        logger.exception("coverage import %s: commit failed", import_id)
        message = (
            _time_limit_message()
            if isinstance(exc, SoftTimeLimitExceeded)
            else _("Penyimpanan gagal (kesalahan sistem), tidak ada yang tersimpan.")
        )
        _finish(record, status=ImportStatus.FAILED, message=message)
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


def _rollup_task():
    from coverage import tasks

    return tasks.compute_coverage


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


def _settle_rollups(*, periods: list[str] | None, before) -> int:
    """Imports committed before this roll-up started, with all their periods in it, are rolled up."""
    waiting = CoverageImport.objects.filter(rollup_pending=True, finished_at__lt=before)
    if periods is not None:
        # A handful of rows; compared in Python because SQLite has no JSON containment.
        wanted = set(periods)
        done = [pk for pk, ps in waiting.values_list("pk", "periods") if set(ps) <= wanted]
        waiting = CoverageImport.objects.filter(pk__in=done)
    return waiting.update(rollup_pending=False)


def all_periods() -> list[str]:
    periods: set[str] = set()
    for model in (PopulationCount, ParticipantCount, CoverageSnapshot):
        periods |= set(model.objects.order_by().values_list("period", flat=True).distinct())
    return sorted(periods)


def compute_coverage(*, periods: list[str] | None = None) -> CoverageRun:
    """Rebuild coverage snapshots for the periods (all when None) from the counts, desa up to provinsi, in a
    few set-based statements; only snapshots whose figures change are written."""
    started, started_at, every = time.perf_counter(), timezone.now(), periods is None
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
    _settle_rollups(periods=None if every else periods, before=started_at)
    return CoverageRun(
        periods=periods,
        regions=len(frame),
        written=written,
        deleted=deleted,
        seconds=time.perf_counter() - started,
    )
