"""The reminder card: the page to print and the PDF download, both without a NIK."""

import datetime
import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from newborns.services import record_documents
from sejagad.roles import Role
from tests.factories import BidanFactory, UserFactory, nik_for, register

pytestmark = pytest.mark.django_db
BORN = datetime.date(2026, 1, 31)  # the 3-month deadline clamps to 30 April


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def baby_with_nik(district):
    staf = UserFactory(role=Role.STAF_DINKES)
    newborn = register(by=staf, birth_date=BORN)
    record_documents(newborn=newborn, by=staf, kk_added_on=BORN + datetime.timedelta(days=5))
    record_documents(
        newborn=newborn,
        by=staf,
        kk_added_on=BORN + datetime.timedelta(days=5),
        nik=nik_for(BORN, female=True),
        nik_issued_on=BORN + datetime.timedelta(days=20),
    )
    newborn.refresh_from_db()
    return newborn


def test_the_pdf_download_has_the_name_the_dates_the_checklist_and_where_to_go_but_no_nik(client, baby_with_nik):
    client.force_login(UserFactory(role=Role.STAF_DINKES))
    response = client.get(reverse("enrollment:reminder_card_pdf", args=[baby_with_nik.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    width, height = (float(v) * 25.4 / 72 for v in reader.pages[0].mediabox[2:])
    assert (round(width), round(height)) == (148, 210)  # A5: half an A4 sheet
    text = pdf_text(response.content)
    for expected in (
        "By. Ny. SITI AMINAH",
        "Lahir 31 Januari 2026",
        "28 Februari 2026",
        "30 April 2026",
        "Kartu Keluarga (KK)",
        "Akta kelahiran",
        "NIK bayi terbit",
        "diperbarui di BPJS",
        "Disdukcapil",
        "Mobile JKN",
        "PANDAWA",
    ):
        assert expected in text, expected
    assert baby_with_nik.nik not in text.replace(" ", "")
    assert baby_with_nik.mother.nik not in text.replace(" ", "")


def test_the_card_page_says_the_same_and_offers_print_and_pdf(client, baby_with_nik, settings):
    settings.REMINDER_DUKCAPIL_OFFICE = "Kantor Disdukcapil Uji, Jl. Contoh 1"
    client.force_login(UserFactory(role=Role.STAF_DINKES))
    page = client.get(reverse("enrollment:reminder_card", args=[baby_with_nik.pk])).content.decode()
    assert "28 Februari 2026" in page and "30 April 2026" in page
    assert "Kantor Disdukcapil Uji, Jl. Contoh 1" in page
    assert reverse("enrollment:reminder_card_pdf", args=[baby_with_nik.pk]) in page
    assert baby_with_nik.nik not in page and baby_with_nik.mother.nik not in page


def test_a_card_outside_the_users_scope_is_not_found(client, district):
    newborn = register()
    client.force_login(BidanFactory(facility=None))
    assert client.get(reverse("enrollment:reminder_card", args=[newborn.pk])).status_code == 404
    assert client.get(reverse("enrollment:reminder_card_pdf", args=[newborn.pk])).status_code == 404
