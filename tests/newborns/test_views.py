import datetime
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from newborns.models import Newborn
from newborns.services import record_documents
from sejagad.models import Facility
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory, mother_nik, nik_for, register

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def birth_post(**overrides):
    data = {
        "submission_key": str(uuid.uuid4()),
        "mother_nik": mother_nik(),
        "mother_name": "Siti Aminah",
        "kk_number": "7322030101200001",
        "phone": "081234567890",
        "kecamatan": "73.22.03",
        "desa": "73.22.03.2004",
        "birth_date": (TODAY() - datetime.timedelta(days=1)).isoformat(),
        "sex": "P",
        "birth_order": "1",
        "weight_grams": "3100",
        "facility": str(Facility.objects.get(code="PKM-732203").pk),
    }
    return data | overrides


@pytest.fixture
def bidan(district):
    return BidanFactory(username="bidan")


def test_bidan_records_a_birth_and_sees_the_baby_under_its_temporary_name(client, bidan):
    client.force_login(bidan)
    form_page = client.get(reverse("newborns:create"))
    assert form_page.status_code == 200
    assert form_page.context["form"]["facility"].value() == bidan.facility_id
    response = client.post(reverse("newborns:create"), birth_post(), follow=True)
    baby = Newborn.objects.get()
    assert response.redirect_chain[-1][0] == reverse("newborns:detail", args=[baby.pk])
    assert "By. Ny. SITI AMINAH" in response.text
    assert "tersimpan" in response.text
    assert baby.attending_midwife == bidan
    assert baby.created_by == bidan


def test_a_wrong_nik_is_explained_and_nothing_is_saved(client, bidan):
    client.force_login(bidan)
    response = client.post(reverse("newborns:create"), birth_post(mother_nik="7322031708950001"))
    assert response.status_code == 200
    assert "NIK ibu harus NIK perempuan" in response.text
    assert "Tidak ada yang tersimpan" in response.text
    assert not Newborn.objects.exists()


def test_an_unknown_kecamatan_asks_for_confirmation_then_saves(client, bidan):
    client.force_login(bidan)
    data = birth_post(mother_nik="7322995708950001")
    response = client.post(reverse("newborns:create"), data)
    assert "tidak ada dalam daftar Kemendagri" in response.text
    assert 'name="confirm_numbers"' in response.text
    assert not Newborn.objects.exists()
    client.post(reverse("newborns:create"), data | {"confirm_numbers": "on"})
    assert Newborn.objects.get().mother.nik == "7322995708950001"


def test_a_form_sent_twice_creates_one_record(client, bidan):
    client.force_login(bidan)
    data = birth_post()
    client.post(reverse("newborns:create"), data)
    second = client.post(reverse("newborns:create"), data, follow=True)
    assert Newborn.objects.count() == 1
    assert "tidak digandakan" in second.text


def test_a_duplicate_birth_is_refused_with_a_link_to_the_existing_record(client, bidan):
    client.force_login(bidan)
    client.post(reverse("newborns:create"), birth_post())
    response = client.post(reverse("newborns:create"), birth_post())
    existing = Newborn.objects.get()
    assert "sudah tercatat" in response.text
    assert reverse("newborns:detail", args=[existing.pk]) in response.text


def test_twins_are_registered_through_the_form(client, bidan):
    client.force_login(bidan)
    client.post(reverse("newborns:create"), birth_post(birth_order="1"))
    client.post(reverse("newborns:create"), birth_post(birth_order="2", sex="L"))
    assert sorted(Newborn.objects.values_list("temporary_name", flat=True)) == [
        "By. Ny. SITI AMINAH I",
        "By. Ny. SITI AMINAH II",
    ]


def test_bidan_cannot_register_at_another_facility(client, bidan):
    client.force_login(bidan)
    other = Facility.objects.get(code="RSUD-7322")
    response = client.post(reverse("newborns:create"), birth_post(facility=str(other.pk)))
    assert "Pilih pilihan yang valid" in response.text or "pilihan yang tersedia" in response.text
    assert not Newborn.objects.exists()


def test_bidan_sees_only_her_facility_babies(client, bidan):
    own = register()
    other = register(mother_nik=mother_nik(2), facility=Facility.objects.get(code="PKM-732211"))
    client.force_login(bidan)
    listing = client.get(reverse("newborns:list"))
    assert list(listing.context["page"].object_list) == [own]
    assert client.get(reverse("newborns:detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("newborns:edit", args=[other.pk])).status_code == 404


def test_lists_mask_nik_and_the_detail_shows_it_to_roles_that_need_it(client, district):
    baby = register(mother_nik="7322035708950001")
    staf = UserFactory(role=Role.STAF_DINKES)
    client.force_login(staf)
    listing = client.get(reverse("newborns:list")).text
    assert "7322**********01" in listing
    assert "7322035708950001" not in listing
    assert "7322035708950001" in client.get(reverse("newborns:detail", args=[baby.pk])).text

    client.force_login(UserFactory(role=Role.PETUGAS_DINSOS))
    detail = client.get(reverse("newborns:detail", args=[baby.pk])).text
    assert "7322035708950001" not in detail
    assert "7322**********01" in detail


def test_each_row_of_the_newborn_list_shows_where_the_baby_stands_with_dukcapil(client, district):
    """Green once the NIK is issued, yellow with no document yet, blue in between; the "By. Ny." name under a
    given name, and "Rumah" for a birth at home."""
    register(mother_name="Siti Aminah", facility=None)
    in_kk = register(mother_nik=mother_nik(2), mother_name="Hasnah")
    record_documents(newborn=in_kk, by=in_kk.created_by, kk_added_on=TODAY())
    named = register(mother_nik=mother_nik(3), mother_name="Rahmawati")
    nik = nik_for(named.birth_date, female=named.sex == "P", serial=3)
    record_documents(newborn=named, by=named.created_by, nik=nik, nik_issued_on=TODAY(), confirmed=True)
    Newborn.objects.filter(pk=named.pk).update(given_name="Nur Aisyah")
    client.force_login(UserFactory(role=Role.STAF_DINKES))
    rows = {
        name: row
        for row in client.get(reverse("newborns:list")).text.split("<tr>")[2:]
        for name in ("SITI AMINAH", "HASNAH", "Nur Aisyah")
        if name in row
    }
    assert '<span class="badge text-bg-warning">Belum ada dokumen</span>' in rows["SITI AMINAH"]
    assert 'data-label="Tempat lahir">Rumah<' in rows["SITI AMINAH"]
    assert '<span class="badge text-bg-info">Sudah masuk KK</span>' in rows["HASNAH"]
    assert '<span class="badge text-bg-success">NIK terbit</span>' in rows["Nur Aisyah"]
    assert f'<div class="small text-muted">{named.temporary_name}</div>' in rows["Nur Aisyah"]


def test_list_searches_and_filters(client, district):
    siti = register(mother_name="Siti Aminah", birth_date=TODAY() - datetime.timedelta(days=3))
    hasnah = register(
        mother_nik=mother_nik(2, kecamatan="732211"),
        mother_name="Hasnah",
        desa=district.children.get(code="73.22.11").children.first(),
        birth_date=TODAY() - datetime.timedelta(days=40),
    )
    record_documents(newborn=hasnah, by=hasnah.created_by, kk_added_on=hasnah.birth_date)
    client.force_login(UserFactory(role=Role.STAF_DINKES))

    def found(**params):
        # The search box posts (a NIK never goes in a URL); the other filters may come from a link.
        send = client.post if "q" in params else client.get
        return list(send(reverse("newborns:list"), params, follow=True).context["page"].object_list)

    assert found(q="hasn") == [hasnah]
    assert found(q="BY. NY. SITI") == [siti]
    assert found(q=mother_nik(2, kecamatan="732211")) == [hasnah]
    assert found(kecamatan="73.22.11") == [hasnah]
    assert found(status="masuk_kk") == [hasnah]
    assert found(status="belum_ada") == [siti]
    assert found(month=f"{hasnah.birth_date:%Y-%m}")[-1] == hasnah
    assert found(q="tidak ada") == []
    assert "Tidak ada bayi yang cocok" in client.post(reverse("newborns:list"), {"q": "tidak ada"}, follow=True).text


def test_list_pages_25_rows(client, district):
    for i in range(27):
        register(mother_nik=mother_nik(i + 1), mother_name=f"Ibu {i}")
    client.force_login(UserFactory(role=Role.STAF_DINKES))
    first = client.get(reverse("newborns:list"))
    assert len(first.context["page"].object_list) == 25
    assert "1–25 dari 27" in first.text
    assert len(client.get(reverse("newborns:list"), {"page": 2}).context["page"].object_list) == 2


def test_list_query_count_does_not_grow_with_rows(client, district):
    client.force_login(UserFactory(role=Role.STAF_DINKES))
    for i in range(3):
        register(mother_nik=mother_nik(i + 1))
    client.get(reverse("newborns:list"))  # warm the session and caches

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("newborns:list"))
    for i in range(3, 20):
        register(mother_nik=mother_nik(i + 1), facility=Facility.objects.order_by("?").first())
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("newborns:list"))
    assert len(many) == len(few)


def test_empty_list_invites_the_first_birth(client, bidan):
    client.force_login(bidan)
    response = client.get(reverse("newborns:list"))
    assert "Belum ada kelahiran yang tercatat" in response.text


def test_petugas_bpjs_reads_but_cannot_register(client, district):
    client.force_login(UserFactory(role=Role.PETUGAS_BPJS))
    assert client.get(reverse("newborns:list")).status_code == 200
    assert client.get(reverse("newborns:create")).status_code == 403


def test_dukcapil_worklist_is_oldest_first_without_nik(client, district):
    old = register(birth_date=TODAY() - datetime.timedelta(days=80), sex="L")
    young = register(mother_nik=mother_nik(2), birth_date=TODAY() - datetime.timedelta(days=5))
    done = register(mother_nik=mother_nik(3), birth_date=TODAY() - datetime.timedelta(days=90), sex="L")
    record_documents(
        newborn=done, by=done.created_by, nik=nik_for(done.birth_date, female=False), nik_issued_on=TODAY()
    )
    client.force_login(UserFactory(role=Role.PETUGAS_DUKCAPIL))
    response = client.get(reverse("newborns:nik_worklist"))
    assert list(response.context["page"].object_list) == [old, young]
    assert list(
        client.get(reverse("newborns:nik_worklist"), {"desa": "73.22.03.2004"}).context["page"].object_list
    ) == [old, young]
    assert not client.get(reverse("newborns:nik_worklist"), {"kecamatan": "73.22.11"}).context["page"].object_list


def test_dukcapil_enters_a_nik_validated_against_the_baby(client, district):
    baby = register(sex="P", birth_date=TODAY() - datetime.timedelta(days=20))
    client.force_login(UserFactory(role=Role.PETUGAS_DUKCAPIL))
    url = reverse("newborns:documents", args=[baby.pk])
    wrong = client.post(url, {"nik": nik_for(baby.birth_date, female=False), "nik_issued_on": TODAY().isoformat()})
    assert "tidak cocok dengan bayi" in wrong.text
    baby.refresh_from_db()
    assert baby.nik is None

    nik = nik_for(baby.birth_date, female=True, serial=12)
    done = client.post(
        url,
        {
            "kk_added_on": TODAY().isoformat(),
            "akta_number": "7322-LT-1",
            "akta_issued_on": TODAY().isoformat(),
            "nik": nik,
            "nik_issued_on": TODAY().isoformat(),
        },
        follow=True,
    )
    assert "NIK terbit" in done.text
    baby.refresh_from_db()
    assert baby.nik == nik


def test_dukcapil_cannot_edit_birth_details_and_bidan_cannot_edit_documents(client, bidan):
    baby = register()
    client.force_login(UserFactory(role=Role.PETUGAS_DUKCAPIL))
    assert client.get(reverse("newborns:edit", args=[baby.pk])).status_code == 403
    client.force_login(bidan)
    assert client.get(reverse("newborns:documents", args=[baby.pk])).status_code == 403


def test_bidan_names_the_baby_and_the_timeline_shows_who(client, bidan):
    baby = register(by=bidan)
    client.force_login(bidan)
    form = client.get(reverse("newborns:edit", args=[baby.pk])).context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None} | {
        "given_name": "Nur Aisyah",
        "weight_grams": "3150",
    }
    client.post(reverse("newborns:edit", args=[baby.pk]), data)
    detail = client.get(reverse("newborns:detail", args=[baby.pk])).text
    assert "Nur Aisyah" in detail
    assert "Nama bayi diisi: Nur Aisyah" in detail
    assert "Berat lahir (gram) diubah dari 3100 menjadi 3150" in detail
    assert bidan.get_full_name() in detail


def test_staff_registering_outside_their_region_are_told_why(client, district):
    from sejagad.models import Region

    client.force_login(UserFactory(role=Role.STAF_DINKES, region=Region.objects.get(code="73.22.11")))
    response = client.post(reverse("newborns:create"), birth_post(facility=""))
    assert response.status_code == 200
    assert not Newborn.objects.exists()
