"""Population and JKN participant counts per region and semester, the coverage computed from them, and the
UHC criteria they are judged by."""

import datetime
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sejagad.models import Region, RegionLevel

PERIOD_RE = re.compile(r"^(?P<year>(19|20)\d{2})-S(?P<half>[12])$")


def validate_period(value: str) -> None:
    if not PERIOD_RE.match(value or ""):
        raise ValidationError(
            _("Periode %(value)s tidak dikenal; tulis semester sebagai TAHUN-S1 atau TAHUN-S2, mis. 2021-S2."),
            code="invalid_period",
            params={"value": value},
        )


def period_year(period: str) -> int:
    """``2021-S2`` belongs to 2021, the year whose UHC criteria apply."""
    return int(period[:4])


def period_label(period: str) -> str:
    """``2021-S2`` -> ``Semester II 2021``, as Dukcapil names its releases."""
    match = PERIOD_RE.match(period)
    if not match:
        return period
    return f"Semester {'I' if match['half'] == '1' else 'II'} {match['year']}"


def _period_field():
    return models.CharField(
        _("periode"), max_length=7, validators=[validate_period], help_text=_("Semester, mis. 2021-S2.")
    )


class Segment(models.TextChoices):
    PBI_APBN = "PBI-APBN", _("PBI APBN")
    PBI_APBD = "PBI-APBD", _("PBI APBD")
    PPU = "PPU", _("Pekerja Penerima Upah")
    PBPU = "PBPU", _("Pekerja Bukan Penerima Upah")
    BP = "BP", _("Bukan Pekerja")


class ImportKind(models.TextChoices):
    POPULATION = "population", _("Penduduk (Dukcapil)")
    PARTICIPANTS = "participants", _("Peserta JKN (BPJS)")


class PopulationCount(models.Model):
    """Dukcapil's resident count of one region in one semester (a desa, a kecamatan or a whole kabupaten)."""

    region = models.ForeignKey(
        Region, verbose_name=_("wilayah"), on_delete=models.PROTECT, related_name="population_counts"
    )
    period = _period_field()
    total = models.PositiveBigIntegerField(_("jumlah penduduk"))
    male = models.PositiveBigIntegerField(_("laki-laki"), null=True, blank=True)
    female = models.PositiveBigIntegerField(_("perempuan"), null=True, blank=True)
    source = models.CharField(_("sumber"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("diperbarui"), auto_now=True)

    class Meta:
        verbose_name = _("jumlah penduduk")
        verbose_name_plural = _("jumlah penduduk")
        ordering = ["region_id", "period"]
        constraints = [models.UniqueConstraint(fields=["region", "period"], name="population_once_per_period")]

    def __str__(self):
        return f"{self.region_id} {self.period}: {self.total}"


class ParticipantCount(models.Model):
    """BPJS's JKN participants of one region, semester and membership segment; active ones pay or are paid for."""

    region = models.ForeignKey(
        Region, verbose_name=_("wilayah"), on_delete=models.PROTECT, related_name="participant_counts"
    )
    period = _period_field()
    segment = models.CharField(_("segmen"), max_length=10, choices=Segment.choices)
    total = models.PositiveBigIntegerField(_("jumlah peserta"))
    active = models.PositiveBigIntegerField(_("peserta aktif"), null=True, blank=True)
    updated_at = models.DateTimeField(_("diperbarui"), auto_now=True)

    class Meta:
        verbose_name = _("jumlah peserta JKN")
        verbose_name_plural = _("jumlah peserta JKN")
        ordering = ["region_id", "period", "segment"]
        constraints = [
            models.UniqueConstraint(fields=["region", "period", "segment"], name="participants_once_per_segment"),
            models.CheckConstraint(
                condition=models.Q(active__isnull=True) | models.Q(active__lte=models.F("total")),
                name="active_participants_within_total",
            ),
        ]

    def __str__(self):
        return f"{self.region_id} {self.period} {self.segment}: {self.total}"


class UhcCriterionQuerySet(models.QuerySet):
    def for_year(self, year: int):
        """The criteria in force in a year: that year's rows, else those of the latest earlier year with rows."""
        in_force = self.filter(year__lte=year).order_by("-year").values("year")[:1]
        return self.filter(year__in=models.Subquery(in_force)).order_by("rank")


class UhcCriterion(models.Model):
    """One bar a district can clear in a year. A year has one criterion, or several award tiers (rank 1 lowest)."""

    year = models.PositiveSmallIntegerField(_("tahun"), validators=[MinValueValidator(2014), MaxValueValidator(2100)])
    rank = models.PositiveSmallIntegerField(_("urutan"), default=1, help_text=_("1 untuk kriteria dasar."))
    name = models.CharField(_("nama"), max_length=50)
    coverage_threshold = models.DecimalField(
        _("ambang cakupan (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    active_threshold = models.DecimalField(
        _("ambang keaktifan (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=_("Kosongkan bila tahun itu tidak menilai keaktifan."),
    )
    source = models.CharField(_("sumber"), max_length=200, blank=True)

    objects = UhcCriterionQuerySet.as_manager()

    class Meta:
        verbose_name = _("kriteria UHC")
        verbose_name_plural = _("kriteria UHC")
        ordering = ["year", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["year", "rank"], name="uhc_criterion_rank_once_per_year"),
            models.UniqueConstraint(fields=["year", "name"], name="uhc_criterion_name_once_per_year"),
        ]

    def __str__(self):
        active = f" / {self.active_threshold} %" if self.active_threshold is not None else ""
        return f"{self.year} {self.name}: {self.coverage_threshold} %{active}"


class CoverageSnapshotQuerySet(models.QuerySet):
    def for_period(self, period: str):
        return self.filter(period=period)

    def within(self, region: Region):
        return self.filter(models.Q(region_id=region.code) | models.Q(region__code__startswith=region.code + "."))


class CoverageSnapshot(models.Model):
    """The computed coverage of one region in one semester; rebuilt by ``services.compute_coverage``.

    Population is empty when no Dukcapil count exists for the region or below it: the coverage is then
    unknown ("data belum tersedia"), never 0 %.
    """

    region = models.ForeignKey(
        Region, verbose_name=_("wilayah"), on_delete=models.CASCADE, related_name="coverage_snapshots"
    )
    period = _period_field()
    level = models.CharField(_("tingkat"), max_length=20, choices=RegionLevel.choices)
    population = models.PositiveBigIntegerField(_("penduduk"), null=True, blank=True)
    participants = models.PositiveBigIntegerField(_("peserta"), null=True, blank=True)
    active_participants = models.PositiveBigIntegerField(_("peserta aktif"), null=True, blank=True)
    coverage_pct = models.DecimalField(_("cakupan (%)"), max_digits=9, decimal_places=2, null=True, blank=True)
    active_pct = models.DecimalField(_("keaktifan (%)"), max_digits=9, decimal_places=2, null=True, blank=True)
    gap = models.PositiveBigIntegerField(_("kekurangan peserta"), null=True, blank=True)
    is_uhc = models.BooleanField(_("UHC"), null=True, blank=True)
    tier = models.CharField(_("tingkat UHC tertinggi"), max_length=50, blank=True)
    computed_at = models.DateTimeField(_("dihitung"))

    objects = CoverageSnapshotQuerySet.as_manager()

    class Meta:
        verbose_name = _("cakupan")
        verbose_name_plural = _("cakupan")
        ordering = ["region_id", "period"]
        constraints = [models.UniqueConstraint(fields=["region", "period"], name="coverage_once_per_period")]
        indexes = [models.Index(fields=["period", "level"], name="coverage_period_level")]

    def __str__(self):
        return f"{self.region_id} {self.period}: {self.coverage_pct} %"

    @property
    def has_data(self) -> bool:
        return self.population is not None and self.participants is not None and self.population > 0

    def status(self, tiers) -> "UhcStatus":
        """Which criterion of the year's base tier is met or missed, and by how much; ``tiers`` lowest first."""
        tiers = list(tiers)
        base = tiers[0] if tiers else None
        if base is None or not self.has_data:
            return UhcStatus(criterion=base, tier=self.tier, is_uhc=self.is_uhc, checks=())
        n, p, a = self.population, self.participants, self.active_participants
        checks = [_check(_("Cakupan"), base.coverage_threshold, part=p, whole=n)]
        if base.active_threshold is not None:
            checks.append(_check(_("Keaktifan"), base.active_threshold, part=a, whole=p))
        return UhcStatus(criterion=base, tier=self.tier, is_uhc=self.is_uhc, checks=tuple(checks))


@dataclass(frozen=True)
class CriterionCheck:
    """One threshold against one figure: met or not, and by how much (percentage points and people)."""

    label: str
    threshold: Decimal
    value: Decimal | None
    met: bool | None
    margin_points: Decimal | None
    people: int | None

    @property
    def distance_points(self) -> Decimal | None:
        """How far from the threshold, without the sign (the wording says above or below)."""
        return None if self.margin_points is None else abs(self.margin_points)


@dataclass(frozen=True)
class UhcStatus:
    criterion: "UhcCriterion | None"
    tier: str
    is_uhc: bool | None
    checks: tuple[CriterionCheck, ...]


HUNDREDTH = Decimal("0.01")


def _check(label, threshold: Decimal, *, part: int | None, whole: int | None) -> CriterionCheck:
    """part/whole against threshold %, in integers; people = how many short (missed) or above the bar (met)."""
    if part is None or not whole:
        return CriterionCheck(label, threshold, value=None, met=None, margin_points=None, people=None)
    bar = int((threshold * 100).to_integral_exact())  # hundredths of a percent
    needed = (whole * bar + 9999) // 10000  # ceil(whole x threshold)
    exact = Decimal(part) * 100 / Decimal(whole)
    met = part * 10000 >= whole * bar
    return CriterionCheck(
        label,
        threshold,
        value=exact.quantize(HUNDREDTH, rounding=ROUND_HALF_UP),
        met=met,
        margin_points=(exact - threshold).quantize(HUNDREDTH, rounding=ROUND_HALF_UP),
        people=part - needed if met else needed - part,
    )


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Menunggu pemeriksaan")
    VALIDATING = "validating", _("Sedang diperiksa")
    PREVIEWED = "previewed", _("Siap disimpan")
    INVALID = "invalid", _("Ada kesalahan")
    COMMITTING = "committing", _("Sedang disimpan")
    DONE = "done", _("Tersimpan")
    FAILED = "failed", _("Gagal")


RUNNING = (ImportStatus.PENDING, ImportStatus.VALIDATING, ImportStatus.COMMITTING)


def stale_after() -> datetime.timedelta:
    """A job silent for longer than its time limit is dead: the limit would have stopped it by then."""
    limits = settings.JOB_TIME_LIMITS
    longest = max(limits["coverage.tasks.preview_import"], limits["coverage.tasks.commit_import"])
    return datetime.timedelta(seconds=longest + 60)


class CoverageImportQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Imports uploaded within the user's region; a user without a region sees them all."""
        region = user.scope_region
        if region is None:
            return self
        return self.filter(models.Q(region_id=region.code) | models.Q(region__code__startswith=region.code + "."))

    def stalled(self, now: datetime.datetime | None = None):
        """Waiting or running, but not queued (the broker was down) or silent for longer than a job can run."""
        cutoff = (now or timezone.now()) - stale_after()
        return self.filter(status__in=RUNNING).filter(
            models.Q(heartbeat_at__isnull=True) | models.Q(heartbeat_at__lt=cutoff)
        )


class CoverageImport(models.Model):
    """One uploaded Dukcapil or BPJS file: its preview, its errors per row, its progress and its outcome."""

    kind = models.CharField(_("jenis"), max_length=20, choices=ImportKind.choices)
    file = models.FileField(_("berkas"), upload_to="coverage_imports/%Y/%m/", max_length=255)
    file_name = models.CharField(_("nama berkas"), max_length=255)
    period = models.CharField(
        _("periode bawaan"),
        max_length=7,
        blank=True,
        validators=[validate_period],
        help_text=_("Dipakai bila berkas tidak memiliki kolom periode."),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("diunggah oleh"), null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("diunggah"), auto_now_add=True)
    finished_at = models.DateTimeField(_("selesai"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    progress = models.PositiveSmallIntegerField(_("kemajuan (%)"), default=0)
    total_rows = models.PositiveIntegerField(_("jumlah baris"), default=0)
    rows_new = models.PositiveIntegerField(_("baris baru"), default=0)
    rows_changed = models.PositiveIntegerField(_("baris berubah"), default=0)
    rows_unchanged = models.PositiveIntegerField(_("baris sama"), default=0)
    error_count = models.PositiveIntegerField(_("jumlah kesalahan"), default=0)
    errors = models.JSONField(_("kesalahan"), default=list, blank=True)
    periods = models.JSONField(_("periode dalam berkas"), default=list, blank=True)
    message = models.TextField(_("pesan"), blank=True)
    # Rows outside the uploader's region are refused; only users within it see the import.
    region = models.ForeignKey(
        Region,
        verbose_name=_("wilayah pengunggah"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Kosong: seluruh wilayah yang dimuat."),
    )
    # The last sign of life of its job (queued, claimed, progress); empty when the queue could not be reached.
    heartbeat_at = models.DateTimeField(_("tanda hidup terakhir"), null=True, blank=True, default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("percobaan"), default=0)
    rollup_pending = models.BooleanField(_("cakupan belum dihitung ulang"), default=False)

    objects = CoverageImportQuerySet.as_manager()

    class Meta:
        verbose_name = _("impor cakupan")
        verbose_name_plural = _("impor cakupan")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.file_name}"

    @property
    def is_running(self) -> bool:
        return self.status in RUNNING

    @property
    def queue_unavailable(self) -> bool:
        """Waiting for a queue that could not be reached; the sweeper sends the job when it is back."""
        return self.is_running and self.heartbeat_at is None

    @property
    def is_stalled(self) -> bool:
        """Its job died (or was never queued): the page offers a retry instead of a progress bar for ever."""
        return self.is_running and (self.heartbeat_at is None or self.heartbeat_at < timezone.now() - stale_after())

    @property
    def can_commit(self) -> bool:
        return self.status == ImportStatus.PREVIEWED and self.error_count == 0
