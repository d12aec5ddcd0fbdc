from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from newborns.models import Newborn, Segment


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


class EnrollmentQuerySet(models.QuerySet):
    def in_scope_of(self, user):
        return self.filter(newborn__in=Newborn.objects.in_scope_of(user))

    def at_risk(self):
        return self.filter(Q(registration_level__in=AT_RISK) | Q(nik_level__in=AT_RISK))

    def live(self):
        """Of babies not voided: what every list, count, export and job works on."""
        return self.filter(newborn__voided_at__isnull=True)

    def born_between(self, start, end):
        rows = self.filter(newborn__birth_date__gte=start) if start else self
        return rows.filter(newborn__birth_date__lte=end) if end else rows

    def in_region(self, code: str):
        """Babies living in a region: a kabupaten, kecamatan or a single desa."""
        return self.filter(Q(newborn__desa_id=code) | Q(newborn__desa__code__startswith=code + "."))

    def nik_ready_for_bpjs(self):
        """Dukcapil has issued the NIK but BPJS does not hold it yet: cases BPJS can close today."""
        return self.filter(newborn__nik_issued_on__isnull=False).exclude(status__in=NIK_UPDATED)

    def pbi_candidates(self):
        """Babies of PBI or unenrolled mothers, not registered and not yet proposed as PBI."""
        return self.filter(
            status=EnrollmentStatus.BELUM_TERDAFTAR,
            pbi_proposed_on__isnull=True,
            newborn__mother__jkn_segment__in=[Segment.PBI_APBN, Segment.PBI_APBD, ""],
        )

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

    objects = EnrollmentQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["registration_level", "nik_level", "updated_at"])

    class Meta:
        verbose_name = _("kepesertaan JKN")
        verbose_name_plural = _("kepesertaan JKN")
        indexes = [
            models.Index(fields=["status", "registration_deadline"], name="enrollment_status_deadline"),
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

    @property
    def worst_level(self) -> int:
        return max(self.registration_level, self.nik_level)

    def get_worst_level_display(self) -> str:
        return FlagLevel(self.worst_level).label


class NotificationQuerySet(models.QuerySet):
    def live(self):
        """Of babies not voided: a voided record's notices disappear with it."""
        return self.filter(enrollment__newborn__voided_at__isnull=True)


class Notification(models.Model):
    """A baby moved to a worse level: one per recipient, baby, deadline and level, never repeated."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="notifications")
    deadline = models.CharField(max_length=20, choices=Deadline.choices)
    level = models.PositiveSmallIntegerField(choices=FlagLevel.choices)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # Taken by a run of the e-mail job, which sends the digest and then sets emailed_at; a second delivery
    # of the job finds nothing to take. A claim older than the job's time limit was left by a dead worker.
    email_claimed_at = models.DateTimeField(null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "enrollment", "deadline", "level"], name="one_notice_per_level"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
            # The e-mail job walks the recipients of notices not yet mailed, in order.
            models.Index(
                fields=["recipient"], condition=models.Q(emailed_at__isnull=True), name="notification_unmailed"
            ),
        ]

    def __str__(self):
        return f"{self.enrollment.newborn} · {self.get_deadline_display()} · {self.get_level_display()}"


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

    class Meta:
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

    class Meta:
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
