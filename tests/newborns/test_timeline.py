import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from newborns.privacy import mask_number
from newborns.selectors import timeline
from newborns.services import record_documents
from sejagad.models import Region
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory, mother_nik, nik_for, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def bidan(district):
    return BidanFactory(first_name="Rina", last_name="Wulandari")


def change(obj, by, why, **fields):
    """Save a change the way the services do: who and why ride on the instance into its history."""
    for name, value in fields.items():
        setattr(obj, name, value)
    obj._history_user = by
    obj._change_reason = why
    obj.save()


def riwayat(client, baby) -> str:
    """The detail page's Riwayat section, as text a person reads."""
    client.force_login(UserFactory())
    page = client.get(reverse("newborns:detail", args=[baby.pk])).text
    return html.unescape(page.split('id="h-riwayat"')[1])


def said(baby) -> list[str]:
    return [e["what"] for e in timeline(baby)]


def test_a_new_birth_says_born_and_recorded_only(bidan):
    baby = register(by=bidan)
    assert said(baby) == ["Lahir", "Kelahiran dicatat"]
    assert timeline(baby)[1]["by"] == bidan


def test_a_change_is_one_plain_sentence_with_who_and_why(client, bidan):
    baby = register(by=bidan, sex="L")
    baby.sex = "P"
    baby._history_user = bidan
    baby._change_reason = "salah input"
    baby.save(update_fields=["sex", "updated_at"])

    event = timeline(baby)[-1]
    assert event["what"] == "Jenis kelamin diubah dari Laki-laki menjadi Perempuan"
    assert event["by"] == bidan
    assert event["why"] == "salah input"
    assert "Jenis kelamin diubah dari Laki-laki menjadi Perempuan oleh Rina Wulandari: salah input" in riwayat(
        client, baby
    )


def test_filled_and_cleared_values_are_said_so(bidan):
    baby = register(by=bidan)
    change(baby, bidan, "", given_name="Nur Aisyah")
    change(baby, bidan, "", given_name="")
    assert said(baby)[-2:] == ["Nama bayi diisi: Nur Aisyah", "Nama bayi dikosongkan (sebelumnya Nur Aisyah)"]


def test_a_desa_change_names_both_desa(client, bidan):
    baby = register(by=bidan)
    old, new = baby.desa, Region.objects.desa().filter(parent_id="73.22.03").exclude(pk=baby.desa_id).first()
    change(baby, bidan, "pindah domisili", desa=new)
    sentence = f"Desa/kelurahan domisili diubah dari {old.name} menjadi {new.name}"
    assert sentence in said(baby)
    assert f"{sentence} oleh Rina Wulandari: pindah domisili" in riwayat(client, baby)


def test_a_nik_shows_masked_only(client, bidan):
    baby = register(by=bidan, sex="P")
    nik = nik_for(baby.birth_date, female=True)
    baby = record_documents(
        newborn=baby,
        by=UserFactory(role=Role.PETUGAS_DUKCAPIL),
        nik=nik,
        nik_issued_on=timezone.localdate(),
    )
    assert f"NIK bayi diisi: {mask_number(nik)}" in said(baby)
    assert "NIK terbit" in said(baby)
    section = riwayat(client, baby)
    assert mask_number(nik) in section
    assert nik not in section


def test_void_and_restore_say_so_with_the_reason(client, bidan):
    baby = register(by=bidan)
    admin = UserFactory(role=Role.ADMIN_DINKES, first_name="Andi", last_name="Saputra")
    change(baby, admin, "tercatat dua kali", voided_at=timezone.now(), voided_by=admin, void_reason="tercatat dua kali")
    voided = timeline(baby)[-1]
    assert (voided["what"], voided["by"], voided["why"]) == ("Data dibatalkan", admin, "tercatat dua kali")

    change(baby, admin, "ternyata bukan ganda", voided_at=None, voided_by=None, void_reason="")
    assert said(baby)[-2:] == ["Data dibatalkan", "Data dipulihkan"]
    section = riwayat(client, baby)
    assert "Data dibatalkan oleh Andi Saputra: tercatat dua kali" in section
    assert "Data dipulihkan oleh Andi Saputra: ternyata bukan ganda" in section


def test_the_mothers_changes_after_the_birth_show_with_kk_masked(client, bidan):
    baby = register(by=bidan)
    mother = baby.mother
    old_name, old_kk, new_kk = mother.name, mother.kk_number, "7322030101200099"
    change(mother, bidan, "sesuai KTP", name=f"{old_name} HASAN", kk_number=new_kk)

    assert f"Nama ibu diubah dari {old_name} menjadi {old_name} HASAN" in said(baby)
    assert f"Nomor KK diubah dari {mask_number(old_kk)} menjadi {mask_number(new_kk)}" in said(baby)
    section = riwayat(client, baby)
    assert f"Nama ibu diubah dari {old_name} menjadi {old_name} HASAN oleh Rina Wulandari: sesuai KTP" in section
    assert old_kk not in section
    assert new_kk not in section


def test_queries_do_not_grow_with_the_changes(bidan):
    desas = list(Region.objects.desa().filter(parent_id="73.22.03")[:3])
    one = register(by=bidan, mother_nik=mother_nik(1))
    many = register(by=bidan, mother_nik=mother_nik(2))
    change(one, bidan, "", desa=desas[0], sex="L")
    for i in range(10):
        change(many, bidan, "koreksi", desa=desas[i % 3], sex="LP"[i % 2], weight_grams=3000 + i)

    with CaptureQueriesContext(connection) as few:
        timeline(one)
    with CaptureQueriesContext(connection) as lots:
        assert len(timeline(many)) > 20
    assert len(lots) == len(few)
