"""Coverage pages: the table with drill-down, the trend, the export, and imports with preview and progress."""

from pathlib import Path

from django.contrib import messages
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from coverage import selectors, services
from coverage.forms import ImportForm
from coverage.imports import FileRejected
from coverage.models import CoverageImport, ImportStatus, period_label
from sejagad import selectors as core
from sejagad import writers
from sejagad.access import capability_required
from sejagad.roles import Capability
from sejagad.samples import sample_download, sample_names
from sejagad.spreadsheets import escape_formula


def _region(request):
    region = core.region_in_scope(request.user, request.GET.get("wilayah", "").strip())
    if region is None:
        raise Http404(_("Wilayah tidak ditemukan atau di luar wilayah kerja Anda."))
    return region


@capability_required(Capability.VIEW_COVERAGE)
def coverage_table(request):
    table = selectors.coverage_table(
        user=request.user,
        region=_region(request),
        period=request.GET.get("periode"),
        sort=request.GET.get("urut", "kode"),
    )
    return render(request, "coverage/coverage_table.html", {"table": table, "period_label": period_label})


@capability_required(Capability.VIEW_COVERAGE)
def coverage_trend(request):
    region = _region(request)
    points = selectors.trend(region=region)
    chart = {
        "labels": [period_label(p.period) for p in points],
        "coverage": [float(p.snapshot.coverage_pct) if p.snapshot.coverage_pct is not None else None for p in points],
        "active": [float(p.snapshot.active_pct) if p.snapshot.active_pct is not None else None for p in points],
        "target": [float(p.status.criterion.coverage_threshold) if p.status.criterion else None for p in points],
    }
    return render(request, "coverage/coverage_trend.html", {"region": region, "points": points, "chart": chart})


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_HEADER = [
    "kode_wilayah",
    "nama_wilayah",
    "tingkat",
    "periode",
    "jumlah_penduduk",
    "jumlah_peserta",
    "peserta_aktif",
    "cakupan_persen",
    "keaktifan_persen",
    "kekurangan_peserta",
    "status_uhc",
    "tingkat_uhc",
]


def _export_values(row, period):
    s = row.snapshot
    status = ""
    if s is None or not s.has_data:
        status = _("data belum tersedia")
    elif s.is_uhc is True:
        status = _("UHC")
    elif s.is_uhc is False:
        status = _("belum UHC")
    else:
        status = _("belum dapat dinilai")
    return [
        row.region.code,
        escape_formula(row.region.name),
        row.region.get_level_display(),
        period,
        s.population if s else None,
        s.participants if s else None,
        s.active_participants if s else None,
        s.coverage_pct if s else None,
        s.active_pct if s else None,
        s.gap if s else None,
        status,
        escape_formula(s.tier) if s else "",
    ]


@capability_required(Capability.VIEW_COVERAGE)
def coverage_export(request):
    """The table as shown (region first, then its children in the page's order), with the writer of every
    export. Not a COPY: the rows are sorted and their UHC status judged in Python against the tiers in
    force, over one region's children (tens to a few hundred rows), so one SELECT would not be the page."""
    table = selectors.coverage_table(
        user=request.user,
        region=_region(request),
        period=request.GET.get("periode"),
        sort=request.GET.get("urut", "kode"),
    )
    # The table is in memory already; its labels are translated now, in the request's language.
    rows = [_export_values(row, table.period) for row in selectors.export_rows(table)]
    name = f"cakupan-{slugify(table.region.name)}-{table.period or 'kosong'}"
    if request.GET.get("format") == "xlsx":
        with writers.write_xlsx(EXPORT_HEADER, rows, title=_("Cakupan")) as book:
            response = HttpResponse(book.read(), content_type=XLSX_CONTENT_TYPE)
        return writers.attachment(response, f"{name}.xlsx")
    response = StreamingHttpResponse(writers.csv_text(EXPORT_HEADER, rows), content_type="text/csv; charset=utf-8")
    return writers.attachment(response, f"{name}.csv")


@capability_required(Capability.IMPORT_COVERAGE)
def import_list(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.start_import(
                kind=form.cleaned_data["kind"],
                uploaded=form.cleaned_data["file"],
                by=request.user,
                period=form.cleaned_data["period"],
            )
        except FileRejected as exc:
            form.add_error("file", str(exc))
        else:
            if not services.runs_in_background(record):
                services.preview_import(import_id=record.pk)
            elif not services.queue_import_job(import_id=record.pk):
                record.refresh_from_db(fields=["message"])
                messages.warning(request, record.message)
            return redirect("coverage:import_detail", pk=record.pk)
    imports = selectors.recent_imports(user=request.user)
    return render(
        request,
        "coverage/import_list.html",
        {"form": form, "imports": imports, "samples": sample_names(SAMPLES_DIR)},
    )


SAMPLES_DIR = Path(__file__).resolve().parent / "samples"


@capability_required(Capability.IMPORT_COVERAGE)
def import_sample(request, name):
    return sample_download(SAMPLES_DIR, name)


@capability_required(Capability.IMPORT_COVERAGE)
def import_detail(request, pk):
    record = get_object_or_404(
        CoverageImport.objects.visible_to(request.user).select_related("uploaded_by", "region"), pk=pk
    )
    samples = sample_names(SAMPLES_DIR) if record.error_count else []
    return render(request, "coverage/import_detail.html", {"record": record, "samples": samples})


@capability_required(Capability.IMPORT_COVERAGE)
def import_progress(request, pk):
    """The polled fragment; once the job is finished it asks htmx to reload the whole page."""
    record = get_object_or_404(CoverageImport.objects.visible_to(request.user), pk=pk)
    response = render(request, "coverage/_import_progress.html", {"record": record})
    if not record.is_running and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@require_POST
@capability_required(Capability.IMPORT_COVERAGE)
def import_commit(request, pk):
    record = get_object_or_404(CoverageImport.objects.visible_to(request.user), pk=pk)
    if not record.can_commit:
        messages.error(
            request, _("Impor ini tidak dapat disimpan: %(status)s.") % {"status": record.get_status_display()}
        )
    elif services.runs_in_background(record):
        if services.queue_commit(import_id=record.pk) and not services.queue_import_job(import_id=record.pk):
            record.refresh_from_db(fields=["message"])
            messages.warning(request, record.message)
    else:
        outcome = services.commit_import(import_id=record.pk)
        if outcome.record.status == ImportStatus.DONE:
            messages.success(
                request,
                _("Tersimpan: %(new)s baris baru, %(changed)s berubah. Cakupan dihitung ulang di latar belakang.")
                % {"new": outcome.record.rows_new, "changed": outcome.record.rows_changed},
            )
        else:
            messages.error(request, outcome.record.message or outcome.record.get_status_display())
    return redirect("coverage:import_detail", pk=record.pk)


@require_POST
@capability_required(Capability.IMPORT_COVERAGE)
def import_retry(request, pk):
    """ "Coba lagi" on a stalled import: its job is queued again (the job is safe to run twice)."""
    record = get_object_or_404(CoverageImport.objects.visible_to(request.user), pk=pk)
    if not record.is_stalled:
        messages.info(request, _("Impor ini tidak sedang terhenti; tidak ada yang perlu diulang."))
    elif services.retry_import(import_id=record.pk):
        messages.success(request, _("Pekerjaan impor dikirim ulang ke antrean."))
    else:
        record.refresh_from_db(fields=["message"])
        messages.warning(request, record.message)
    return redirect("coverage:import_detail", pk=record.pk)
