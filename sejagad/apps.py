from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _


class SejagadConfig(AppConfig):
    name = "sejagad"
    verbose_name = _("Inti SEJAGAD SEHAT")


class SejagadAdminConfig(AdminConfig):
    default_site = "sejagad.admin_site.SejagadAdminSite"
