"""The admin holds an admin's region as the app does: an admin of Luwu Utara (73.22) sees no row of Luwu
Timur (73.24) in a changelist, a change view, an export or a foreign-key choice."""

import csv
import io
import re

import pytest
from django.urls import reverse

from coverage.models import PopulationCount
from enrollment.models import Enrollment, ExportLog
from sejagad.models import Facility
from sejagad.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(two_kabupaten):
    """``two_kabupaten`` (Luwu Utara 73.22 and Luwu Timur 73.24) with an export and a population count in each."""
    w = two_kabupaten
    for user in (w.staf, w.timur_staf):
        ExportLog.objects.create(user=user, format="csv", rows=1)
    for code in ("73.22", "73.24"):
        PopulationCount.objects.create(region_id=code, period="2026-1", total=1000, male=500, female=500)
    return w


@pytest.fixture
def lutra_admin(district):
    """Dinkes Luwu Utara's admin, a superuser with the kabupaten as region (as ``seed_demo`` makes it)."""
    return UserFactory(username="admin-lutra", role=Role.ADMIN_DINKES, is_staff=True, is_superuser=True)


def changelist(client, model: str, **params):
    app = {"enrollment": "enrollment", "exportlog": "enrollment", "populationcount": "coverage"}.get(model, "sejagad")
    response = client.get(reverse(f"admin:{app}_{model}_changelist"), params)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_changelists_hold_only_the_admins_kabupaten(client, lutra_admin, world):
    client.force_login(lutra_admin)

    enrollments = {e.newborn for e in changelist(client, "enrollment")}
    users = {u.username for u in changelist(client, "user")}
    facilities = changelist(client, "facility")
    regions = changelist(client, "region")
    logs = {log.user.username for log in changelist(client, "exportlog")}
    counts = [c.region_id for c in changelist(client, "populationcount")]

    assert enrollments == {world.masamba_baby, world.baebunta_baby}
    assert {"staf_utara", "admin-lutra"} <= users and not users & {"staf_timur", "bidan_timur"}
    assert world.timur_facility not in facilities and facilities
    assert all(r.code == "73.22" or r.code.startswith("73.22.") for r in regions) and regions
    assert logs == {"staf_utara"}
    assert counts == ["73.22"]


def test_a_search_in_a_changelist_stays_in_the_kabupaten(client, lutra_admin, world):
    client.force_login(lutra_admin)
    assert changelist(client, "facility", q="Mangkutana") == []
    assert changelist(client, "region", q="73.24") == []


def test_change_views_of_another_kabupaten_are_out_of_reach(client, lutra_admin, world):
    client.force_login(lutra_admin)
    there = Enrollment.objects.get(newborn=world.timur_baby)
    for name, pk in (
        ("enrollment_enrollment", there.pk),
        ("sejagad_facility", world.timur_facility.pk),
        ("sejagad_user", world.timur_staf.pk),
        ("sejagad_region", "73.24.01"),
    ):
        response = client.get(reverse(f"admin:{name}_change", args=[pk]))
        assert response.status_code == 302, name  # the admin's "does not exist" redirect
        assert response.url == reverse("admin:index")
    here = Enrollment.objects.get(newborn=world.masamba_baby)
    assert client.get(reverse("admin:enrollment_enrollment_change", args=[here.pk])).status_code == 200


def test_the_admin_export_holds_only_the_kabupaten(client, lutra_admin, world, settings):
    settings.IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True
    client.force_login(lutra_admin)
    url = reverse("admin:enrollment_enrollment_export")
    fields = {name: "on" for name in client.get(url).context["form"].fields if name.startswith("enrollmentresource_")}

    response = client.post(url, {"format": "0", "resource": "0", **fields})
    # An export "action" naming an out-of-scope id by hand exports nothing more.
    there = Enrollment.objects.get(newborn=world.timur_baby).pk
    picked = client.post(url, {"format": "0", "resource": "0", "export_items": [there], **fields})

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    names = {r[1] for r in rows[1:]}
    assert names == {world.masamba_baby.temporary_name, world.baebunta_baby.temporary_name}
    assert "7324" not in response.content.decode("utf-8-sig")
    assert "LUWU TIMUR" not in picked.content.decode("utf-8-sig").upper()


def test_foreign_key_choices_hold_only_the_kabupaten(client, lutra_admin, world):
    client.force_login(lutra_admin)
    here_facility = Facility.objects.get(code="PKM-732203")

    facility_form = client.get(reverse("admin:sejagad_facility_change", args=[here_facility.pk]))
    user_form = client.get(reverse("admin:sejagad_user_change", args=[world.staf.pk]))

    region_choices = facility_form.context["adminform"].form.fields["region"].queryset
    assert region_choices.filter(code="73.22.03.2004").exists() and not region_choices.filter(code="73.24").exists()
    user_fields = user_form.context["adminform"].form.fields
    assert not user_fields["facility"].queryset.filter(pk=world.timur_facility.pk).exists()
    assert not user_fields["region"].queryset.filter(code__startswith="73.24").exists()
    # and a choice sent by hand is refused
    refused = client.post(
        reverse("admin:sejagad_facility_change", args=[here_facility.pk]),
        {"code": here_facility.code, "name": here_facility.name, "kind": here_facility.kind, "region": "73.24.01"},
    )
    assert refused.status_code == 200 and "region" in refused.context["adminform"].form.errors


def test_autocomplete_offers_only_the_kabupaten(client, lutra_admin, world):
    client.force_login(lutra_admin)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "sejagad", "model_name": "user", "field_name": "facility", "term": "Puskesmas"},
    )
    names = [r["text"] for r in response.json()["results"]]
    assert names and "Puskesmas Mangkutana" not in names


def test_a_superuser_without_a_region_sees_both_kabupaten(client, world):
    client.force_login(UserFactory(username="root", role="", region=None, is_staff=True, is_superuser=True))
    newborns = {e.newborn for e in changelist(client, "enrollment")}
    assert newborns == {world.masamba_baby, world.baebunta_baby, world.timur_baby}
    page = client.get(reverse("admin:sejagad_facility_changelist"), {"q": "Mangkutana"})
    assert re.search("Puskesmas Mangkutana", page.text)
