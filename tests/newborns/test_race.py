"""The same birth landing twice at the same moment: the database constraint decides, the user reads why.

The service checks for a live record, then inserts. The mother's row is locked in between, so a second
registration of her birth waits; what can still slip into that gap is a change that does not touch her
row: an officer restoring a voided record of the same birth. The test puts that restore, committed by
another connection, exactly between the check and the insert, so the insert meets the constraint."""

import datetime
import threading

import pytest
from django.db import connection
from django.db.models.signals import pre_save
from django.urls import reverse
from django.utils import timezone

from newborns.models import Newborn
from newborns.services import restore_birth, void_birth
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory, register
from tests.newborns.test_views import birth_post

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # SQLite has one writer at a time, so this gap cannot open there (the restore would wait for the lock).
    pytest.mark.skipif(connection.vendor == "sqlite", reason="needs concurrent writers (CI runs PostgreSQL)"),
]


def test_a_birth_restored_while_the_same_birth_is_registered_lands_once(client, district):
    staf = UserFactory(role=Role.STAF_DINKES)
    born = timezone.localdate() - datetime.timedelta(days=1)
    voided = register(by=staf, birth_date=born)
    void_birth(newborn=voided, by=staf, reason="Dicatat dua kali")
    restored = threading.Event()

    def restore():
        try:
            restore_birth(newborn=voided, by=staf, reason="Ternyata benar")
        finally:
            connection.close()

    def restore_in_another_connection(sender, instance, **kwargs):
        if instance.pk is not None or restored.is_set():
            return
        restored.set()
        worker = threading.Thread(target=restore)
        worker.start()
        worker.join()

    client.force_login(BidanFactory())
    pre_save.connect(restore_in_another_connection, sender=Newborn)
    try:
        response = client.post(reverse("newborns:create"), birth_post(birth_date=born.isoformat()))
    finally:
        pre_save.disconnect(restore_in_another_connection, sender=Newborn)

    assert restored.is_set()
    assert response.status_code == 200
    assert "Kelahiran ini sudah tercatat" in response.text
    assert reverse("newborns:detail", args=[voided.pk]) in response.text
    assert list(Newborn.objects.live().values_list("pk", flat=True)) == [voided.pk]
