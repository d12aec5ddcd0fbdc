from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NewbornsConfig(AppConfig):
    name = "newborns"
    verbose_name = _("Bayi baru lahir")
