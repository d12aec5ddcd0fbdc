"""The outbound SATUSEHAT sync against a SATUSEHAT-shaped server on 127.0.0.1: the token flow, the paths,
headers, content types and bodies, and what happens when SATUSEHAT fails."""

import datetime
import io
import logging
import time

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone

from newborns import fhir, outbox
from newborns.models import Newborn, SatusehatAction, SatusehatOutbox, SatusehatStatus
from newborns.services import record_documents, void_birth
from tests.factories import UserFactory, nik_for, register
from tests.newborns.satusehat_server import CLIENT_ID, CLIENT_SECRET, configure

pytestmark = pytest.mark.django_db


def row_of(baby, action=SatusehatAction.CREATE) -> SatusehatOutbox:
    return SatusehatOutbox.objects.get(newborn=baby, action=action)


def test_a_registered_birth_is_sent_as_its_patient_then_its_birth_weight(district, satusehat):
    baby = register(weight_grams=2900)
    row = row_of(baby)
    assert row.status == SatusehatStatus.PENDING

    assert outbox.send(row.pk).status == SatusehatStatus.SENT

    token, patient, observation = satusehat.requests
    assert (token.method, token.path) == ("POST", "/oauth2/v1/accesstoken?grant_type=client_credentials")
    assert token.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert token.body == {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    assert (patient.method, patient.path) == ("POST", "/fhir-r4/v1/Patient")
    assert patient.headers["Content-Type"] == "application/fhir+json"
    assert patient.headers["Authorization"] == "Bearer token-1"
    assert patient.body == fhir.patient(baby)
    baby.refresh_from_db()
    assert baby.ihs_number == "P00000000001"
    assert (observation.method, observation.path) == ("POST", "/fhir-r4/v1/Observation")
    assert observation.headers["Content-Type"] == "application/fhir+json"
    assert observation.body["subject"] == {"reference": "Patient/P00000000001"}
    assert observation.body["performer"] == [{"reference": "Organization/100000001"}]
    assert observation.body["valueQuantity"]["value"] == 2900
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (SatusehatStatus.SENT, 1, "")


def test_the_token_is_reused_until_it_expires(district, satusehat):
    satusehat.expires_in = 61  # cached for 1 s (SATUSEHAT's lifetime less a 60 s margin)
    first = register()
    second = register(mother_nik=nik_for(datetime.date(1992, 3, 4), female=True, serial=5))
    outbox.send(row_of(first).pk)
    outbox.send(row_of(second).pk)
    assert satusehat.tokens_issued == 1

    time.sleep(1.2)
    third = register(mother_nik=nik_for(datetime.date(1993, 3, 4), female=True, serial=6))
    outbox.send(row_of(third).pk)
    assert satusehat.tokens_issued == 2
    assert satusehat.fhir_calls("POST", "Patient")[-1].headers["Authorization"] == "Bearer token-2"


def test_a_401_gets_a_fresh_token_and_the_call_goes_through(district, satusehat):
    outbox.send(row_of(register()).pk)
    satusehat.revoke_tokens()  # SATUSEHAT forgot the token before its announced expiry

    baby = register(mother_nik=nik_for(datetime.date(1992, 3, 4), female=True, serial=5))
    assert outbox.send(row_of(baby).pk).status == SatusehatStatus.SENT
    assert satusehat.tokens_issued == 2
    refused, accepted = satusehat.fhir_calls("POST", "Patient")[-2:]
    assert refused.headers["Authorization"] == "Bearer token-1"
    assert accepted.headers["Authorization"] == "Bearer token-2"


def test_a_500_is_kept_in_indonesian_and_tried_again_after_a_backoff(district, satusehat):
    satusehat.failures = [500]
    baby = register()
    row = row_of(baby)

    result = outbox.send(row.pk)
    row.refresh_from_db()
    assert result.retry_in == 60
    assert row.status == SatusehatStatus.PENDING and row.attempts == 1
    assert "SATUSEHAT sedang bermasalah (HTTP 500)" in row.last_error
    assert row.next_attempt_at > timezone.now() + datetime.timedelta(seconds=50)
    assert outbox.send(row.pk).status == "not_claimed"  # not before its time

    SatusehatOutbox.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    satusehat.failures = [503]
    assert outbox.send(row.pk).retry_in == 120  # 60 s, then 120 s
    SatusehatOutbox.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert outbox.send(row.pk).status == SatusehatStatus.SENT
    row.refresh_from_db()
    assert (row.attempts, row.last_error) == (3, "")
    assert len(satusehat.fhir_calls("POST", "Patient")) == 3


def test_retries_stop_after_the_last_attempt_and_the_retry_button_starts_again(district, satusehat, settings):
    settings.SATUSEHAT_MAX_ATTEMPTS = 2
    satusehat.failures = [500, 500]
    baby = register()
    row = row_of(baby)
    outbox.send(row.pk)
    SatusehatOutbox.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert outbox.send(row.pk).status == SatusehatStatus.FAILED
    row.refresh_from_db()
    assert row.status == SatusehatStatus.FAILED
    assert "Sudah dicoba 2 kali" in row.last_error

    assert outbox.retry(newborn=baby) == 1
    assert outbox.send(row.pk).status == SatusehatStatus.SENT


def test_a_refused_patient_fails_at_once_with_satusehats_reason_and_no_nik(district, satusehat, caplog):
    baby = register()
    satusehat.failures = [(422, f"NIK ibu {baby.mother.nik} tidak sesuai nama di Dukcapil")]
    caplog.set_level(logging.INFO)

    assert outbox.send(row_of(baby).pk).status == SatusehatStatus.FAILED
    row = row_of(baby)
    assert row.last_error.startswith("SATUSEHAT menolak data bayi (HTTP 422): NIK ibu 7322")
    assert baby.mother.nik not in row.last_error
    assert baby.mother.nik not in caplog.text


def test_the_nik_is_added_to_the_sent_patient_by_json_patch(district, satusehat):
    born = timezone.localdate() - datetime.timedelta(days=20)
    baby = register(birth_date=born, sex="L")
    outbox.send(row_of(baby).pk)
    assert not SatusehatOutbox.objects.filter(action=SatusehatAction.ADD_NIK).exists()

    nik = nik_for(born, female=False, serial=33)
    baby = record_documents(newborn=baby, by=UserFactory(role="admin_dinkes"), nik=nik, nik_issued_on=born)
    row = row_of(baby, SatusehatAction.ADD_NIK)
    assert outbox.send(row.pk).status == SatusehatStatus.SENT

    patch = satusehat.fhir_calls("PATCH")[0]
    baby.refresh_from_db()
    assert patch.path == f"/fhir-r4/v1/Patient/{baby.ihs_number}"
    assert patch.headers["Content-Type"] == "application/json-patch+json"
    assert patch.body == fhir.nik_patch(baby)
    assert patch.body[0]["value"] == {"use": "official", "system": "https://fhir.kemkes.go.id/id/nik", "value": nik}


def test_a_nik_patch_waits_for_the_ihs_number(district, satusehat):
    born = timezone.localdate() - datetime.timedelta(days=20)
    baby = register(birth_date=born, sex="L")
    record_documents(
        newborn=baby, by=UserFactory(role="admin_dinkes"), nik=nik_for(born, female=False, serial=2), nik_issued_on=born
    )
    assert outbox.send(row_of(baby, SatusehatAction.ADD_NIK).pk).status == "not_claimed"

    outbox.send(row_of(baby).pk)  # the Patient goes with the NIK already: no patch left
    assert row_of(baby, SatusehatAction.ADD_NIK).status == SatusehatStatus.SENT
    assert satusehat.fhir_calls("PATCH") == []
    assert "https://fhir.kemkes.go.id/id/nik" in {
        i["system"] for i in satusehat.fhir_calls("POST", "Patient")[0].body["identifier"]
    }


def test_a_row_left_sending_by_a_dead_worker_is_claimed_again_after_its_lease(district, satusehat):
    row = row_of(register())
    SatusehatOutbox.objects.filter(pk=row.pk).update(status=SatusehatStatus.SENDING, claimed_at=timezone.now())
    assert outbox.send(row.pk).status == "not_claimed"  # another worker is on it

    SatusehatOutbox.objects.filter(pk=row.pk).update(claimed_at=timezone.now() - datetime.timedelta(minutes=10))
    assert outbox.send(row.pk).status == SatusehatStatus.SENT
    assert outbox.send(row.pk).status == "not_claimed"
    assert len(satusehat.fhir_calls("POST", "Patient")) == 1


def test_an_unreachable_satusehat_is_retried(district, settings):
    cache.clear()
    configure(settings, "http://127.0.0.1:9")  # nothing listens on the discard port
    row = row_of(register())
    result = outbox.send(row.pk)
    row.refresh_from_db()
    assert result.retry_in and row.status == SatusehatStatus.PENDING
    assert row.last_error == "SATUSEHAT tidak dapat dihubungi; akan dicoba lagi."


def test_a_voided_birth_is_not_sent(district, satusehat):
    baby = register()
    void_birth(newborn=baby, by=UserFactory(role="admin_dinkes"), reason="data uji")
    assert outbox.send(row_of(baby).pk).status == SatusehatStatus.SKIPPED
    assert satusehat.requests == []


def test_a_district_without_satusehat_settings_records_births_and_sends_nothing(district, settings):
    settings.SATUSEHAT_CLIENT_ID = ""
    baby = register()
    assert row_of(baby).status == SatusehatStatus.PENDING  # waits for the settings
    assert outbox.sweep() == 0
    with pytest.raises(CommandError, match="belum dikonfigurasi"):
        call_command("satusehat_sync", stdout=io.StringIO(), stderr=io.StringIO())


def test_the_dry_run_prints_the_calls_with_masked_niks_and_sends_nothing(district, satusehat):
    baby = register()
    out = io.StringIO()
    call_command("satusehat_sync", "--dry-run", stdout=out)

    printed = out.getvalue()
    assert "POST http://127.0.0.1" in printed and "/fhir-r4/v1/Patient" in printed
    assert "/fhir-r4/v1/Observation" in printed
    assert "7322**********01" in printed
    assert baby.mother.nik not in printed
    assert "1 kiriman akan dikirim" in printed
    assert satusehat.requests == []
    assert row_of(baby).status == SatusehatStatus.PENDING


def test_the_command_sends_what_waits(district, satusehat):
    register()
    out = io.StringIO()
    call_command("satusehat_sync", stdout=out)
    assert "1 terkirim" in out.getvalue()
    assert Newborn.objects.exclude(ihs_number="").count() == 1


def test_many_babies_are_queued_in_a_fixed_number_of_statements(district, django_assert_max_num_queries):
    babies = [register(mother_nik=nik_for(datetime.date(1990, 1, 1), female=True, serial=n)) for n in range(1, 13)]
    SatusehatOutbox.objects.all().delete()
    ids = [b.pk for b in babies]

    with django_assert_max_num_queries(5):  # two id reads, one INSERT, one UPDATE, the waiting rows
        waiting = outbox.queue_births(ids)
    assert len(waiting) == 12
    with django_assert_max_num_queries(5):
        assert outbox.queue_births(ids) == waiting  # nothing doubled


def test_every_write_path_queues_through_the_birth_event(district, client):
    from rest_framework.test import APIClient

    from sejagad.tokens import issue_token

    staff = UserFactory(role="admin_dinkes")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user=staff).key}")
    born = timezone.localdate() - datetime.timedelta(days=5)
    created = api.post(
        "/api/newborns/",
        {
            "mother_nik": nik_for(datetime.date(1994, 6, 7), female=True, serial=3),
            "mother_name": "Rina",
            "kk_number": "7322030101200001",
            "birth_date": born.isoformat(),
            "sex": "L",
            "weight_grams": 3000,
            "desa": "73.22.03.2004",
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    baby = Newborn.objects.get(pk=created.json()["id"])
    assert row_of(baby).status == SatusehatStatus.PENDING

    documents = api.patch(
        f"/api/newborns/{baby.pk}/documents/",
        {"nik": nik_for(born, female=False, serial=8), "nik_issued_on": born.isoformat()},
        format="json",
    )
    assert documents.status_code == 200, documents.content
    assert row_of(baby, SatusehatAction.ADD_NIK).status == SatusehatStatus.PENDING
