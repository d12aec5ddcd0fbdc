from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from sejagad.roles import Role, bound_to_facility, can


class RegionLevel(models.TextChoices):
    PROVINSI = "provinsi", _("Provinsi")
    KABUPATEN_KOTA = "kabupaten_kota", _("Kabupaten/Kota")
    KECAMATAN = "kecamatan", _("Kecamatan")
    DESA_KELURAHAN = "desa_kelurahan", _("Desa/Kelurahan")


# Dotted code length for each level: 73 / 73.22 / 73.22.03 / 73.22.03.2004
LEVEL_BY_CODE_LENGTH = {
    2: RegionLevel.PROVINSI,
    5: RegionLevel.KABUPATEN_KOTA,
    8: RegionLevel.KECAMATAN,
    13: RegionLevel.DESA_KELURAHAN,
}


class RegionQuerySet(models.QuerySet):
    def within(self, region: "Region | str"):
        """The region (or dotted code) itself and everything below it (codes share the dotted prefix)."""
        code = getattr(region, "code", region)
        return self.filter(models.Q(code=code) | models.Q(code__startswith=code + "."))

    def kecamatan(self):
        return self.filter(level=RegionLevel.KECAMATAN)

    def desa(self):
        return self.filter(level=RegionLevel.DESA_KELURAHAN)


class Region(models.Model):
    """A Kemendagri region; the dotted code is the key, so loads and imports upsert by it."""

    code = models.CharField(_("kode Kemendagri"), max_length=13, primary_key=True)
    name = models.CharField(_("nama"), max_length=100)
    level = models.CharField(_("tingkat"), max_length=20, choices=RegionLevel.choices, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("induk"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    postal_code = models.CharField(_("kode pos"), max_length=5, blank=True)

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("wilayah")
        verbose_name_plural = _("wilayah")
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.code})"

    @property
    def is_kelurahan(self) -> bool:
        return self.level == RegionLevel.DESA_KELURAHAN and self.code.split(".")[-1].startswith("1")

    @property
    def plain_code(self) -> str:
        """The code without dots, as in the first six digits of a NIK."""
        return self.code.replace(".", "")

    def contains(self, other: "Region | None") -> bool:
        return other is not None and self.contains_code(other.code)

    def contains_code(self, code: str) -> bool:
        """This region itself, or any region below it, by its dotted code."""
        return code_within(code, self.code)


def code_within(code: str, region_code: str) -> bool:
    """Whether the dotted ``code`` is the region ``region_code`` itself or lies below it."""
    return code == region_code or code.startswith(region_code + ".")


KABUPATEN_CODE_LENGTH = 5  # "73.22"


def in_region_q(code: str, *, desa: str, kabupaten: str) -> models.Q:
    """Rows whose desa (the lookup ``desa``) lies in the region ``code``, for a table that stores its desa's
    kabupaten code (``kabupaten``): ``code_within`` as a filter, led by an equality on the kabupaten wherever
    the region lies in one, so that an index starting with the kabupaten answers it. A code prefix cannot
    use such an index under the server's collation."""
    if len(code) < KABUPATEN_CODE_LENGTH:  # a province
        return models.Q(**{f"{kabupaten}__startswith": code + "."})
    area = models.Q(**{kabupaten: code[:KABUPATEN_CODE_LENGTH]})
    if len(code) == KABUPATEN_CODE_LENGTH:
        return area
    return area & (models.Q(**{desa: code}) | models.Q(**{f"{desa}__startswith": code + "."}))


class FacilityKind(models.TextChoices):
    PUSKESMAS = "puskesmas", _("Puskesmas")
    RUMAH_SAKIT = "rumah_sakit", _("Rumah sakit")
    KLINIK = "klinik", _("Klinik")
    PRAKTIK_MANDIRI_BIDAN = "pmb", _("Praktik mandiri bidan")


class Facility(models.Model):
    """A place where babies are born and midwives work, located in a desa or kecamatan."""

    code = models.CharField(
        _("kode"), max_length=20, unique=True, help_text=_("Kode faskes (BPJS) atau kode internal.")
    )
    name = models.CharField(_("nama"), max_length=150)
    kind = models.CharField(_("jenis"), max_length=20, choices=FacilityKind.choices)
    region = models.ForeignKey(Region, verbose_name=_("wilayah"), on_delete=models.PROTECT, related_name="facilities")
    address = models.CharField(_("alamat"), max_length=255, blank=True)
    is_active = models.BooleanField(_("aktif"), default=True)

    class Meta:
        verbose_name = _("fasilitas kesehatan")
        verbose_name_plural = _("fasilitas kesehatan")
        ordering = ["name"]

    def __str__(self):
        return self.name


class User(AbstractUser):
    """A person using SEJAGAD SEHAT: a bidan works at a facility, everyone else covers a region."""

    role = models.CharField(_("peran"), max_length=20, choices=Role.choices, blank=True)
    facility = models.ForeignKey(
        Facility, verbose_name=_("fasilitas"), null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("wilayah kerja"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Kosongkan untuk seluruh wilayah yang dimuat."),
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("pengguna")
        verbose_name_plural = _("pengguna")

    def clean(self):
        super().clean()
        if self.role == Role.BIDAN and not self.facility_id:
            raise ValidationError({"facility": _("Bidan harus terdaftar pada sebuah fasilitas kesehatan.")})
        if self.role == Role.SISTEM_FASKES and not self.facility_id:
            raise ValidationError({"facility": _("Sistem fasilitas harus terikat pada satu fasilitas kesehatan.")})

    def can(self, capability: str) -> bool:
        return can(self, capability)

    @property
    def scope_region(self) -> Region | None:
        """The region whose records this user sees; None means every loaded region."""
        if bound_to_facility(self) and self.facility_id:
            return self.facility.region
        return self.region
