"""Who may do what: the one place where roles meet capabilities.

Pages (``capability_required``), the API (``HasCapability``), the admin site and the navigation all
ask ``can(user, capability)``; nothing else compares role names.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN_DINKES = "admin_dinkes", _("Admin Dinkes")
    STAF_DINKES = "staf_dinkes", _("Staf Dinkes")
    BIDAN = "bidan", _("Bidan")
    PETUGAS_BPJS = "petugas_bpjs", _("Petugas BPJS")
    PETUGAS_DUKCAPIL = "petugas_dukcapil", _("Petugas Dukcapil")
    PETUGAS_DINSOS = "petugas_dinsos", _("Petugas Dinsos")
    # A facility's own system (its EMR) sending births as FHIR bundles with an API credential of its own.
    SISTEM_FASKES = "sistem_faskes", _("Sistem fasilitas (API FHIR)")


class Capability(models.TextChoices):
    MANAGE_SYSTEM = "manage_system", _("Mengelola sistem, pengguna dan data rujukan")
    VIEW_DASHBOARD = "view_dashboard", _("Melihat dasbor kabupaten")
    VIEW_NEWBORNS = "view_newborns", _("Melihat data bayi")
    REGISTER_BIRTHS = "register_births", _("Mencatat kelahiran")
    CORRECT_BIRTHS = "correct_births", _("Memperbaiki dan membatalkan data kelahiran kapan pun")
    VIEW_IDENTITY_NUMBERS = "view_identity_numbers", _("Melihat NIK dan nomor KK utuh")
    UPDATE_DOCUMENTS = "update_documents", _("Memperbarui dokumen kependudukan (KK, akta, NIK)")
    UPDATE_ENROLLMENT = "update_enrollment", _("Memperbarui kepesertaan JKN")
    EXPORT_WORKLISTS = "export_worklists", _("Mengunduh daftar kerja BPJS")
    PROPOSE_PBI = "propose_pbi", _("Mengusulkan bayi sebagai peserta PBI")
    VIEW_COVERAGE = "view_coverage", _("Melihat cakupan UHC")
    IMPORT_COVERAGE = "import_coverage", _("Mengimpor data penduduk dan peserta JKN")


C = Capability
CAPABILITIES: dict[str, frozenset[str]] = {
    Role.ADMIN_DINKES: frozenset(Capability.values),
    Role.STAF_DINKES: frozenset(
        {
            C.VIEW_DASHBOARD,
            C.VIEW_NEWBORNS,
            C.REGISTER_BIRTHS,
            C.CORRECT_BIRTHS,
            C.VIEW_IDENTITY_NUMBERS,
            C.UPDATE_ENROLLMENT,
            C.EXPORT_WORKLISTS,
            C.VIEW_COVERAGE,
            C.IMPORT_COVERAGE,
        }
    ),
    Role.BIDAN: frozenset({C.VIEW_NEWBORNS, C.REGISTER_BIRTHS, C.VIEW_IDENTITY_NUMBERS}),
    Role.PETUGAS_BPJS: frozenset(
        {
            C.VIEW_DASHBOARD,
            C.VIEW_NEWBORNS,
            C.VIEW_IDENTITY_NUMBERS,
            C.UPDATE_ENROLLMENT,
            C.EXPORT_WORKLISTS,
            C.VIEW_COVERAGE,
            C.IMPORT_COVERAGE,
        }
    ),
    Role.PETUGAS_DUKCAPIL: frozenset(
        {C.VIEW_NEWBORNS, C.VIEW_IDENTITY_NUMBERS, C.UPDATE_DOCUMENTS, C.VIEW_COVERAGE, C.IMPORT_COVERAGE}
    ),
    Role.PETUGAS_DINSOS: frozenset({C.VIEW_NEWBORNS, C.PROPOSE_PBI, C.VIEW_COVERAGE}),
    Role.SISTEM_FASKES: frozenset({C.VIEW_NEWBORNS, C.REGISTER_BIRTHS, C.VIEW_IDENTITY_NUMBERS}),
}

# Roles whose every record and every read is bound to the user's one facility.
FACILITY_ROLES = frozenset({Role.BIDAN, Role.SISTEM_FASKES})


def bound_to_facility(user) -> bool:
    return getattr(user, "role", "") in FACILITY_ROLES


def capabilities_of(user) -> frozenset:
    """Everything the user may do (a superuser: everything), for templates."""
    return frozenset(Capability.values) if user.is_superuser else CAPABILITIES.get(user.role, frozenset())


def can(user, capability: str) -> bool:
    """True when an active, signed-in user's role carries the capability."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    return capability in CAPABILITIES.get(getattr(user, "role", ""), frozenset())
