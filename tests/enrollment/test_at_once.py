"""A birth is in every list, count and export the moment it is registered, whatever path wrote it."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from enrollment.models import FlagLevel, FlagRun
from newborns.models import Newborn
from tests.enrollment.test_exports import read_csv
from tests.factories import BidanFactory, UserFactory, mother_nik
from tests.newborns.test_views import birth_post

pytestmark = pytest.mark.django_db


def _by_form(bidan, born_on):
    from django.test import Client

    client = Client()
    client.force_login(bidan)
    response = client.post(reverse("newborns:create"), birth_post(birth_date=born_on.isoformat()))
    assert response.status_code == 302


def _by_api(bidan, born_on):
    client = APIClient()
    client.force_authenticate(bidan)
    payload = {
        "mother_nik": mother_nik(),
        "mother_name": "Siti Aminah",
        "kk_number": "7322030101200001",
        "birth_date": born_on.isoformat(),
        "sex": "P",
        "weight_grams": 3100,
        "desa": "73.22.03.2004",
    }
    assert client.post("/api/newborns/", payload, format="json").status_code == 201


@pytest.mark.parametrize("register_by", [_by_form, _by_api], ids=["form", "api"])
def test_a_birth_27_days_old_is_kritis_in_every_list_count_and_export_at_once(client, district, register_by):
    bidan = BidanFactory()
    dinkes = UserFactory()
    register_by(bidan, timezone.localdate() - datetime.timedelta(days=27))
    baby = Newborn.objects.get()
    assert not FlagRun.objects.exists()  # no daily job has run

    for user in (bidan, dinkes):
        client.force_login(user)
        kritis = client.get(reverse("enrollment:worklist"), {"level": FlagLevel.KRITIS})
        assert [e.newborn for e in kritis.context["page"]] == [baby]
        assert {v: n for v, _, n, _ in kritis.context["tabs"]}[FlagLevel.KRITIS] == 1
        home = client.get(reverse("home"))
        if user == dinkes:  # a bidan has no dashboard: her home lists her babies that need action today
            assert {i["level"]: i["n"] for i in home.context["levels"]}[FlagLevel.KRITIS] == 1
            assert home.context["figures"]["births"] == 1
        else:
            assert [e.newborn for e in home.context["urgent"]] == [baby]
        assert user.notifications.filter(enrollment__newborn=baby, level=FlagLevel.KRITIS).exists()

    client.force_login(dinkes)
    _, rows = read_csv(client.get(reverse("enrollment:export_csv"), {"level": FlagLevel.KRITIS}))
    assert [row for row in rows[1:] if baby.temporary_name in row]
    api = APIClient()
    api.force_authenticate(dinkes)
    assert api.get("/api/enrollments/", {"level": "KRITIS"}).json()["count"] == 1
