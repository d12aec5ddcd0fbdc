"""The worklist's kecamatan, desa and facility pickers are read once per version of the summary and kept: a write to
a region or a facility, whatever made it, must show at once, and each user must see her own area's options."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from sejagad.models import Facility, FacilityKind, Region
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.both_databases]


def options(client, name: str, **params) -> list[str]:
    """The labels of a picker on the at-risk worklist, as the officer sees them."""
    page = client.get(reverse("enrollment:worklist"), params).content.decode()
    select = re.search(rf'<select name="{name}".*?</select>', page, re.S).group(0)
    return re.findall(r"<option[^>]*>([^<]*)</option>", select)


def test_a_facility_renamed_added_or_closed_shows_in_the_picker_at_once(client, district):
    client.force_login(UserFactory())
    masamba = Facility.objects.get(code="PKM-732203")
    assert masamba.name in options(client, "facility")

    masamba.name = "Puskesmas Masamba Baru"
    masamba.save()  # the admin's path
    assert "Puskesmas Masamba Baru" in options(client, "facility")

    Facility.objects.create(code="PKM-X1", name="Pustu Kappuna", kind=FacilityKind.PUSKESMAS, region_id="73.22.03")
    assert "Pustu Kappuna" in options(client, "facility")

    Facility.objects.filter(code="PKM-X1").update(is_active=False)  # a bulk write, no signal
    assert "Pustu Kappuna" not in options(client, "facility")


def test_a_region_renamed_shows_in_the_pickers_at_once(client, district):
    client.force_login(UserFactory())
    assert "Masamba" in options(client, "kecamatan")
    Region.objects.filter(code="73.22.03").update(name="Masamba Kota")  # as a reload of the Kemendagri list would
    assert "Masamba Kota" in options(client, "kecamatan")


def test_each_officer_sees_her_own_area_s_pickers_one_after_the_other(client, two_kabupaten):
    client.force_login(two_kabupaten.timur_staf)
    assert "Puskesmas Mangkutana" in options(client, "facility")
    client.force_login(two_kabupaten.staf)
    assert "Puskesmas Mangkutana" not in options(client, "facility")
    client.force_login(two_kabupaten.timur_staf)
    assert "Puskesmas Mangkutana" in options(client, "facility")


def test_the_desa_picker_follows_the_chosen_kecamatan(client, district):
    client.force_login(UserFactory())
    in_masamba = Region.objects.desa().filter(parent_id="73.22.03").order_by("code").values_list("name", flat=True)
    everywhere = options(client, "desa")
    assert set(in_masamba) < set(everywhere)
    assert options(client, "desa", kecamatan="73.22.03") == ["Semua desa", *in_masamba]
    assert options(client, "desa") == everywhere


def test_the_pickers_speak_the_user_s_language(client, district):
    client.force_login(UserFactory())
    assert options(client, "kecamatan")[0] == "Semua kecamatan"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the footer's language switch
    assert options(client, "kecamatan")[0] == "All districts"
