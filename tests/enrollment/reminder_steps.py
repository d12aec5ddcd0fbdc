"""The default reminder schedule, as its data migration writes it: a transactional test (a real worker, a live
server) empties every table when it ends, migration rows included, so tests put the steps back first."""

import importlib

from enrollment.models import ReminderStep

SEED = importlib.import_module("enrollment.migrations.0014_seed_reminder_steps")


def ensure_default_steps() -> None:
    for code, name, trigger, days, template in SEED.STEPS:
        ReminderStep.objects.get_or_create(
            code=code, defaults={"name": name, "trigger": trigger, "days": days, "template": template}
        )
