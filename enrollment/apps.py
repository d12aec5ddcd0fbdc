from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = _("Kepesertaan JKN")

    def ready(self):
        from enrollment import services
        from newborns.events import birth_changed

        # A birth and its JKN membership change together, in the same transaction (ARCHITECTURE.md).
        birth_changed.connect(services.on_birth_changed, dispatch_uid="enrollment.sync")
