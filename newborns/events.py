"""What `newborns` announces to the apps above it, so that it never imports them (docs/ARCHITECTURE.md).

``birth_changed`` is sent inside the writing transaction, after a birth is registered, corrected, voided or
restored, or its documents are recorded. Its one argument, ``newborn_ids``, lists the babies concerned. A
receiver that fails rolls the whole write back: a birth never lands without what depends on it.
"""

from django.dispatch import Signal

birth_changed = Signal()


def announce_birth_changed(*newborn_ids: int) -> None:
    birth_changed.send(sender="newborns", newborn_ids=list(newborn_ids))
