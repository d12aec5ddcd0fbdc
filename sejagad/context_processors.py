from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sejagad.landing import own_list_url
from sejagad.roles import Capability, can, capabilities_of

# Top navigation: (URL name, label, capability needed). Apps add their pages here as they arrive.
NAVIGATION = [
    ("home", _("Beranda"), None),
    ("dashboard", _("Dasbor"), Capability.VIEW_DASHBOARD),  # only for a role whose home is a list
    ("newborns:create", _("Catat kelahiran"), Capability.REGISTER_BIRTHS),
    ("newborns:list", _("Data bayi"), Capability.VIEW_NEWBORNS),
    ("newborns:nik_worklist", _("Daftar kerja Dukcapil"), Capability.UPDATE_DOCUMENTS),
    ("enrollment:worklist", _("Tenggat JKN"), Capability.VIEW_NEWBORNS),
    ("enrollment:worklist_bpjs", _("NIK terbit, belum di BPJS"), Capability.EXPORT_WORKLISTS),
    ("enrollment:worklist_dinsos", _("Calon PBI"), Capability.PROPOSE_PBI),
    ("enrollment:pbi_list", _("Usulan PBI"), Capability.PROPOSE_PBI),
    ("coverage:table", _("Cakupan UHC"), Capability.VIEW_COVERAGE),
    ("coverage:imports", _("Impor cakupan"), Capability.IMPORT_COVERAGE),
    ("newborns:access_log", _("Akses NIK"), Capability.MANAGE_SYSTEM),
    ("admin:index", _("Admin"), Capability.MANAGE_SYSTEM),
]


def navigation(request):
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {"nav_items": [], "capabilities": frozenset()}
    path = request.path
    items = []
    for url_name, label, capability in NAVIGATION:
        if url_name == "dashboard" and not own_list_url(user):
            continue  # home is already the dashboard
        if capability is None or can(user, capability):
            url = reverse(url_name)
            active = path == url
            items.append({"url": url, "label": label, "active": active})
    return {"nav_items": items, "capabilities": capabilities_of(user)}
