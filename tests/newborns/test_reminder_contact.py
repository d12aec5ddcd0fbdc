"""The family's mobile number and the mother's consent to reminders, on every write path."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from newborns.models import Mother, StopSource
from newborns.privacy import mask_phone
from newborns.services import set_reminder_contact, stop_reminders_for_phone
from newborns.validators import normalize_phone
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory, mother_nik, register
from tests.newborns.test_api import birth, client_for
from tests.newborns.test_views import birth_post

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "typed",
    [
        "081234567890",
        "0812-3456-7890",
        "0812 3456 7890",
        "+62 812 3456 7890",
        "+6281234567890",
        "6281234567890",
        "(0812) 3456.7890",
        "０８１２３４５６７８９０",  # full-width digits from a phone keyboard
    ],
)
def test_indonesian_mobile_numbers_are_stored_in_e164(typed):
    assert normalize_phone(typed) == "+6281234567890"


@pytest.mark.parametrize(
    "typed",
    ["0411 123456", "12345", "+1 202 555 0100", "0812 3456 7890 12345", "08l2345678", "+62 21 5551234", "62"],
)
def test_other_numbers_are_refused_in_indonesian(typed):
    with pytest.raises(ValidationError) as exc:
        normalize_phone(typed)
    assert "Nomor HP tidak dikenali" in exc.value.messages[0]


def test_an_empty_number_stays_empty():
    assert normalize_phone("  ") == ""


def test_phone_is_masked_for_lists_and_logs():
    assert mask_phone("+6281234567890") == "+62812*****890"


def test_birth_form_records_the_number_and_who_gave_consent_and_when(client, district):
    bidan = BidanFactory(username="bidan")
    client.force_login(bidan)
    response = client.post(
        reverse("newborns:create"), birth_post(phone="0812-3456-7890", reminder_consent="on"), follow=True
    )
    assert response.status_code == 200
    mother = Mother.objects.get()
    assert mother.phone == "+6281234567890"
    assert mother.reminder_consent_by == bidan
    assert mother.reminder_consent_at is not None
    assert mother.can_be_reminded


def test_birth_form_without_the_box_records_no_consent(client, district):
    client.force_login(BidanFactory(username="bidan"))
    client.post(reverse("newborns:create"), birth_post())
    mother = Mother.objects.get()
    assert mother.phone == "+6281234567890"
    assert mother.reminder_consent_at is None
    assert not mother.can_be_reminded


def test_birth_form_refuses_a_bad_number_and_consent_without_a_number(client, district):
    client.force_login(BidanFactory(username="bidan"))
    bad = client.post(reverse("newborns:create"), birth_post(phone="0411 123456"))
    assert "Nomor HP tidak dikenali" in bad.content.decode()
    missing = client.post(reverse("newborns:create"), birth_post(phone="", reminder_consent="on"))
    assert "Isi nomor HP keluarga agar pengingat dapat dikirim" in missing.content.decode()
    assert not Mother.objects.exists()


def test_api_normalises_the_number_records_consent_and_masks_the_number_in_lists(district):
    staf = UserFactory(role=Role.STAF_DINKES)
    api = client_for(staf)
    created = api.post("/api/newborns/", birth(phone="62 812 3456 7890", reminder_consent=True), format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["mother"]["phone"] == "+6281234567890"
    assert created.json()["mother"]["reminder_consent"] is True
    mother = Mother.objects.get()
    assert (mother.phone, mother.reminder_consent_by) == ("+6281234567890", staf)
    listed = api.get("/api/newborns/").json()["results"][0]
    assert listed["mother"]["phone"] == "+62812*****890"
    refused = api.post("/api/newborns/", birth(mother_nik=mother_nik(2), phone="021-555-1234"), format="json")
    assert refused.status_code == 400
    assert "Nomor HP tidak dikenali" in refused.json()["phone"][0]


def test_api_contact_change_keeps_the_normalisation_and_withdrawing_consent_stops(district):
    staf = UserFactory(role=Role.STAF_DINKES)
    baby = register(by=staf, phone="081234567890", reminder_consent=True)
    api = client_for(staf)
    url = f"/api/newborns/{baby.pk}/contact/"
    assert api.patch(url, {"phone": "08 1299", "reminder_consent": True}, format="json").status_code == 400
    changed = api.patch(url, {"phone": "+62 813 1111 2222", "reminder_consent": False}, format="json")
    assert changed.status_code == 200, changed.json()
    mother = Mother.objects.get()
    assert mother.phone == "+6281311112222"
    assert mother.reminders_stopped_by == staf
    assert mother.reminders_stop_source == StopSource.STAFF
    assert not mother.can_be_reminded


def test_staff_stop_and_restart_reminders_on_the_babys_page(client, district):
    staf = UserFactory(role=Role.STAF_DINKES)
    baby = register(by=staf, phone="081234567890", reminder_consent=True)
    client.force_login(staf)
    page = client.get(reverse("newborns:detail", args=[baby.pk])).content.decode()
    assert "Ibu setuju sejak" in page
    client.post(reverse("newborns:contact", args=[baby.pk]), {"phone": "081234567890"})
    mother = Mother.objects.get()
    assert mother.reminders_stopped_at and mother.reminders_stopped_by == staf
    assert "Dihentikan" in client.get(reverse("newborns:detail", args=[baby.pk])).content.decode()
    client.post(reverse("newborns:contact", args=[baby.pk]), {"phone": "0812 3456 7890", "reminder_consent": "on"})
    mother.refresh_from_db()
    assert mother.can_be_reminded and mother.reminders_stopped_at is None


def test_a_bad_number_on_the_babys_page_is_explained_and_nothing_changes(client, district):
    staf = UserFactory(role=Role.STAF_DINKES)
    baby = register(by=staf, phone="081234567890", reminder_consent=True)
    client.force_login(staf)
    response = client.post(
        reverse("newborns:contact", args=[baby.pk]), {"phone": "12345", "reminder_consent": "on"}, follow=True
    )
    assert "Nomor HP tidak dikenali" in response.content.decode()
    assert Mother.objects.get().phone == "+6281234567890"


def test_contact_of_a_baby_outside_scope_cannot_be_changed(district):
    baby = register(phone="081234567890")
    outsider = BidanFactory(facility=None)
    with pytest.raises(ValidationError):
        set_reminder_contact(newborn=baby, by=outsider, phone="081200000000", consent=True)


def test_a_stop_reply_stops_every_mother_with_that_number_and_is_recorded(district):
    register(phone="081234567890", reminder_consent=True)
    register(mother_nik=mother_nik(2), mother_name="Rina", phone="+6281234567890", reminder_consent=True)
    register(mother_nik=mother_nik(3), mother_name="Lain", phone="081399998888", reminder_consent=True)
    assert stop_reminders_for_phone("0812 3456 7890") == 2
    stopped = Mother.objects.filter(reminders_stopped_at__isnull=False)
    assert {m.reminders_stop_source for m in stopped} == {StopSource.REPLY}
    assert Mother.objects.reachable().count() == 1


def test_the_timeline_tells_who_recorded_the_consent_and_that_the_family_replied_stop(client, district):
    staf = UserFactory(role=Role.STAF_DINKES, first_name="Andi", last_name="Rahman")
    baby = register(by=staf)
    client.force_login(staf)
    client.post(reverse("newborns:contact", args=[baby.pk]), {"phone": "081234567890", "reminder_consent": "on"})
    stop_reminders_for_phone("+6281234567890")
    timeline = client.get(reverse("newborns:detail", args=[baby.pk])).context["timeline"]
    consent = next(e for e in timeline if "Setuju menerima pengingat" in e["what"])
    assert consent["by"] == staf
    stopped = next(e for e in timeline if "Pengingat dihentikan" in e["what"])
    assert stopped["by"] is None and stopped["why"] == "Keluarga membalas STOP"
