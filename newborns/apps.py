from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NewbornsConfig(AppConfig):
    name = "newborns"
    verbose_name = _("Bayi baru lahir")

    def ready(self):
        from newborns import outbox
        from newborns.events import birth_changed

        # Every write path announces the babies it changed; what they owe SATUSEHAT is queued in the same
        # transaction (docs/ARCHITECTURE.md).
        birth_changed.connect(outbox.on_birth_changed, dispatch_uid="newborns.satusehat")
