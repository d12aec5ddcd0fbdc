"""The page of a worklist XLSX job: its progress (polled with htmx), its download, its retry, and the
requester's recent jobs. Every job is its requester's alone: anyone else gets a 404."""

from django.conf import settings
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from enrollment import export_jobs, exports
from enrollment.forms import WORKLIST_TITLES
from enrollment.models import ExportJob
from enrollment.views import WORKLIST_URLS
from enrollment.views_bpjs import XLSX_CONTENT_TYPE
from sejagad.access import capability_required
from sejagad.roles import Capability

JOBS_PER_PAGE = 10


def _own(request, pk) -> ExportJob:
    return get_object_or_404(export_jobs.recent_jobs(request.user), pk=pk)


@require_GET
@capability_required(Capability.EXPORT_WORKLISTS)
def export_job(request, pk):
    job = _own(request, pk)
    page = Paginator(export_jobs.recent_jobs(request.user), JOBS_PER_PAGE).get_page(request.GET.get("page"))
    jobs = list(page.object_list)
    for item in jobs:
        item.title = WORKLIST_TITLES.get(item.kind, item.kind)
    return render(
        request,
        "enrollment/export_job.html",
        {
            "job": job,
            "title": WORKLIST_TITLES.get(job.kind, job.kind),
            "list_url": WORKLIST_URLS.get(job.kind, "enrollment:worklist"),
            "page": page,
            "jobs": jobs,
            "file_hours": settings.EXPORT_FILE_HOURS,
        },
    )


@require_GET
@capability_required(Capability.EXPORT_WORKLISTS)
def export_job_progress(request, pk):
    """The polled fragment; once the job stops running it asks htmx to reload the page (download button)."""
    job = _own(request, pk)
    response = render(request, "enrollment/export_job_progress.html", {"job": job})
    if not job.is_running and request.headers.get("HX-Request"):
        response["HX-Refresh"] = "true"
    return response


@require_GET
@capability_required(Capability.EXPORT_WORKLISTS)
def export_job_download(request, pk):
    job = _own(request, pk)
    if not job.can_download:
        raise Http404
    try:
        handle = job.file.open("rb")
    except FileNotFoundError:  # deleted by hand or by a sweep racing this click
        raise Http404 from None
    response = FileResponse(handle, content_type=XLSX_CONTENT_TYPE)
    day = timezone.localdate(job.created_at)
    return exports.attachment(response, exports.file_name(job.kind, "xlsx", today=day))


@require_POST
@capability_required(Capability.EXPORT_WORKLISTS)
def export_job_retry(request, pk):
    job = export_jobs.retry_export_job(job=_own(request, pk))
    return redirect("enrollment:export_job", pk=job.pk)
