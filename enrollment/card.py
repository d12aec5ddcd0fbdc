"""The reminder card a midwife gives the family at discharge or KN1: half an A4 sheet (A5), as a page to print
and as a PDF. It names the baby by its temporary name and never carries a NIK."""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.utils import formats, translation
from django.utils.translation import gettext as _
from fpdf import FPDF

from newborns.models import Newborn


@dataclass(frozen=True)
class CardStep:
    label: str
    done: bool


@dataclass(frozen=True)
class Card:
    name: str
    birth_date: datetime.date
    registration_deadline: datetime.date
    nik_deadline: datetime.date
    checklist: list[CardStep]
    dukcapil: str
    bpjs: str
    facility: str


def card_for(newborn: Newborn) -> Card:
    return Card(
        name=newborn.temporary_name,
        birth_date=newborn.birth_date,
        registration_deadline=newborn.registration_deadline,
        nik_deadline=newborn.nik_deadline,
        checklist=[
            CardStep(_("Bayi masuk Kartu Keluarga (KK)"), bool(newborn.kk_added_on)),
            CardStep(_("Akta kelahiran terbit"), bool(newborn.akta_issued_on)),
            CardStep(_("NIK bayi terbit"), bool(newborn.nik_issued_on)),
            CardStep(_("Data bayi diperbarui di BPJS dengan NIK"), False),
        ],
        dukcapil=settings.REMINDER_DUKCAPIL_OFFICE,
        bpjs=settings.REMINDER_BPJS_CHANNELS,
        facility=newborn.facility.name if newborn.facility_id else "",
    )


def long_date(value: datetime.date) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return formats.date_format(value, "j F Y")


def _latin(text: str) -> str:
    # The PDF's built-in Helvetica holds Latin-1; a typographic dash or quote becomes its plain form.
    plain = text.replace("\u2013", "-").replace("\u2014", "-").replace("\u2019", "'")
    return plain.encode("latin-1", "replace").decode("latin-1")


def card_pdf(card: Card) -> bytes:
    """The card on one A5 page, dates in large type, drawn with fpdf2's built-in fonts (nothing to download)."""
    pdf = FPDF(format=(148, 210), unit="mm")  # A5, half an A4 sheet
    pdf.set_title(_latin(_("Kartu pengingat JKN bayi")))
    pdf.set_auto_page_break(False)
    pdf.set_margins(10, 10, 10)
    pdf.add_page()
    width = pdf.epw

    def line(text: str, size: float, style: str = "", height: float | None = None, align: str = "L"):
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(width, height or size * 0.5, _latin(text), align=align, new_x="LMARGIN", new_y="NEXT")

    line(_("KARTU PENGINGAT JKN BAYI"), 11, "B", align="C")
    pdf.ln(2)
    line(card.name, 18, "B")
    line(_("Lahir %(date)s") % {"date": long_date(card.birth_date)}, 11)
    pdf.ln(3)
    deadlines = (
        (_("Daftarkan ke JKN paling lambat"), card.registration_deadline, _("28 hari setelah lahir")),
        (
            _("Perbarui NIK bayi di BPJS paling lambat"),
            card.nik_deadline,
            _("3 bulan; lewat dari itu JKN bayi NONAKTIF"),
        ),
    )
    for label, date, note in deadlines:
        top = pdf.get_y()
        line(label, 10, "B")
        line(long_date(date), 22, "B", height=10)
        line(note, 9)
        pdf.rect(pdf.l_margin - 2, top - 2, width + 4, pdf.get_y() - top + 3)
        pdf.ln(5)
    line(_("Yang perlu diurus"), 11, "B")
    pdf.ln(1)
    for step in card.checklist:
        y = pdf.get_y()
        pdf.rect(pdf.l_margin, y + 0.8, 4, 4)
        if step.done:
            pdf.set_font("Helvetica", "B", 10)
            pdf.text(pdf.l_margin + 0.8, y + 4.2, "X")
        pdf.set_x(pdf.l_margin + 7)
        pdf.set_font("Helvetica", "", 11)
        pdf.cell(width - 7, 6, _latin(step.label), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    line(_("Ke mana"), 11, "B")
    line(_("KK, akta dan NIK: %(office)s") % {"office": card.dukcapil}, 10)
    pdf.ln(1)
    line(_("Daftar dan perbarui JKN: %(channels)s") % {"channels": card.bpjs}, 10)
    if card.facility:
        pdf.set_y(-16)
        line(_("Dari %(facility)s, dengan SEJAGAD SEHAT") % {"facility": card.facility}, 8, align="C")
    return bytes(pdf.output())
