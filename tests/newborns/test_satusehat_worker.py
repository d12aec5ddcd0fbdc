"""The SATUSEHAT sync in a real Celery worker (a thread of this process) against the configured broker and a
SATUSEHAT-shaped server on 127.0.0.1. The worker cannot see a test transaction: these tests commit."""

import datetime

import pytest
from django.utils import timezone

from newborns.models import Newborn, SatusehatAction, SatusehatOutbox, SatusehatStatus
from newborns.services import record_documents
from newborns.tasks import send_to_satusehat
from tests.celery_worker import real_worker, wait_for
from tests.factories import UserFactory, nik_for, register

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def satusehat(satusehat, settings):
    settings.SATUSEHAT_RETRY_SECONDS = 0  # the retry's backoff in seconds, multiplied by 1, 2, 4 ...
    return satusehat


@pytest.fixture
def celery_worker():
    with real_worker() as worker:
        yield worker


def ihs_of(baby):
    return Newborn.objects.filter(pk=baby.pk).values_list("ihs_number", flat=True).get() or None


def test_a_birth_reaches_satusehat_through_the_worker_after_a_500(district, satusehat, celery_worker):
    satusehat.failures = [500]
    baby = register()  # committed: the on_commit hook enqueues the send

    assert wait_for(lambda: ihs_of(baby)) == "P00000000001"
    row = wait_for(lambda: SatusehatOutbox.objects.filter(newborn=baby, status=SatusehatStatus.SENT).first())
    assert row.attempts == 2 and row.last_error == ""
    assert len(satusehat.fhir_calls("POST", "Patient")) == 2  # the 500, then the retry
    assert len(satusehat.fhir_calls("POST", "Observation")) == 1


def test_a_redelivered_task_sends_nothing_twice(district, satusehat, celery_worker):
    baby = register()
    row = SatusehatOutbox.objects.get(newborn=baby)
    for _ in range(3):  # the broker hands the same message again (visibility timeout, lost ack)
        send_to_satusehat.delay(row.pk)
    # The worker runs one task at a time, in order: once this later baby is in, every copy above has run.
    later = register(mother_nik=nik_for(datetime.date(1991, 2, 3), female=True, serial=9))
    wait_for(lambda: ihs_of(later))

    assert len(satusehat.fhir_calls("POST", "Patient")) == 2
    assert len(satusehat.fhir_calls("POST", "Observation")) == 2
    row.refresh_from_db()
    assert row.status == SatusehatStatus.SENT and row.attempts == 1


def test_a_merge_through_the_worker_redelivered_sends_each_call_once(district, satusehat, celery_worker):
    born = timezone.localdate() - datetime.timedelta(days=20)
    baby = register(birth_date=born, sex="L")
    bayi_ny = wait_for(lambda: ihs_of(baby))
    nik = nik_for(born, female=False, serial=41)
    satusehat.nik_patients[nik] = "P09999999999"  # Dukcapil's validated Patient holds the NIK already
    record_documents(newborn=baby, by=UserFactory(role="admin_dinkes"), nik=nik, nik_issued_on=born)
    row = SatusehatOutbox.objects.get(newborn=baby, action=SatusehatAction.ADD_NIK)
    for _ in range(2):  # the same message handed over again
        send_to_satusehat.delay(row.pk)

    assert wait_for(lambda: ihs_of(baby) if ihs_of(baby) != bayi_ny else None) == "P09999999999"
    later = register(mother_nik=nik_for(datetime.date(1991, 2, 3), female=True, serial=9))
    wait_for(lambda: ihs_of(later))
    row.refresh_from_db()
    assert (row.status, row.attempts, row.merged_from) == (SatusehatStatus.MERGED, 1, bayi_ny)
    assert len(satusehat.fhir_calls("GET", "Patient")) == 1
    assert list(satusehat.links) == [bayi_ny]
    assert len([c for c in satusehat.fhir_calls("PATCH") if c.body[0]["path"] == "/link"]) == 1
