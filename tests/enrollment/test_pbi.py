"""Dinsos proposes PBI: a segment and a confirmation, an undo the same day, the proposals of an SK period
and their export with the PBI clock (DOMAIN.md, "PBI proposal"), always within the proposer's scope."""

import csv
import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from enrollment import services
from enrollment.models import Enrollment, ExportLog, PbiProposal
from sejagad.models import Region
from sejagad.roles import Role
from tests.factories import UserFactory, mother_nik, register

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def poor_baby(days_ago=20, serial=1, **kw):
    kw.setdefault("mother_jkn_segment", "PBI-APBN")
    baby = register(birth_date=TODAY() - datetime.timedelta(days=days_ago), mother_nik=mother_nik(serial), **kw)
    return Enrollment.objects.get(newborn=baby)


@pytest.fixture
def dinsos(district):
    return UserFactory(username="dinsos", role=Role.PETUGAS_DINSOS)


def test_proposing_asks_for_the_segment_and_shows_the_pbi_clock_before_anything_is_recorded(client, dinsos):
    enrollment = poor_baby(days_ago=20)
    client.force_login(dinsos)
    url = reverse("enrollment:propose_pbi", args=[enrollment.pk])
    page = client.get(url)
    assert page.status_code == 200
    # DOMAIN.md's PBI clock: birth date + 3 calendar months.
    assert page.context["clock"]["deadline"] == enrollment.nik_deadline
    assert page.context["clock"]["days_left"] == (enrollment.nik_deadline - TODAY()).days > 60
    assert "Batas usulan PBI" in page.text and "PBI-APBD" in page.text
    # The worklist's button (a POST with no segment) opens the same confirmation, nothing is proposed.
    assert client.post(url).status_code == 200
    assert not PbiProposal.objects.exists()
    enrollment.refresh_from_db()
    assert enrollment.pbi_proposed_on is None


def test_confirming_records_who_when_segment_and_period(client, dinsos):
    enrollment = poor_baby()
    client.force_login(dinsos)
    response = client.post(reverse("enrollment:propose_pbi", args=[enrollment.pk]), {"segment": "PBI-APBD"})
    assert response.status_code == 302
    proposal = PbiProposal.objects.get()
    assert (proposal.proposed_by, proposal.segment, proposal.proposed_on) == (dinsos, "PBI-APBD", TODAY())
    assert proposal.period == TODAY().replace(day=1)
    assert proposal.previous_segment == "PBI-APBN"  # the mother's, put back by an undo
    enrollment.refresh_from_db()
    assert (enrollment.segment, enrollment.pbi_proposed_on) == ("PBI-APBD", TODAY())
    listed = client.get(response.url)
    assert "diusulkan sebagai peserta PBI-APBD" in listed.text
    assert [p.pk for p in listed.context["proposals"]] == [proposal.pk]
    # Off the candidates' list once proposed.
    candidates = client.get(reverse("enrollment:worklist"), {"kind": "dinsos"}).context["page"].object_list
    assert enrollment not in list(candidates)


def test_a_segment_outside_pbi_is_refused_with_an_indonesian_message(client, dinsos):
    enrollment = poor_baby()
    client.force_login(dinsos)
    page = client.post(reverse("enrollment:propose_pbi", args=[enrollment.pk]), {"segment": "PBPU"})
    assert page.status_code == 200
    assert page.context["form"].errors["segment"]
    assert not PbiProposal.objects.exists()


def test_a_baby_is_proposed_once_while_a_proposal_stands(dinsos):
    enrollment = poor_baby()
    services.propose_pbi(enrollment=enrollment, by=dinsos, segment="PBI-APBN")
    with pytest.raises(ValidationError, match="sudah diusulkan"):
        services.propose_pbi(enrollment=enrollment, by=dinsos, segment="PBI-APBD")


def test_undo_the_same_day_puts_the_baby_back_among_the_candidates(client, dinsos):
    enrollment = poor_baby()
    proposal = services.propose_pbi(enrollment=enrollment, by=dinsos, segment="PBI-APBN")
    colleague = UserFactory(username="dinsos2", role=Role.PETUGAS_DINSOS)
    client.force_login(colleague)  # Dinsos of the same region may undo a colleague's proposal
    response = client.post(reverse("enrollment:pbi_undo", args=[proposal.pk]), follow=True)
    assert "dibatalkan" in response.text
    proposal.refresh_from_db()
    assert proposal.cancelled_by == colleague and proposal.cancelled_at
    enrollment.refresh_from_db()
    assert (enrollment.segment, enrollment.pbi_proposed_on, enrollment.pbi_proposed_by) == ("PBI-APBN", None, None)
    candidates = client.get(reverse("enrollment:worklist"), {"kind": "dinsos"}).context["page"].object_list
    assert enrollment in list(candidates)
    # ... and it can be proposed again.
    services.propose_pbi(enrollment=enrollment, by=dinsos, segment="PBI-APBD")
    assert PbiProposal.objects.standing().count() == 1


def test_undo_the_day_after_is_refused_in_indonesian(client, dinsos):
    proposal = services.propose_pbi(enrollment=poor_baby(), by=dinsos, segment="PBI-APBN")
    yesterday = TODAY() - datetime.timedelta(days=1)
    PbiProposal.objects.filter(pk=proposal.pk).update(proposed_on=yesterday)
    client.force_login(dinsos)
    response = client.post(reverse("enrollment:pbi_undo", args=[proposal.pk]), follow=True)
    assert "hanya dapat dibatalkan pada hari yang sama" in response.text
    proposal.refresh_from_db()
    assert proposal.cancelled_at is None


def test_proposals_stay_in_the_proposers_scope(two_kabupaten):
    w = two_kabupaten
    timur_dinsos = UserFactory(
        username="dinsos_timur", role=Role.PETUGAS_DINSOS, region=Region.objects.get(code="73.24")
    )
    utara = Enrollment.objects.get(newborn=w.masamba_baby)
    with pytest.raises(ValidationError, match="di luar wilayah kerja"):
        services.propose_pbi(enrollment=utara, by=timur_dinsos, segment="PBI-APBD")
    with pytest.raises(PermissionDenied):  # a role without the capability, whatever its region
        services.propose_pbi(enrollment=utara, by=w.staf, segment="PBI-APBD")
    own = services.propose_pbi(
        enrollment=utara, by=UserFactory(username="dinsos_utara", role=Role.PETUGAS_DINSOS), segment="PBI-APBD"
    )
    with pytest.raises(ValidationError, match="di luar wilayah kerja"):
        services.undo_pbi_proposal(proposal=own, by=timur_dinsos)


def test_pages_keep_to_the_scope(client, two_kabupaten):
    w = two_kabupaten
    utara = Enrollment.objects.get(newborn=w.masamba_baby)
    proposal = services.propose_pbi(
        enrollment=utara, by=UserFactory(username="dinsos_utara", role=Role.PETUGAS_DINSOS), segment="PBI-APBD"
    )
    client.force_login(
        UserFactory(username="dinsos_timur", role=Role.PETUGAS_DINSOS, region=Region.objects.get(code="73.24"))
    )
    timur = Enrollment.objects.get(newborn=w.timur_baby)
    assert client.get(reverse("enrollment:propose_pbi", args=[utara.pk])).status_code == 404
    assert client.post(reverse("enrollment:propose_pbi", args=[utara.pk]), {"segment": "PBI-APBD"}).status_code == 404
    assert client.post(reverse("enrollment:pbi_undo", args=[proposal.pk])).status_code == 404
    assert not client.get(reverse("enrollment:pbi_list")).context["proposals"]
    assert client.get(reverse("enrollment:propose_pbi", args=[timur.pk])).status_code == 200


def _proposals_of_two_months(dinsos):
    this_month = services.propose_pbi(enrollment=poor_baby(serial=1), by=dinsos, segment="PBI-APBN")
    last_month = services.propose_pbi(enrollment=poor_baby(serial=2), by=dinsos, segment="PBI-APBD")
    previous = (TODAY().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    PbiProposal.objects.filter(pk=last_month.pk).update(period=previous, proposed_on=previous)
    undone = services.propose_pbi(enrollment=poor_baby(serial=3), by=dinsos, segment="PBI-APBN")
    services.undo_pbi_proposal(proposal=undone, by=dinsos)
    return this_month, previous


def test_the_list_shows_one_period_with_its_pbi_clock(client, dinsos):
    this_month, previous = _proposals_of_two_months(dinsos)
    client.force_login(dinsos)
    page = client.get(reverse("enrollment:pbi_list"))
    standing = [p for p in page.context["proposals"] if not p.cancelled_at]
    assert standing == [this_month]
    assert page.context["standing"] == 1
    assert "Dibatalkan" in page.text  # the undone one stays visible, marked
    assert this_month.enrollment.nik_deadline.strftime("%-d") in page.text
    older = client.get(reverse("enrollment:pbi_list"), {"periode": f"{previous:%Y-%m}"})
    assert [p.segment for p in older.context["proposals"]] == ["PBI-APBD"]


def test_export_for_the_sk_holds_the_standing_proposals_of_the_period_in_csv_and_xlsx(client, dinsos):
    this_month, _previous = _proposals_of_two_months(dinsos)
    client.force_login(dinsos)
    period = f"{TODAY():%Y-%m}"
    response = client.get(reverse("enrollment:pbi_export_csv"), {"periode": period})
    assert response["Content-Disposition"] == f'attachment; filename="usulan-pbi-{period}.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert len(body) == 1
    row = dict(zip(header, body[0], strict=True))
    assert row["Segmen usulan"] == "PBI-APBN"
    assert row["Batas usulan PBI (lahir + 3 bulan)"] == this_month.enrollment.nik_deadline.isoformat()
    assert row["NIK ibu"] != this_month.enrollment.newborn.mother.nik  # Dinsos sees numbers masked
    xlsx = client.get(reverse("enrollment:pbi_export_xlsx"), {"periode": period})
    assert xlsx["Content-Disposition"] == f'attachment; filename="usulan-pbi-{period}.xlsx"'
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    assert sheet.max_row == 2 and sheet.cell(2, 11).value == "PBI-APBN"
    assert ExportLog.objects.filter(user=dinsos, format__startswith="pbi-").count() == 2


def test_export_escapes_formulas_in_names(client, dinsos):
    enrollment = poor_baby()
    # However a name got in (an old import, the admin), a spreadsheet must not run it.
    type(enrollment.newborn).objects.filter(pk=enrollment.newborn_id).update(given_name='=HYPERLINK("x")')
    services.propose_pbi(enrollment=enrollment, by=dinsos, segment="PBI-APBN")
    client.force_login(dinsos)
    response = client.get(reverse("enrollment:pbi_export_csv"))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[1][0] == '\'=HYPERLINK("x")'
    xlsx = client.get(reverse("enrollment:pbi_export_xlsx"))
    sheet = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content))).active
    assert sheet.cell(2, 1).value == '\'=HYPERLINK("x")'


def test_the_list_asks_the_database_the_same_number_of_times_whatever_its_length(client, dinsos):
    services.propose_pbi(enrollment=poor_baby(serial=1), by=dinsos, segment="PBI-APBN")
    client.force_login(dinsos)
    client.get(reverse("enrollment:pbi_list"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("enrollment:pbi_list"))
    for serial in range(2, 8):
        services.propose_pbi(enrollment=poor_baby(serial=serial), by=dinsos, segment="PBI-APBD")
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("enrollment:pbi_list"))
    assert page.context["standing"] == 7
    assert len(many) == len(few)
