import datetime
import os
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Greatest, Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.models import HistoricalRecords

from newborns.models import Newborn, Segment, attended_or_born_at_q
from sejagad.models import KABUPATEN_CODE_LENGTH, in_region_q
from sejagad.roles import Capability, bound_to_facility, can


class EnrollmentStatus(models.TextChoices):
    BELUM_TERDAFTAR = "BELUM_TERDAFTAR", _("Belum terdaftar")
    TERDAFTAR_SEMENTARA = "TERDAFTAR_SEMENTARA", _("Terdaftar sementara (By. Ny.)")
    DIPERBARUI = "DIPERBARUI", _("Diperbarui (NIK di BPJS)")
    NONAKTIF = "NONAKTIF", _("Nonaktif")
    AKTIF_KEMBALI = "AKTIF_KEMBALI", _("Aktif kembali")


# A deadline is met once the enrollment reaches one of these.
REGISTERED = [
    EnrollmentStatus.TERDAFTAR_SEMENTARA,
    EnrollmentStatus.DIPERBARUI,
    EnrollmentStatus.NONAKTIF,
    EnrollmentStatus.AKTIF_KEMBALI,
]
NIK_UPDATED = [EnrollmentStatus.DIPERBARUI, EnrollmentStatus.AKTIF_KEMBALI]


class FlagLevel(models.IntegerChoices):
    """How close a deadline is; a higher number is worse. SELESAI: the deadline was met."""

    SELESAI = 0, _("Selesai")
    AMAN = 1, _("Aman")
    PERHATIAN = 2, _("Perhatian")
    MENDESAK = 3, _("Mendesak")
    KRITIS = 4, _("Kritis")
    TERLAMBAT = 5, _("Terlambat")


AT_RISK = [FlagLevel.TERLAMBAT, FlagLevel.KRITIS, FlagLevel.MENDESAK, FlagLevel.PERHATIAN]


class Deadline(models.TextChoices):
    REGISTRATION = "registration", _("Pendaftaran JKN (28 hari)")
    NIK = "nik", _("Pembaruan NIK ke BPJS (3 bulan)")


# Either deadline at an at-risk level.
AT_RISK_NOW = Q(registration_level__in=AT_RISK) | Q(nik_level__in=AT_RISK)
# Past the 3-month deadline without the NIK at BPJS, BPJS has deactivated the membership ("otomatis nonaktif
# saat di usia 3 bulan jika tidak di-update") and reactivation needs the NIK (docs DOMAIN.md, "The newborn's
# path" step 5): these babies can no longer be saved by the deadline, so they leave the at-risk list for
# their own, "Perlu aktivasi ulang". A membership BPJS already reported nonaktif belongs there too.
NEEDS_REACTIVATION = Q(status=EnrollmentStatus.NONAKTIF) | (
    Q(nik_level=FlagLevel.TERLAMBAT) & ~Q(status__in=NIK_UPDATED)
)
# The at-risk list: babies who can still be saved (selectors.LISTS).
SAVABLE = AT_RISK_NOW & ~NEEDS_REACTIVATION
# On every row, an at-risk worst level is one band of the at-risk list's order (``Enrollment.priority``):
# a level filter given as both lets an index start at its band.
LEVEL_PRIORITY = {FlagLevel.KRITIS: 0, FlagLevel.MENDESAK: 1, FlagLevel.PERHATIAN: 2, FlagLevel.TERLAMBAT: 3}
# Dukcapil has issued the NIK but BPJS does not hold it yet: cases BPJS can close today.
NIK_READY_FOR_BPJS = Q(newborn__nik_issued_on__isnull=False) & ~Q(status__in=NIK_UPDATED)
# Babies of PBI or unenrolled mothers, not registered and not yet proposed as PBI.
PBI_CANDIDATE = Q(
    status=EnrollmentStatus.BELUM_TERDAFTAR,
    pbi_proposed_on__isnull=True,
    newborn__mother__jkn_segment__in=[Segment.PBI_APBN, Segment.PBI_APBD, ""],
)


class EnrollmentQuerySet(models.QuerySet):
    def in_scope_of(self, user):
        """``Newborn.objects.in_scope_of`` on the copies of the birth this table keeps, so that every list reads
        the enrollment table alone: a bidan's babies by facility or attendance, others' by region."""
        if not can(user, Capability.VIEW_NEWBORNS):
            return self.none()
        rows = self.live()
        if bound_to_facility(user):
            return rows.filter(attended_or_born_at_q(user))
        return rows.in_region(user.region_id) if user.region_id else rows

    def at_risk(self):
        return self.filter(AT_RISK_NOW)

    def live(self):
        """Of babies not voided: what every list, count, export and job works on."""
        return self.filter(live=True)

    def born_between(self, start, end):
        rows = self.filter(birth_date__gte=start) if start else self
        return rows.filter(birth_date__lte=end) if end else rows

    def in_region(self, code: str):
        """Babies living in a region: a province, kabupaten, kecamatan or a single desa."""
        return self.filter(in_region_q(code, desa="desa_code", kabupaten="kabupaten"))

    def for_lists(self):
        return self.select_related("newborn__mother", "newborn__desa__parent", "newborn__facility")


class Enrollment(models.Model):
    """A newborn's JKN membership, from the 'By. Ny.' registration to the NIK update at BPJS."""

    newborn = models.OneToOneField(Newborn, verbose_name=_("bayi"), on_delete=models.PROTECT, related_name="enrollment")
    segment = models.CharField(_("segmen"), max_length=10, choices=Segment.choices, blank=True)
    jkn_number = models.CharField(_("nomor kartu JKN"), max_length=13, blank=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=20, choices=EnrollmentStatus.choices, default=EnrollmentStatus.BELUM_TERDAFTAR
    )
    registered_on = models.DateField(_("tanggal terdaftar"), null=True, blank=True)
    nik_updated_on = models.DateField(_("tanggal NIK diperbarui di BPJS"), null=True, blank=True)
    deactivated_on = models.DateField(_("tanggal nonaktif"), null=True, blank=True)
    pbi_proposed_on = models.DateField(_("tanggal diusulkan PBI"), null=True, blank=True)
    pbi_proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("diusulkan PBI oleh"),
    )
    # Copies of the deadlines (newborns.deadlines) so the daily job compares columns, not computations.
    registration_deadline = models.DateField(_("batas pendaftaran"), db_index=True)
    nik_deadline = models.DateField(_("batas pembaruan NIK"), db_index=True)
    registration_level = models.PositiveSmallIntegerField(
        _("tingkat pendaftaran"), choices=FlagLevel.choices, default=FlagLevel.AMAN
    )
    nik_level = models.PositiveSmallIntegerField(
        _("tingkat pembaruan NIK"), choices=FlagLevel.choices, default=FlagLevel.AMAN
    )
    updated_at = models.DateTimeField(auto_now=True, db_index=True)
    # Copies of the birth record's desa, birth date and "not voided", kept by the database itself on every
    # write to either table (migration 0016; enrollment.triggers on SQLite), whatever wrote it: a region's
    # lists filter and sort on this table alone, through one index, instead of joining every birth in scope.
    desa_code = models.CharField(_("desa/kelurahan"), max_length=13, default="", editable=False)
    birth_date = models.DateField(_("tanggal lahir"), null=True, editable=False)
    live = models.BooleanField(_("tidak dibatalkan"), default=True, editable=False)
    # And its place of birth and attending midwife: a bidan's lists and the daily digest's count per
    # recipient read this table alone (migration 0019). Copies, so no constraint of their own: the birth
    # record's keys hold them.
    facility = models.ForeignKey(
        "sejagad.Facility",
        verbose_name=_("tempat lahir (fasilitas)"),
        null=True,
        editable=False,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    attending_midwife = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("bidan penolong"),
        null=True,
        editable=False,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    kabupaten = models.GeneratedField(
        expression=Substr("desa_code", 1, KABUPATEN_CODE_LENGTH),
        output_field=models.CharField(max_length=KABUPATEN_CODE_LENGTH),
        db_persist=True,
        verbose_name=_("kabupaten/kota"),
    )
    # What the lists sort and filter on, kept by the database itself on every write (form, API, import,
    # admin, job): a page picks its rows through an index instead of computing a CASE over every row.
    worst_level = models.GeneratedField(
        expression=Greatest("registration_level", "nik_level"),
        output_field=models.PositiveSmallIntegerField(choices=FlagLevel.choices),
        db_persist=True,
        verbose_name=_("tingkat terburuk"),
    )
    # The date of the nearer deadline still to meet (registration first); empty once both are met.
    due_on = models.GeneratedField(
        expression=Case(
            When(~Q(status__in=REGISTERED), then=F("registration_deadline")),
            When(~Q(status__in=NIK_UPDATED), then=F("nik_deadline")),
            default=None,
        ),
        output_field=models.DateField(),
        db_persist=True,
        verbose_name=_("batas berikutnya"),
    )
    # The at-risk list's order by the worst level: what can still be saved today first (Kritis 0, Mendesak
    # 1, Perhatian 2), then the rest (3); see selectors.worklist.
    priority = models.GeneratedField(
        expression=Case(
            When(Q(registration_level=FlagLevel.TERLAMBAT) | Q(nik_level=FlagLevel.TERLAMBAT), then=Value(3)),
            When(Q(registration_level=FlagLevel.KRITIS) | Q(nik_level=FlagLevel.KRITIS), then=Value(0)),
            When(Q(registration_level=FlagLevel.MENDESAK) | Q(nik_level=FlagLevel.MENDESAK), then=Value(1)),
            When(Q(registration_level=FlagLevel.PERHATIAN) | Q(nik_level=FlagLevel.PERHATIAN), then=Value(2)),
            default=Value(3),
        ),
        output_field=models.PositiveSmallIntegerField(),
        db_persist=True,
    )

    objects = EnrollmentQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=[
            *("registration_level", "nik_level", "updated_at", "worst_level", "due_on", "priority"),
            *("desa_code", "birth_date", "live", "kabupaten", "facility", "attending_midwife"),
        ],
        verbose_name=_("riwayat kepesertaan JKN"),
        verbose_name_plural=_("riwayat kepesertaan JKN"),
    )

    class Meta:
        verbose_name = _("kepesertaan JKN")
        verbose_name_plural = _("kepesertaan JKN")
        indexes = [
            models.Index(fields=["status", "registration_deadline"], name="enrollment_status_deadline"),
            # Each list's page read by index in its order, among the list's own rows only: a national list
            # would otherwise pass millions of rows of other lists to find a deep page or a level's first one.
            models.Index(fields=["priority", "due_on", "newborn"], condition=SAVABLE, name="enrollment_risk_order"),
            # The at-risk list of an area (``in_region`` leads with its kabupaten).
            models.Index(
                fields=["kabupaten", "priority", "due_on", "newborn"], condition=SAVABLE, name="enrollment_area_risk"
            ),
            models.Index(
                fields=["-nik_deadline", "newborn"], condition=NEEDS_REACTIVATION, name="enrollment_reactivation"
            ),
        ]

    def __str__(self):
        return f"{self.newborn} · {self.get_status_display()}"

    @property
    def open_deadline(self):
        """(kind, date) of the deadline still to meet, the nearer first; None when both are met."""
        if self.status not in REGISTERED:
            return Deadline.REGISTRATION, self.registration_deadline
        if self.status not in NIK_UPDATED:
            return Deadline.NIK, self.nik_deadline
        return None

    @property
    def days_left(self) -> int | None:
        deadline = self.open_deadline
        return (deadline[1] - timezone.localdate()).days if deadline else None

    def get_worst_level_display(self) -> str:
        return FlagLevel(self.worst_level).label


class NotificationQuerySet(models.QuerySet):
    def live(self):
        """Of babies not voided: a voided record's notices disappear with it."""
        return self.filter(enrollment__live=True)

    def unread(self):
        return self.filter(read_at__isnull=True)


class Notification(models.Model):
    """A baby entered Kritis (at most 7 days left): one per recipient, baby, deadline and level, never
    repeated. Other levels are counted in the daily ``Digest``, not told baby by baby."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="notifications")
    deadline = models.CharField(max_length=20, choices=Deadline.choices)
    level = models.PositiveSmallIntegerField(choices=FlagLevel.choices)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("pemberitahuan")
        verbose_name_plural = _("pemberitahuan")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "enrollment", "deadline", "level"], name="one_notice_per_level"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
        ]

    def __str__(self):
        return f"{self.enrollment.newborn} · {self.get_deadline_display()} · {self.get_level_display()}"

    @property
    def deadline_date(self):
        """The deadline's date, read from the enrollment (a corrected birth date moves it)."""
        field = "registration_deadline" if self.deadline == Deadline.REGISTRATION else "nik_deadline"
        return getattr(self.enrollment, field)

    @property
    def days_left(self) -> int:
        """Days left as of today, whenever the notice is read (negative once the deadline has passed)."""
        return (self.deadline_date - timezone.localdate()).days

    def days_left_display(self) -> str:
        left = self.days_left
        if left > 0:
            return ngettext("sisa %(n)s hari", "sisa %(n)s hari", left) % {"n": left}
        if left == 0:
            return str(_("batasnya hari ini"))
        return ngettext("terlambat %(n)s hari", "terlambat %(n)s hari", -left) % {"n": -left}


@dataclass(frozen=True)
class DigestLine:
    text: str
    level: int
    n: int
    url: str


class DigestQuerySet(models.QuerySet):
    def unread(self):
        return self.filter(read_at__isnull=True)


class Digest(models.Model):
    """One summary a day per recipient: how many of her babies stand at each at-risk level of each deadline.
    ``counts`` holds [{"deadline", "level", "n"}], worst first; ``region`` is her area for the list links."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digests")
    day = models.DateField()
    counts = models.JSONField(default=list)
    total = models.PositiveIntegerField(default=0)
    region_code = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # Taken by a run of the e-mail job, which sends it and then sets emailed_at; a second delivery of the
    # job finds nothing to take. A claim older than the job's time limit was left by a dead worker.
    email_claimed_at = models.DateTimeField(null=True, blank=True)

    objects = DigestQuerySet.as_manager()

    class Meta:
        verbose_name = _("ringkasan harian")
        verbose_name_plural = _("ringkasan harian")
        ordering = ["-day", "-id"]
        constraints = [models.UniqueConstraint(fields=["recipient", "day"], name="one_digest_per_day")]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="digest_unread"),
            models.Index(fields=["id"], condition=models.Q(emailed_at__isnull=True), name="digest_unmailed"),
        ]

    def __str__(self):
        return f"{self.recipient} · {self.day:%Y-%m-%d}"

    def lines(self) -> list[DigestLine]:
        """What the digest says, line by line, each with the worklist it counts; the page and the e-mail
        both read it, so they say the same."""
        out = []
        for c in self.counts:
            query = {"level": c["level"]}
            if self.region_code:
                query["wilayah"] = self.region_code
            if c.get("list") == "aktivasi":
                url = reverse("enrollment:worklist_reactivation")
                label = _("Perlu aktivasi ulang (%(deadline)s terlewat): %(n)s bayi") % {
                    "deadline": Deadline(c["deadline"]).label,
                    "n": c["n"],
                }
            else:
                url = reverse("enrollment:worklist")
                if c["deadline"] == Deadline.REGISTRATION:
                    # Still to register: the list's status filter holds exactly the registration deadline.
                    query["status"] = EnrollmentStatus.BELUM_TERDAFTAR
                label = _("%(deadline)s · %(level)s: %(n)s bayi") % {
                    "deadline": Deadline(c["deadline"]).label,
                    "level": FlagLevel(c["level"]).label,
                    "n": c["n"],
                }
            out.append(DigestLine(str(label), c["level"], c["n"], f"{url}?{urlencode(query)}"))
        return out


class FlagRun(models.Model):
    """One run of the daily deadline job: when, for which day, how many rows it looked at (all of them on a
    full run, else only those the calendar could move) and how many babies moved to each level."""

    day = models.DateField()
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    full = models.BooleanField(default=False)
    windows = models.JSONField(default=list)
    examined = models.PositiveIntegerField(default=0)
    created_enrollments = models.PositiveIntegerField(default=0)
    moved = models.JSONField(default=dict)
    notifications = models.PositiveIntegerField(default=0)
    digests = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("pemeriksaan tenggat")
        verbose_name_plural = _("pemeriksaan tenggat")
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.day:%Y-%m-%d} · {self.started_at:%H:%M}"


class ExportLog(models.Model):
    """Exports carry personal data (UU PDP): who took which rows, when, with which filters."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    format = models.CharField(max_length=10)
    filters = models.JSONField(default=dict)
    rows = models.PositiveIntegerField()
    # A streamed export is logged before its first byte; False until its last (a download cut off midway
    # keeps the rows sent so far).
    complete = models.BooleanField(_("selesai"), default=True)

    class Meta:
        verbose_name = _("catatan unduhan")
        verbose_name_plural = _("catatan unduhan")
        ordering = ["-at"]

    def __str__(self):
        return f"{self.user} · {self.format} · {self.rows} baris"


class ReconciliationStatus(models.TextChoices):
    PREVIEW = "PREVIEW", _("Pratinjau")
    COMMITTED = "COMMITTED", _("Diterapkan")
    REJECTED = "REJECTED", _("Ditolak")


class Reconciliation(models.Model):
    """One upload of BPJS's membership list: its rows matched to our babies, shown before anything changes."""

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("diunggah oleh")
    )
    uploaded_at = models.DateTimeField(_("diunggah pada"), default=timezone.now)
    file_name = models.CharField(_("nama berkas"), max_length=255)
    status = models.CharField(
        _("status"), max_length=10, choices=ReconciliationStatus.choices, default=ReconciliationStatus.PREVIEW
    )
    # The file's own header, in its order, so unmatched rows go back to BPJS as they came.
    columns = models.JSONField(default=list)
    # One entry per data row: line, original cells, class, matched enrollment, proposed changes.
    rows = models.JSONField(default=list)
    counts = models.JSONField(default=dict)
    committed_at = models.DateTimeField(_("diterapkan pada"), null=True, blank=True)
    committed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("diterapkan oleh"),
    )
    error = models.TextField(_("alasan ditolak"), blank=True)

    class Meta:
        verbose_name = _("rekonsiliasi BPJS")
        verbose_name_plural = _("rekonsiliasi BPJS")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self):
        return f"{self.file_name} ({self.get_status_display()})"


class PbiProposalQuerySet(models.QuerySet):
    def in_scope_of(self, user):
        return self.filter(enrollment__newborn__in=Newborn.objects.in_scope_of(user))

    def standing(self):
        """Not undone: what goes to the Surat Keputusan."""
        return self.filter(cancelled_at__isnull=True)

    def of_month(self, month: datetime.date):
        return self.filter(period=month.replace(day=1))


class PbiProposal(models.Model):
    """Dinsos proposes a poor family's baby as PBI (DOMAIN.md, "PBI proposal"): who, when, which segment,
    for which monthly SK period. Undone the same day keeps the row (with who undid it) for the record."""

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="pbi_proposals", verbose_name=_("kepesertaan")
    )
    segment = models.CharField(_("segmen"), max_length=10, choices=[(s, s) for s in ("PBI-APBN", "PBI-APBD")])
    # The enrollment's segment before the proposal, put back by an undo.
    previous_segment = models.CharField(max_length=10, blank=True)
    # The SK is drawn up per month: the first day of the month the proposal was made in.
    period = models.DateField(_("periode SK"), db_index=True)
    proposed_on = models.DateField(_("tanggal usulan"))
    proposed_at = models.DateTimeField(_("diusulkan pada"), default=timezone.now)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("diusulkan oleh")
    )
    cancelled_at = models.DateTimeField(_("dibatalkan pada"), null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("dibatalkan oleh"),
    )

    objects = PbiProposalQuerySet.as_manager()

    class Meta:
        verbose_name = _("usulan PBI")
        verbose_name_plural = _("usulan PBI")
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment"], condition=Q(cancelled_at__isnull=True), name="one_standing_pbi_proposal"
            ),
        ]

    def __str__(self):
        return f"{self.enrollment.newborn} · {self.segment} · {self.proposed_on:%Y-%m-%d}"


class ExportFileStorage(FileSystemStorage):
    """Finished XLSX exports, under the var dir: never static, never MEDIA_URL; only the owner's download
    view reads them. The folder is read from settings.EXPORT_FILES_DIR at each use, not at import."""

    def __init__(self):
        super().__init__(base_url=None)

    @property
    def base_location(self):
        return str(settings.EXPORT_FILES_DIR)

    @property
    def location(self):
        return os.path.abspath(self.base_location)


def export_storage() -> ExportFileStorage:
    return ExportFileStorage()


class ExportJobStatus(models.TextChoices):
    MENUNGGU = "menunggu", _("Menunggu")
    BERJALAN = "berjalan", _("Berjalan")
    SELESAI = "selesai", _("Selesai")
    GAGAL = "gagal", _("Gagal")


EXPORT_JOB_RUNNING = [ExportJobStatus.MENUNGGU, ExportJobStatus.BERJALAN]


class ExportJob(models.Model):
    """A large worklist XLSX built by a worker into a file its requester downloads (issue #12)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("diminta oleh")
    )
    kind = models.CharField(_("daftar"), max_length=20)
    # The worklist's own query (a search's text included) so the worker rebuilds exactly the page's rows;
    # emptied with the file. ``filters`` is what the ExportLog keeps (a search only as its kind).
    params = models.JSONField(default=dict)
    filters = models.JSONField(_("filter"), default=dict)
    # A keyed hash of the params: one running job per user and list (a double click returns to it).
    fingerprint = models.CharField(max_length=64)
    status = models.CharField(
        _("status"), max_length=10, choices=ExportJobStatus.choices, default=ExportJobStatus.MENUNGGU
    )
    rows_written = models.PositiveIntegerField(_("baris ditulis"), default=0)
    rows_total = models.PositiveIntegerField(_("jumlah baris"), null=True, blank=True)
    created_at = models.DateTimeField(_("dibuat pada"), default=timezone.now)
    started_at = models.DateTimeField(_("mulai pada"), null=True, blank=True)
    finished_at = models.DateTimeField(_("selesai pada"), null=True, blank=True)
    error = models.TextField(_("kesalahan"), blank=True)
    file = models.FileField(_("berkas"), storage=export_storage, blank=True)
    export_log = models.ForeignKey(
        ExportLog, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("catatan unduhan")
    )

    class Meta:
        verbose_name = _("pekerjaan ekspor")
        verbose_name_plural = _("pekerjaan ekspor")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "fingerprint"],
                condition=Q(status__in=EXPORT_JOB_RUNNING),
                name="one_running_export_per_list",
            ),
        ]
        indexes = [models.Index(fields=["user", "-created_at"], name="export_job_user_recent")]

    def __str__(self):
        return f"{self.user} · {self.kind} · {self.get_status_display()}"

    @property
    def is_running(self) -> bool:
        return self.status in EXPORT_JOB_RUNNING

    @property
    def can_download(self) -> bool:
        return self.status == ExportJobStatus.SELESAI and bool(self.file)

    @property
    def is_expired(self) -> bool:
        """Finished, and its file deleted by the sweep (settings.EXPORT_FILE_HOURS)."""
        return self.status == ExportJobStatus.SELESAI and not self.file

    @property
    def can_retry(self) -> bool:
        # The sweep empties the params with the file: an old failure is started again from the list.
        return self.status == ExportJobStatus.GAGAL and bool(self.params)


class BirthSummary(models.Model):
    """Live babies of one birth month in one desa (``desa`` set) or one whole kabupaten (``desa`` empty), as
    the dashboard counts them: what its figures, levels, monthly line and region table add up, instead of
    re-reading every baby in scope on each view. Kept by ``enrollment.summary`` (docs/ARCHITECTURE.md)."""

    kabupaten = models.CharField(max_length=5)
    desa = models.CharField(max_length=13, blank=True)
    month = models.DateField()
    # The day the counts were made for: the deadline figures of recent months change with the calendar.
    day = models.DateField()
    births = models.PositiveIntegerField(default=0)
    registered = models.PositiveIntegerField(default=0)
    in_kk = models.PositiveIntegerField(default=0)
    with_nik = models.PositiveIntegerField(default=0)
    bpjs_updated = models.PositiveIntegerField(default=0)
    registration_due = models.PositiveIntegerField(default=0)
    registered_in_time = models.PositiveIntegerField(default=0)
    nik_due = models.PositiveIntegerField(default=0)
    nik_in_time = models.PositiveIntegerField(default=0)
    reactivation = models.PositiveIntegerField(default=0)
    bpjs_ready = models.PositiveIntegerField(default=0)
    pbi_candidates = models.PositiveIntegerField(default=0)
    deactivated_this_month = models.PositiveIntegerField(default=0)
    # Each list's babies at each at-risk level (its level badges): the at-risk list's, then the others'.
    level_5 = models.PositiveIntegerField(default=0)
    level_4 = models.PositiveIntegerField(default=0)
    level_3 = models.PositiveIntegerField(default=0)
    level_2 = models.PositiveIntegerField(default=0)
    reactivation_level_5 = models.PositiveIntegerField(default=0)
    reactivation_level_4 = models.PositiveIntegerField(default=0)
    reactivation_level_3 = models.PositiveIntegerField(default=0)
    reactivation_level_2 = models.PositiveIntegerField(default=0)
    bpjs_ready_level_5 = models.PositiveIntegerField(default=0)
    bpjs_ready_level_4 = models.PositiveIntegerField(default=0)
    bpjs_ready_level_3 = models.PositiveIntegerField(default=0)
    bpjs_ready_level_2 = models.PositiveIntegerField(default=0)
    pbi_candidates_level_5 = models.PositiveIntegerField(default=0)
    pbi_candidates_level_4 = models.PositiveIntegerField(default=0)
    pbi_candidates_level_3 = models.PositiveIntegerField(default=0)
    pbi_candidates_level_2 = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kabupaten", "desa", "month"], name="one_summary_per_month"),
        ]
        indexes = [
            # A province reads its kabupaten rows; every other region reads its kabupaten's desa rows.
            models.Index(fields=["month"], condition=Q(desa=""), name="summary_kabupaten_rows"),
        ]

    def __str__(self):
        return f"{self.desa or self.kabupaten} · {self.month:%Y-%m}"


class BirthSummaryMark(models.Model):
    """A desa whose babies or memberships were written since its summary was made. Written by database
    triggers (migration 0012) on every write to a birth or a membership, whatever path made it; claimed and
    removed by ``summary.refresh``. No desa (""): a region or a facility was written (migration 0020), which
    recounts nothing but makes a new version, for the names cached pages show."""

    desa = models.CharField(max_length=13)
    claim = models.UUIDField(null=True)

    def __str__(self):
        return self.desa


class BirthSummaryState(models.Model):
    """One row: the day the summary's calendar-dependent figures were last made for (none: build it all), and
    a new random version each time a refresh changes it, for caches of what it adds up."""

    day = models.DateField()
    version = models.UUIDField(default=uuid.uuid4)

    def __str__(self):
        return f"{self.day}"


# --- Reminders to the family (WhatsApp/SMS) -----------------------------------------------------------------


class ReminderTrigger(models.TextChoices):
    """What a reminder step counts its day from."""

    AFTER_BIRTH = "after_birth", _("Hari setelah lahir")
    BEFORE_REGISTRATION = "before_registration", _("Hari sebelum batas daftar JKN (28 hari)")
    BEFORE_NIK = "before_nik", _("Hari sebelum batas pembaruan NIK (3 bulan)")
    NIK_RECORDED = "nik_recorded", _("Hari setelah NIK bayi dicatat")


# The words a template may use, each filled in for one baby when the message is sent.
REMINDER_PLACEHOLDERS = {
    "nama_bayi": _("nama sementara bayi (By. Ny. ...)"),
    "tanggal_lahir": _("tanggal lahir"),
    "batas_daftar": _("batas daftar JKN (28 hari)"),
    "batas_nik": _("batas pembaruan NIK (3 bulan)"),
    "sisa_hari": _("sisa hari sampai batas langkah ini"),
    "kantor_dukcapil": _("kantor Dukcapil"),
    "kanal_bpjs": _("cara memperbarui data di BPJS"),
}


def validate_template(text: str) -> None:
    """A template may use only the known placeholders, written {like_this}."""
    try:
        text.format_map(dict.fromkeys(REMINDER_PLACEHOLDERS, ""))
    except KeyError as exc:
        raise ValidationError(
            _("Tanda {%(name)s} tidak dikenal. Yang boleh dipakai: %(known)s.")
            % {"name": exc.args[0], "known": ", ".join(f"{{{k}}}" for k in REMINDER_PLACEHOLDERS)}
        ) from None
    except (ValueError, IndexError):
        raise ValidationError(_("Kurung kurawal tidak berpasangan; tulis tanda seperti {nama_bayi}.")) from None


class ReminderStep(models.Model):
    """One message of the schedule, edited by an admin: when (a trigger and a day count) and what (a template
    with placeholders such as {nama_bayi}). Each step goes to a baby at most once."""

    code = models.SlugField(_("kode"), max_length=40, unique=True)
    name = models.CharField(_("nama langkah"), max_length=100)
    trigger = models.CharField(_("dihitung dari"), max_length=20, choices=ReminderTrigger.choices)
    days = models.PositiveSmallIntegerField(
        _("jumlah hari"), help_text=_("Mis. 7 dengan 'hari sebelum batas daftar' = 7 hari sebelum batas 28 hari.")
    )
    template = models.TextField(
        _("isi pesan"),
        validators=[validate_template],
        help_text=_(
            "Boleh memakai: {nama_bayi}, {tanggal_lahir}, {batas_daftar}, {batas_nik}, "
            "{sisa_hari}, {kantor_dukcapil}, {kanal_bpjs}."
        ),
    )
    is_active = models.BooleanField(_("aktif"), default=True)

    class Meta:
        verbose_name = _("langkah pengingat")
        verbose_name_plural = _("langkah pengingat")
        ordering = ["trigger", "-days", "code"]

    def __str__(self):
        return self.name


class MessageStatus(models.TextChoices):
    QUEUED = "queued", _("Antre")
    SENT = "sent", _("Terkirim ke gateway")
    DELIVERED = "delivered", _("Diterima")
    FAILED = "failed", _("Gagal")
    STOPPED = "stopped", _("Dihentikan")
    SKIPPED = "skipped", _("Dilewati (sudah dipenuhi)")


class ReminderMessageQuerySet(models.QuerySet):
    def in_scope_of(self, user):
        return self.filter(newborn__in=Newborn.objects.in_scope_of(user))


class ReminderMessage(models.Model):
    """The outbox: one row per step and baby (a unique constraint), from queued to delivered or failed."""

    newborn = models.ForeignKey(
        Newborn, verbose_name=_("bayi"), on_delete=models.PROTECT, related_name="reminder_messages"
    )
    step = models.ForeignKey(ReminderStep, verbose_name=_("langkah"), on_delete=models.PROTECT, related_name="+")
    phone = models.CharField(_("nomor HP"), max_length=20)
    body = models.TextField(_("isi pesan"), blank=True)
    status = models.CharField(_("status"), max_length=10, choices=MessageStatus.choices, default=MessageStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("percobaan"), default=0)
    gateway_id = models.CharField(_("id gateway"), max_length=100, blank=True, db_index=True)
    last_error = models.CharField(_("kesalahan terakhir"), max_length=200, blank=True)
    queued_at = models.DateTimeField(_("diantrekan pada"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("coba lagi pada"), default=timezone.now)
    # A sender holds its rows until then; a redelivered task finds them held, or already sent.
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim = models.UUIDField(null=True, blank=True)
    sent_at = models.DateTimeField(_("dikirim pada"), null=True, blank=True, db_index=True)  # the daily cap
    delivered_at = models.DateTimeField(_("diterima pada"), null=True, blank=True)
    resent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("dikirim ulang oleh"),
    )
    resent_at = models.DateTimeField(_("dikirim ulang pada"), null=True, blank=True)

    objects = ReminderMessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("pesan pengingat")
        verbose_name_plural = _("pesan pengingat")
        ordering = ["-queued_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["newborn", "step"], name="one_reminder_per_step_and_baby"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="queued"), name="reminder_queued_due"),
        ]

    def __str__(self):
        return f"{self.newborn} · {self.step} · {self.get_status_display()}"

    @property
    def can_resend(self) -> bool:
        """Sent, delivered, failed, or stopped (the family may have agreed again): not queued, not met."""
        return self.status in (MessageStatus.FAILED, MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.STOPPED)
