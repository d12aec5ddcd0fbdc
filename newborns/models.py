import datetime
import uuid

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from newborns import deadlines
from sejagad.models import KABUPATEN_CODE_LENGTH, Facility, Region, in_region_q
from sejagad.roles import Capability, bound_to_facility, can
from sejagad.text import clean_number, is_ascii_number


class Sex(models.TextChoices):
    LAKI_LAKI = "L", _("Laki-laki")
    PEREMPUAN = "P", _("Perempuan")


class Segment(models.TextChoices):
    PBI_APBN = "PBI-APBN", _("PBI APBN (iuran dibayar negara)")
    PBI_APBD = "PBI-APBD", _("PBI APBD (iuran dibayar Pemda)")
    PPU = "PPU", _("PPU (pekerja penerima upah)")
    PBPU = "PBPU", _("PBPU (pekerja bukan penerima upah / mandiri)")
    BP = "BP", _("BP (bukan pekerja)")


class DocumentStatus(models.TextChoices):
    """Where a baby stands in the Dukcapil pipeline, derived from the document dates."""

    BELUM_ADA = "belum_ada", _("Belum ada dokumen")
    MASUK_KK = "masuk_kk", _("Sudah masuk KK")
    AKTA_TERBIT = "akta_terbit", _("Akta lahir terbit")
    NIK_TERBIT = "nik_terbit", _("NIK terbit")


class StopSource(models.TextChoices):
    REPLY = "balasan", _("Balasan STOP dari keluarga")
    STAFF = "petugas", _("Petugas di halaman bayi")


class MotherQuerySet(models.QuerySet):
    def reachable(self):
        """Mothers who agreed to reminders, did not stop them and have a mobile number."""
        return self.filter(reminder_consent_at__isnull=False, reminders_stopped_at__isnull=True).exclude(phone="")


class Mother(models.Model):
    nik = models.CharField(_("NIK ibu"), max_length=16, unique=True)
    name = models.CharField(_("nama ibu"), max_length=100)
    kk_number = models.CharField(_("nomor KK"), max_length=16, blank=True)
    phone = models.CharField(_("nomor HP"), max_length=20, blank=True)
    desa = models.ForeignKey(
        Region, verbose_name=_("desa/kelurahan domisili"), on_delete=models.PROTECT, related_name="+"
    )
    jkn_number = models.CharField(_("nomor kartu JKN ibu"), max_length=13, blank=True)
    jkn_segment = models.CharField(_("segmen JKN ibu"), max_length=10, choices=Segment.choices, blank=True)
    # Reminders to the family (UU PDP): the mother's consent and who recorded it; a STOP reply or staff on the
    # baby's page withdraws it, also with who and when. No consent, or stopped: no message.
    reminder_consent_at = models.DateTimeField(_("setuju menerima pengingat pada"), null=True, blank=True)
    reminder_consent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("persetujuan dicatat oleh"),
    )
    reminders_stopped_at = models.DateTimeField(_("pengingat dihentikan pada"), null=True, blank=True)
    reminders_stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("pengingat dihentikan oleh"),
    )
    reminders_stop_source = models.CharField(
        _("cara penghentian"), max_length=10, choices=StopSource.choices, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MotherQuerySet.as_manager()
    history = HistoricalRecords(verbose_name=_("riwayat ibu"), verbose_name_plural=_("riwayat ibu"))

    class Meta:
        verbose_name = _("ibu")
        verbose_name_plural = _("ibu")

    def __str__(self):
        return self.name

    @property
    def can_be_reminded(self) -> bool:
        return bool(self.phone and self.reminder_consent_at and not self.reminders_stopped_at)


def as_identity_number(text: str) -> str:
    """The digits of a search written as a number (``7322.0357-0895 0001``), or "" for a name."""
    number = clean_number(text)  # full-width or Arabic-Indic digits find the ASCII number that is stored
    return number if is_ascii_number(number) else ""


def attended_or_born_at_q(user) -> Q:
    """A bidan's babies: born at her facility or attended by her. The same field names on ``Newborn`` and on
    the copies ``Enrollment`` keeps, so both tables scope her the same way."""
    attended = Q(attending_midwife=user)
    return attended | Q(facility_id=user.facility_id) if user.facility_id else attended


class NewbornQuerySet(models.QuerySet):
    def live(self):
        """Not voided: the records every list, count, export and job works on."""
        return self.filter(voided_at__isnull=True)

    def voided(self):
        return self.filter(voided_at__isnull=False)

    def in_scope_of(self, user):
        """The live babies a user may see (``within_reach_of`` plus not voided)."""
        return self.within_reach_of(user).live()

    def within_reach_of(self, user):
        """The babies a user may see, voided ones included: a bidan those born at her facility or attended
        by her; others those living in their region (all when no region); nobody without the capability."""
        if not can(user, Capability.VIEW_NEWBORNS):
            return self.none()
        if bound_to_facility(user):
            return self.filter(attended_or_born_at_q(user))
        if user.region_id:
            return self.in_region(user.region_id)
        return self

    def in_region(self, code: str):
        """Babies living in a region: a province, kabupaten, kecamatan or a single desa."""
        return self.filter(in_region_q(code, desa="desa__code", kabupaten="kabupaten"))

    def search(self, text: str):
        """Digits find a whole NIK (mother or baby) or KK number; words find part of a name."""
        if number := as_identity_number(text):
            return self.filter(Q(mother__nik=number) | Q(nik=number) | Q(mother__kk_number=number))
        return self.filter(
            Q(mother__name__icontains=text) | Q(temporary_name__icontains=text) | Q(given_name__icontains=text)
        )

    def born_between(self, start: datetime.date | None, end: datetime.date | None):
        babies = self.filter(birth_date__gte=start) if start else self
        return babies.filter(birth_date__lte=end) if end else babies

    def born_in_month(self, year: int, month: int):
        first = datetime.date(year, month, 1)
        return self.filter(birth_date__gte=first, birth_date__lt=first + relativedelta(months=1))

    def without_nik(self):
        return self.filter(nik_issued_on__isnull=True)

    def with_document_status(self, status: str):
        return self.filter(
            **{
                DocumentStatus.NIK_TERBIT: {"nik_issued_on__isnull": False},
                DocumentStatus.AKTA_TERBIT: {"nik_issued_on__isnull": True, "akta_issued_on__isnull": False},
                DocumentStatus.MASUK_KK: {
                    "nik_issued_on__isnull": True,
                    "akta_issued_on__isnull": True,
                    "kk_added_on__isnull": False,
                },
                DocumentStatus.BELUM_ADA: {
                    "nik_issued_on__isnull": True,
                    "akta_issued_on__isnull": True,
                    "kk_added_on__isnull": True,
                },
            }[status]
        )

    def for_lists(self):
        return self.select_related("mother", "desa__parent", "facility")


class Newborn(models.Model):
    mother = models.ForeignKey(Mother, verbose_name=_("ibu"), on_delete=models.PROTECT, related_name="babies")
    birth_date = models.DateField(_("tanggal lahir"), db_index=True)
    birth_time = models.TimeField(_("jam lahir"), null=True, blank=True)
    sex = models.CharField(_("jenis kelamin"), max_length=1, choices=Sex.choices)
    birth_order = models.PositiveSmallIntegerField(
        _("urutan kelahiran"), default=1, help_text=_("1 untuk kelahiran tunggal; 1, 2, 3 untuk kembar.")
    )
    weight_grams = models.PositiveIntegerField(_("berat lahir (gram)"))
    length_cm = models.DecimalField(_("panjang lahir (cm)"), max_digits=4, decimal_places=1, null=True, blank=True)
    # Where the family lives: the desa that reports, coverage and Dukcapil work by.
    desa = models.ForeignKey(
        Region, verbose_name=_("desa/kelurahan domisili"), on_delete=models.PROTECT, related_name="+"
    )
    # The desa's kabupaten, kept by the database: the lists of an area start their index with it.
    kabupaten = models.GeneratedField(
        expression=Substr("desa", 1, KABUPATEN_CODE_LENGTH),
        output_field=models.CharField(max_length=KABUPATEN_CODE_LENGTH),
        db_persist=True,
        verbose_name=_("kabupaten/kota"),
    )
    # Place of birth: a facility, or at home (in the family's desa) when empty.
    facility = models.ForeignKey(
        Facility,
        verbose_name=_("tempat lahir (fasilitas)"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="births",
    )
    attending_midwife = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("bidan penolong"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="attended_births",
    )
    temporary_name = models.CharField(_("nama sementara"), max_length=130, db_index=True, editable=False)
    given_name = models.CharField(_("nama bayi"), max_length=100, blank=True)

    # NULL, not "", for "no NIK yet": the unique constraint must not treat every such baby as one.
    nik = models.CharField(_("NIK bayi"), max_length=16, null=True, blank=True, db_index=True)  # noqa: DJ001
    kk_added_on = models.DateField(_("tanggal masuk KK"), null=True, blank=True)
    kk_added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("dicatat masuk KK oleh"),
    )
    akta_number = models.CharField(_("nomor akta kelahiran"), max_length=50, blank=True)
    akta_issued_on = models.DateField(_("tanggal akta terbit"), null=True, blank=True)
    akta_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("akta dicatat oleh"),
    )
    nik_issued_on = models.DateField(_("tanggal NIK terbit"), null=True, blank=True)
    nik_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("NIK dicatat oleh"),
    )

    # The form's one-time key: a double tap or a resent form finds the record the first send made.
    submission_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("dicatat oleh")
    )
    created_at = models.DateTimeField(_("dicatat pada"), auto_now_add=True)
    updated_at = models.DateTimeField(_("diubah pada"), auto_now=True, db_index=True)

    # A mistaken record (a test entry, a birth recorded twice) is voided, never deleted: it leaves every list,
    # count, export and job, keeps its history, and can be restored.
    voided_at = models.DateTimeField(_("dibatalkan pada"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("dibatalkan oleh"),
    )
    void_reason = models.CharField(_("alasan pembatalan"), max_length=200, blank=True)

    # The baby's number in SATUSEHAT's Master Patient Index, answered when its Patient was created there.
    ihs_number = models.CharField(_("nomor IHS (SATUSEHAT)"), max_length=20, blank=True, db_index=True)

    objects = NewbornQuerySet.as_manager()
    history = HistoricalRecords(
        excluded_fields=["submission_key", "kabupaten"],
        verbose_name=_("riwayat bayi"),
        verbose_name_plural=_("riwayat bayi"),
    )

    class Meta:
        verbose_name = _("bayi")
        verbose_name_plural = _("bayi")
        ordering = ["-birth_date", "-id"]
        constraints = [
            # A voided record no longer blocks the real one.
            models.UniqueConstraint(
                fields=["mother", "birth_date", "birth_order"],
                condition=Q(voided_at__isnull=True),
                name="one_birth_per_mother_date_order",
            ),
            models.UniqueConstraint(fields=["nik"], condition=Q(voided_at__isnull=True), name="one_live_baby_per_nik"),
            models.CheckConstraint(condition=Q(weight_grams__gte=300, weight_grams__lte=7000), name="weight_in_range"),
            models.CheckConstraint(condition=Q(birth_order__gte=1, birth_order__lte=9), name="birth_order_in_range"),
            models.CheckConstraint(condition=Q(sex__in=["L", "P"]), name="sex_l_or_p"),
        ]
        indexes = [
            models.Index(fields=["nik_issued_on", "birth_date"], name="newborn_doc_worklist"),
            # The live babies of an area, newest first (``in_region``, ``live()`` and Meta.ordering). Partial, so
            # that the list's capped count reads the index alone: 2 ms for 9,169 babies, 5.8 ms reading each row.
            models.Index(
                fields=["kabupaten", "-birth_date", "-id"],
                condition=Q(voided_at__isnull=True),
                name="newborn_area_live",
            ),
            # The few voided records, so a job can leave them out without reading every live one.
            models.Index(fields=["id"], condition=Q(voided_at__isnull=False), name="newborn_voided"),
        ]

    def __str__(self):
        return self.temporary_name

    @property
    def document_status(self) -> str:
        if self.nik_issued_on:
            return DocumentStatus.NIK_TERBIT
        if self.akta_issued_on:
            return DocumentStatus.AKTA_TERBIT
        if self.kk_added_on:
            return DocumentStatus.MASUK_KK
        return DocumentStatus.BELUM_ADA

    def get_document_status_display(self) -> str:
        return DocumentStatus(self.document_status).label

    @property
    def registration_deadline(self) -> datetime.date:
        return deadlines.registration_deadline(self.birth_date)

    @property
    def nik_deadline(self) -> datetime.date:
        return deadlines.nik_deadline(self.birth_date)

    @property
    def display_name(self) -> str:
        return self.given_name or self.temporary_name

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None

    @property
    def kecamatan(self) -> Region:
        return self.desa.parent


def working_in(code: str, prefix: str = "") -> Q:
    """Users whose region, or whose facility's region, lies within a region (``prefix`` reaches a user)."""
    q = Q()
    for path in ("region", "facility__region"):
        q |= Q(**{f"{prefix}{path}_id": code}) | Q(**{f"{prefix}{path}__code__startswith": code + "."})
    return q


class AccessPoint(models.TextChoices):
    """Where a whole NIK or KK number was shown."""

    DETAIL = "detail", _("Halaman bayi")
    FORM = "form", _("Formulir perbaikan atau dokumen")
    API_RETRIEVE = "api_retrieve", _("API: data satu bayi")
    SEARCH = "search", _("Pencarian NIK/KK")
    EXPORT = "export", _("Unduhan daftar kerja")
    ADMIN_EXPORT = "admin_export", _("Unduhan admin")
    API_FHIR = "api_fhir", _("API FHIR: Patient")


class IdentityAccessQuerySet(models.QuerySet):
    def visible_to(self, user):
        """What a Dinkes admin may read: views by users of their region or of babies within it (all when
        the admin has no region)."""
        region = user.region_id
        if not region:
            return self
        return self.filter(working_in(region, "user__") | Q(newborn__in=Newborn.objects.in_region(region)))


class IdentityAccess(models.Model):
    """Who was shown whole NIK or KK numbers, where and when (UU PDP 27/2022). The numbers themselves are
    never stored: a row names the baby, or for a list or export only how many babies it held."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("pengguna"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # led by the (user, at) index
    )
    newborn = models.ForeignKey(
        Newborn,
        verbose_name=_("bayi"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # led by the (newborn, at) index
    )
    where = models.CharField(_("tempat"), max_length=20, choices=AccessPoint.choices)
    count = models.PositiveIntegerField(_("jumlah bayi"), default=1)
    at = models.DateTimeField(_("waktu"), default=timezone.now)

    objects = IdentityAccessQuerySet.as_manager()

    class Meta:
        verbose_name = _("akses NIK/KK")
        verbose_name_plural = _("akses NIK/KK")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["-at", "-id"], name="identity_access_recent"),
            models.Index(fields=["user", "-at"], name="identity_access_by_user"),
            models.Index(fields=["newborn", "-at"], name="identity_access_by_baby"),
        ]

    def __str__(self):
        return f"{self.user} · {self.get_where_display()} · {self.at:%Y-%m-%d %H:%M}"


class SatusehatAction(models.TextChoices):
    CREATE = "create", _("Buat Patient dan berat lahir")
    ADD_NIK = "add_nik", _("Tambahkan NIK")


class SatusehatStatus(models.TextChoices):
    PENDING = "pending", _("Belum dikirim")
    SENDING = "sending", _("Sedang dikirim")
    SENT = "sent", _("Terkirim")
    FAILED = "failed", _("Galat")
    # The NIK patch was refused because SATUSEHAT already holds a Dukcapil-validated Patient with that NIK:
    # the "Bayi Ny." Patient was linked to it instead (Patient.link) and its IHS number became the baby's.
    MERGED = "merged", _("Digabung")
    SKIPPED = "skipped", _("Tidak dikirim (data dibatalkan)")


class SatusehatOutboxQuerySet(models.QuerySet):
    def due(self, now=None):
        """Rows a sender may claim: waiting and due, or left "sending" by a worker that died (lease expired)."""
        now = now or timezone.now()
        lease = now - datetime.timedelta(seconds=settings.SATUSEHAT_LEASE_SECONDS)
        return self.filter(
            Q(status=SatusehatStatus.PENDING, next_attempt_at__lte=now)
            | Q(status=SatusehatStatus.SENDING, claimed_at__lt=lease)
        )


class SatusehatOutbox(models.Model):
    """One message to SATUSEHAT per baby and action, written in the transaction that changed the birth and
    sent afterwards by a worker that claims it first (so a redelivered task sends nothing twice)."""

    newborn = models.ForeignKey(Newborn, verbose_name=_("bayi"), on_delete=models.CASCADE, related_name="satusehat")
    action = models.CharField(_("aksi"), max_length=10, choices=SatusehatAction.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=SatusehatStatus.choices, default=SatusehatStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("percobaan"), default=0)
    last_error = models.CharField(_("galat terakhir"), max_length=500, blank=True)
    # The birth-weight Observation's id, once created: a retry after it never posts it twice.
    observation_id = models.CharField(_("id Observation"), max_length=64, blank=True)
    # A merge in progress or done (NIK patch only): the "Bayi Ny." Patient linked from, and the NIK Patient
    # it now points to. Kept before the link is sent, so a retry or redelivery finishes the same merge.
    merged_from = models.CharField(_('IHS "Bayi Ny." yang digabung'), max_length=20, blank=True)
    merged_into = models.CharField(_("IHS Patient NIK"), max_length=20, blank=True)
    next_attempt_at = models.DateTimeField(_("kirim mulai"), default=timezone.now)
    claimed_at = models.DateTimeField(_("diambil pada"), null=True, blank=True)
    sent_at = models.DateTimeField(_("terkirim pada"), null=True, blank=True)
    created_at = models.DateTimeField(_("dibuat pada"), auto_now_add=True)
    updated_at = models.DateTimeField(_("diubah pada"), auto_now=True)

    objects = SatusehatOutboxQuerySet.as_manager()

    class Meta:
        verbose_name = _("kiriman SATUSEHAT")
        verbose_name_plural = _("kiriman SATUSEHAT")
        constraints = [
            models.UniqueConstraint(fields=["newborn", "action"], name="one_satusehat_message_per_baby_action")
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="satusehat_outbox_due")]

    def __str__(self):
        return f"{self.newborn} · {self.get_action_display()} · {self.get_status_display()}"
