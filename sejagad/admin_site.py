from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from sejagad.roles import Capability, can


class SejagadAdminSite(admin.AdminSite):
    site_header = _("Administrasi SEJAGAD SEHAT")
    site_title = _("SEJAGAD SEHAT")
    index_title = _("Data rujukan dan pengguna")

    def has_permission(self, request):
        return can(request.user, Capability.MANAGE_SYSTEM)
