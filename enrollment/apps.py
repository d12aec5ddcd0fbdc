from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = _("Kepesertaan JKN")

    def ready(self):
        from django.db.models.signals import post_migrate, pre_migrate

        from enrollment import services, triggers
        from newborns.events import birth_changed

        # A birth and its JKN membership change together, in the same transaction (ARCHITECTURE.md).
        birth_changed.connect(services.on_birth_changed, dispatch_uid="enrollment.sync")
        # The summary's triggers on SQLite outlive every migration (enrollment.triggers).
        pre_migrate.connect(triggers.drop_sqlite_triggers, sender=self, dispatch_uid="enrollment.triggers.drop")
        post_migrate.connect(triggers.create_sqlite_triggers, sender=self, dispatch_uid="enrollment.triggers.create")
