"""Dinsos's PBI proposals: a confirmation with the segment and the PBI clock, an undo the same day, and
the proposals of an SK period with their export (DOMAIN.md, "PBI proposal")."""

import datetime
from collections import Counter

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from enrollment import exports, services
from enrollment.models import Enrollment, PbiProposal
from enrollment.views_bpjs import XLSX_CONTENT_TYPE
from newborns.models import AccessPoint
from newborns.privacy import log_identity_access
from sejagad import writers
from sejagad.access import capability_required
from sejagad.forms import BootstrapFormMixin, add_service_errors, parse_month
from sejagad.roles import Capability


class PbiProposalForm(BootstrapFormMixin, forms.Form):
    segment = forms.ChoiceField(
        label=_lazy("Segmen usulan"),
        choices=[
            ("PBI-APBN", _lazy("PBI-APBN: iuran dibayar APBN (Kemensos), keluarga terdaftar di DTKS/DTSEN")),
            ("PBI-APBD", _lazy("PBI-APBD: iuran dibayar APBD kabupaten/provinsi (Pemda)")),
        ],
        widget=forms.RadioSelect,
    )


@require_http_methods(["GET", "POST"])
@capability_required(Capability.PROPOSE_PBI)
def propose_pbi(request, pk):
    """Asks for the segment and shows the PBI clock; the proposal is made only by the confirming POST
    (a POST without a segment, such as the worklist's button, opens this page)."""
    enrollment = get_object_or_404(Enrollment.objects.in_scope_of(request.user).for_lists(), pk=pk)
    confirming = request.method == "POST" and "segment" in request.POST
    mother_segment = enrollment.newborn.mother.jkn_segment
    initial = {"segment": mother_segment} if mother_segment in services.PBI_SEGMENTS else {}
    form = PbiProposalForm(request.POST if confirming else None, initial=initial)
    if confirming and form.is_valid():
        try:
            proposal = services.propose_pbi(
                enrollment=enrollment, by=request.user, segment=form.cleaned_data["segment"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s diusulkan sebagai peserta %(segment)s. Usulan dapat dibatalkan sampai akhir hari ini.")
                % {"name": enrollment.newborn, "segment": proposal.segment},
            )
            return redirect(reverse("enrollment:pbi_list") + f"?periode={proposal.period:%Y-%m}")
    return render(
        request,
        "enrollment/pbi_confirm.html",
        {"enrollment": enrollment, "form": form, "clock": services.pbi_clock(enrollment)},
    )


@require_POST
@capability_required(Capability.PROPOSE_PBI)
def pbi_undo(request, pk):
    proposal = get_object_or_404(PbiProposal.objects.in_scope_of(request.user), pk=pk)
    try:
        services.undo_pbi_proposal(proposal=proposal, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Usulan PBI %(name)s dibatalkan.") % {"name": proposal.enrollment.newborn})
    return redirect(reverse("enrollment:pbi_list") + f"?periode={proposal.period:%Y-%m}")


def _pbi_period(request) -> datetime.date:
    """The SK period (a month) from ``?periode=YYYY-MM``; this month when absent or unreadable."""
    try:
        return parse_month(request.GET.get("periode", ""))
    except ValueError:
        return timezone.localdate().replace(day=1)


def _pbi_proposals(request, period: datetime.date):
    return (
        PbiProposal.objects.in_scope_of(request.user)
        .of_month(period)
        .select_related(
            "enrollment__newborn__mother", "enrollment__newborn__desa__parent", "proposed_by", "cancelled_by"
        )
        .order_by("proposed_at", "id")
    )


@capability_required(Capability.PROPOSE_PBI)
def pbi_list(request):
    """The proposals of one SK period, with the PBI clock of each, ready to export for the Surat Keputusan."""
    period = _pbi_period(request)
    rows = list(_pbi_proposals(request, period))
    today = timezone.localdate()
    for p in rows:
        p.clock = services.pbi_clock(p.enrollment, on=p.proposed_on)
        p.can_undo = p.cancelled_at is None and p.proposed_on == today
    standing = [p for p in rows if p.cancelled_at is None]
    return render(
        request,
        "enrollment/pbi_list.html",
        {
            "period": period,
            "previous": (period - datetime.timedelta(days=1)).replace(day=1),
            "next": (period + datetime.timedelta(days=32)).replace(day=1),
            "proposals": rows,
            "standing": len(standing),
            "by_segment": sorted(Counter(p.segment for p in standing).items()),
            "late": sum(1 for p in standing if not p.clock["on_time"]),
        },
    )


def _pbi_export(request, format: str):
    period = _pbi_period(request)
    proposals = _pbi_proposals(request, period).standing()
    count = proposals.count()
    exports.log_export(user=request.user, format=f"pbi-{format}", filters={"periode": f"{period:%Y-%m}"}, rows=count)
    log_identity_access(user=request.user, where=AccessPoint.EXPORT, count=count)
    return exports.pbi_proposal_rows(proposals.iterator(chunk_size=exports.CHUNK_SIZE), request.user), period


@require_GET
@capability_required(Capability.PROPOSE_PBI)
def pbi_export_csv(request):
    rows, period = _pbi_export(request, "csv")
    stream = writers.csv_text(exports.PBI_HEADERS, rows)
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
    return writers.attachment(response, f"usulan-pbi-{period:%Y-%m}.csv")


@require_GET
@capability_required(Capability.PROPOSE_PBI)
def pbi_export_xlsx(request):
    rows, period = _pbi_export(request, "xlsx")
    workbook = writers.write_xlsx(exports.PBI_HEADERS, rows, title=f"Usulan PBI {period:%Y-%m}")
    response = FileResponse(workbook, content_type=XLSX_CONTENT_TYPE)
    return writers.attachment(response, f"usulan-pbi-{period:%Y-%m}.xlsx")
