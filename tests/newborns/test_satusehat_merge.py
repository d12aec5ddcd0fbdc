"""When the NIK is issued and SATUSEHAT refuses to patch it into the "Bayi Ny." Patient because Dukcapil
already validated a Patient with that NIK, the baby's Patient is merged into it (Patient.link): tested
against the SATUSEHAT-shaped server on 127.0.0.1."""

import datetime
import io
import logging
import urllib.parse

import jsonpatch
import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from fhir.resources.R4B.patient import Patient

from newborns import fhir, outbox
from newborns.models import Newborn, SatusehatAction, SatusehatOutbox, SatusehatStatus
from newborns.services import record_documents
from tests.factories import BidanFactory, UserFactory, nik_for, register

pytestmark = pytest.mark.django_db

NIK_PATIENT = "P09999999999"


def baby_with_nik(satusehat, *, by=None):
    """A baby whose "Bayi Ny." Patient SATUSEHAT holds, then given its NIK: its NIK patch waits."""
    born = timezone.localdate() - datetime.timedelta(days=20)
    baby = register(birth_date=born, sex="L", by=by)
    outbox.send(SatusehatOutbox.objects.get(newborn=baby, action=SatusehatAction.CREATE).pk)
    nik = nik_for(born, female=False, serial=41)
    baby = record_documents(newborn=baby, by=UserFactory(role="admin_dinkes"), nik=nik, nik_issued_on=born)
    baby.refresh_from_db()
    satusehat.requests.clear()
    return baby, SatusehatOutbox.objects.get(newborn=baby, action=SatusehatAction.ADD_NIK)


def searches(satusehat):
    return satusehat.fhir_calls("GET", "Patient")


def test_the_merge_patch_links_the_bayi_ny_patient_to_the_nik_patient_as_fhir_r4_defines(district):
    baby = register()
    merged = jsonpatch.apply_patch(fhir.patient(baby), fhir.merge_patch(NIK_PATIENT))
    validated = Patient.model_validate(merged)
    assert validated.link[0].type == "replaced-by"
    assert validated.link[0].other.reference == f"Patient/{NIK_PATIENT}"
    assert validated.active is False
    # Sent twice (a redelivery), the record is the same.
    assert jsonpatch.apply_patch(merged, fhir.merge_patch(NIK_PATIENT)) == merged


def test_an_accepted_nik_patch_stays_a_patch_and_merges_nothing(district, satusehat):
    baby, row = baby_with_nik(satusehat)
    ihs = baby.ihs_number
    assert outbox.send(row.pk).status == SatusehatStatus.SENT
    assert [c.body for c in satusehat.fhir_calls("PATCH")] == [fhir.nik_patch(baby)]
    assert searches(satusehat) == [] and satusehat.links == {}
    baby.refresh_from_db()
    row.refresh_from_db()
    assert baby.ihs_number == ihs
    assert (row.merged_from, row.merged_into) == ("", "")


def test_a_patch_refused_as_validated_is_merged_into_the_nik_patient(district, satusehat, client, caplog):
    caplog.set_level(logging.DEBUG)
    bidan = BidanFactory()
    baby, row = baby_with_nik(satusehat, by=bidan)
    bayi_ny = baby.ihs_number
    satusehat.nik_patients[baby.nik] = NIK_PATIENT

    assert outbox.send(row.pk).status == SatusehatStatus.MERGED

    nik_patch, link_patch = satusehat.fhir_calls("PATCH")
    assert nik_patch.body == fhir.nik_patch(baby)
    (search,) = searches(satusehat)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(search.path).query)
    assert query == {"identifier": [f"https://fhir.kemkes.go.id/id/nik|{baby.nik}"]}
    assert "Content-Type" not in search.headers and search.headers["Accept"] == "application/fhir+json"
    assert link_patch.path == f"/fhir-r4/v1/Patient/{bayi_ny}"
    assert link_patch.headers["Content-Type"] == "application/json-patch+json"
    assert link_patch.body == fhir.merge_patch(NIK_PATIENT)
    assert satusehat.links == {bayi_ny: fhir.merge_patch(NIK_PATIENT)}

    baby.refresh_from_db()
    row.refresh_from_db()
    assert baby.ihs_number == NIK_PATIENT
    assert (row.status, row.merged_from, row.merged_into, row.last_error) == (
        SatusehatStatus.MERGED,
        bayi_ny,
        NIK_PATIENT,
        "",
    )
    assert baby.nik not in caplog.text

    client.force_login(bidan)
    page = client.get(reverse("newborns:detail", args=[baby.pk])).text
    assert "Digabung dengan Patient NIK" in page
    assert NIK_PATIENT in page and bayi_ny in page
    assert "Kirim ulang ke SATUSEHAT" not in page


def test_no_nik_patient_found_is_a_clear_error_and_the_retry_merges_later(district, satusehat, client, caplog):
    caplog.set_level(logging.DEBUG)
    bidan = BidanFactory()
    baby, row = baby_with_nik(satusehat, by=bidan)
    bayi_ny = baby.ihs_number
    satusehat.validated.add(bayi_ny)  # the record is validated, but no Patient holds the NIK yet

    assert outbox.send(row.pk).status == SatusehatStatus.FAILED
    row.refresh_from_db()
    assert "Patient dengan NIK bayi belum ditemukan" in row.last_error
    assert baby.nik not in row.last_error and baby.nik not in caplog.text
    assert satusehat.links == {}
    baby.refresh_from_db()
    assert baby.ihs_number == bayi_ny
    client.force_login(bidan)
    page = client.get(reverse("newborns:detail", args=[baby.pk])).text
    assert "Galat" in page and "belum ditemukan" in page and "Kirim ulang ke SATUSEHAT" in page

    satusehat.nik_patients[baby.nik] = NIK_PATIENT  # Dukcapil's record reached SATUSEHAT
    assert outbox.retry(newborn=baby) == 1
    assert outbox.send(row.pk).status == SatusehatStatus.MERGED
    baby.refresh_from_db()
    assert baby.ihs_number == NIK_PATIENT
    assert satusehat.links == {bayi_ny: fhir.merge_patch(NIK_PATIENT)}


def test_a_failed_search_keeps_no_nik_in_its_error_or_logs_and_is_tried_again(district, satusehat, caplog):
    caplog.set_level(logging.DEBUG)
    baby, row = baby_with_nik(satusehat)
    satusehat.nik_patients[baby.nik] = NIK_PATIENT
    # The refused patch, then the search answering a 503 that echoes the NIK.
    satusehat.failures = [(422, f"NIK {baby.nik} sudah tervalidasi Dukcapil"), (503, f"identifier {baby.nik} timeout")]

    assert outbox.send(row.pk).status == SatusehatStatus.PENDING
    row.refresh_from_db()
    assert "HTTP 503" in row.last_error
    assert baby.nik not in row.last_error and baby.nik not in caplog.text
    assert row.merged_into == ""


def test_a_refusal_that_is_not_about_validation_is_not_merged(district, satusehat):
    baby, row = baby_with_nik(satusehat)
    satusehat.nik_patients[baby.nik] = NIK_PATIENT
    satusehat.failures = [(422, "Data tidak valid: name wajib diisi")]
    assert outbox.send(row.pk).status == SatusehatStatus.FAILED
    assert searches(satusehat) == [] and satusehat.links == {}
    row.refresh_from_db()
    assert "Data tidak valid" in row.last_error


def test_redelivery_sends_nothing_twice(district, satusehat):
    baby, row = baby_with_nik(satusehat)
    bayi_ny = baby.ihs_number
    satusehat.nik_patients[baby.nik] = NIK_PATIENT
    satusehat.failures = [(422, "Patient sudah tervalidasi Dukcapil")]

    assert outbox.send(row.pk).status == SatusehatStatus.MERGED
    calls = len(satusehat.fhir_calls())
    assert outbox.send(row.pk).status == "not_claimed"  # the task delivered again
    assert outbox.retry(newborn=baby) == 0  # nothing failed: the retry button queues nothing
    assert len(satusehat.fhir_calls()) == calls == 3  # NIK patch, search, link
    assert satusehat.links == {bayi_ny: fhir.merge_patch(NIK_PATIENT)}


def test_a_merge_interrupted_after_the_search_finishes_with_the_link_only(district, satusehat):
    baby, row = baby_with_nik(satusehat)
    bayi_ny = baby.ihs_number
    satusehat.nik_patients[baby.nik] = NIK_PATIENT
    satusehat.failures = [(422, "Patient sudah tervalidasi Dukcapil"), None, 500]

    assert outbox.send(row.pk).status == SatusehatStatus.PENDING  # the link patch met a 500
    row.refresh_from_db()
    assert (row.merged_from, row.merged_into) == (bayi_ny, NIK_PATIENT)
    assert Newborn.objects.get(pk=baby.pk).ihs_number == bayi_ny
    satusehat.requests.clear()

    SatusehatOutbox.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert outbox.send(row.pk).status == SatusehatStatus.MERGED
    (link_patch,) = satusehat.fhir_calls()  # no second NIK patch, no second search
    assert (link_patch.method, link_patch.path) == ("PATCH", f"/fhir-r4/v1/Patient/{bayi_ny}")
    assert Newborn.objects.get(pk=baby.pk).ihs_number == NIK_PATIENT


def test_the_dry_run_of_an_interrupted_merge_shows_only_the_link(district, satusehat):
    baby, row = baby_with_nik(satusehat)
    SatusehatOutbox.objects.filter(pk=row.pk).update(merged_from=baby.ihs_number, merged_into=NIK_PATIENT)
    out = io.StringIO()
    call_command("satusehat_sync", "--dry-run", stdout=out)
    printed = out.getvalue()
    assert f"/fhir-r4/v1/Patient/{baby.ihs_number}\n" in printed and "replaced-by" in printed
    assert "/identifier" not in printed  # the NIK patch is not sent again
    assert baby.nik not in printed
    assert satusehat.fhir_calls() == []
