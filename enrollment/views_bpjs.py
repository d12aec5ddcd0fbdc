"""The BPJS liaison's pages: worklist exports and the reconciliation of BPJS's membership list."""

from pathlib import Path

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from enrollment import export_jobs, exports, reconciliation
from enrollment.forms import ReconciliationUploadForm, WorklistFilterForm
from enrollment.models import Reconciliation, ReconciliationStatus
from newborns.models import AccessPoint
from newborns.privacy import log_identity_access
from sejagad import search
from sejagad.access import capability_required
from sejagad.roles import Capability, can
from sejagad.samples import sample_download, sample_names

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROWS_SHOWN = 200


def _worklist_rows(request):
    """The filters of the list the link came from (its search recalled from the session key): the query's,
    and what the export log keeps."""
    form = WorklistFilterForm(search.list_params(request), user=request.user)
    return form.filters(), form.as_log()


@require_GET
@capability_required(Capability.EXPORT_WORKLISTS)
def export_csv(request):
    """Streamed (COPY on PostgreSQL) from the first byte; the export log gets its row count at the end."""
    filters, log_filters = _worklist_rows(request)
    stream = exports.worklist_csv(user=request.user, filters=filters, log_filters=log_filters)
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
    return exports.attachment(response, exports.file_name(filters["kind"], "csv"))


@require_POST
@capability_required(Capability.EXPORT_WORKLISTS)
def export_xlsx(request):
    """ "Unduh Excel": a worker builds the file (a big list takes longer than a request may); the page of
    the job shows its progress. A second click while it runs returns to the same job."""
    job, created = export_jobs.request_worklist_export(user=request.user, params=search.list_params(request))
    if not created:
        messages.info(request, _("Berkas untuk daftar ini sedang dibuat; berikut kemajuannya."))
    return redirect("enrollment:export_job", pk=job.pk)


@require_http_methods(["GET", "POST"])
@capability_required(Capability.EXPORT_WORKLISTS)
def reconciliation_upload(request):
    form = ReconciliationUploadForm(request.POST or None, request.FILES or None)
    rejected = None
    if request.method == "POST" and form.is_valid():
        try:
            result = reconciliation.preview_reconciliation(upload=form.cleaned_data["file"], by=request.user)
        except reconciliation.FileRejected as exc:
            rejected = exc
        else:
            return redirect("enrollment:reconciliation_detail", pk=result.pk)
    recent = Reconciliation.objects.filter(uploaded_by=request.user).defer("rows", "columns")[:10]
    return render(
        request,
        "enrollment/reconciliation_upload.html",
        {
            "form": form,
            "rejected": rejected,
            "recent": recent,
            "columns": reconciliation.COLUMNS,
            "samples": sample_names(SAMPLES_DIR),
        },
    )


@require_GET
@capability_required(Capability.EXPORT_WORKLISTS)
def reconciliation_sample(request, name):
    return sample_download(SAMPLES_DIR, name)


def _own(request, pk) -> Reconciliation:
    # The rows hold the uploader's file and matches from the uploader's scope: nobody else's to see.
    return get_object_or_404(Reconciliation.objects.filter(uploaded_by=request.user), pk=pk)


@require_http_methods(["GET", "POST"])
@capability_required(Capability.EXPORT_WORKLISTS)
def reconciliation_detail(request, pk):
    item = _own(request, pk)
    if request.method == "POST":
        if not can(request.user, Capability.UPDATE_ENROLLMENT):
            raise PermissionDenied
        try:
            item = reconciliation.commit_reconciliation(reconciliation=item, by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("%(n)s perubahan kepesertaan diterapkan.")
                % {"n": item.counts.get(reconciliation.RowClass.BERUBAH, 0)},
            )
        return redirect("enrollment:reconciliation_detail", pk=item.pk)
    groups = []
    for kind in reconciliation.RowClass:
        rows = [r for r in item.rows if r["kind"] == kind]
        groups.append({"kind": kind.value, "label": kind.label, "count": len(rows), "rows": rows[:ROWS_SHOWN]})
    return render(
        request,
        "enrollment/reconciliation_detail.html",
        {
            "item": item,
            "groups": groups,
            "rows_shown": ROWS_SHOWN,
            "can_commit": item.status == ReconciliationStatus.PREVIEW
            and can(request.user, Capability.UPDATE_ENROLLMENT),
        },
    )


@require_GET
@capability_required(Capability.EXPORT_WORKLISTS)
def reconciliation_unmatched_csv(request, pk):
    item = _own(request, pk)
    rows = reconciliation.unmatched_rows(item)
    exports.log_export(user=request.user, format="rekon-csv", filters={"rekonsiliasi": item.pk}, rows=len(rows))
    # BPJS's own rows, NIK column whole, handed back to their uploader: still a whole-number export.
    log_identity_access(user=request.user, where=AccessPoint.EXPORT, count=len(rows))
    response = HttpResponse("".join(exports.csv_text(item.columns, rows)), content_type="text/csv; charset=utf-8")
    return exports.attachment(response, f"rekonsiliasi-{item.pk}-tidak-cocok.csv")
