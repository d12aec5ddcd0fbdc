from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from enrollment import selectors, services, summary
from enrollment.forms import WORKLIST_CHOICES, WORKLIST_TITLES, EnrollmentForm, WorklistFilterForm
from enrollment.models import AT_RISK, Enrollment
from enrollment.templatetags.worklist_rows import ROW_FIELDS
from newborns import privacy
from sejagad import search
from sejagad.access import capability_required
from sejagad.forms import add_service_errors
from sejagad.pagination import describe_filters, page_or_all
from sejagad.roles import Capability

PAGE_SIZE = 25


def _query_with(request, drop=(), **params) -> str:
    """This page's filters with some changed or dropped, back to the first page."""
    query = request.GET.copy()
    for key in ("page", "kind", *drop):
        query.pop(key, None)
    for key, value in params.items():
        query[key] = value
    return "?" + query.urlencode() if query else ""


# Each worklist's own address (its menu entry and tab); ``?kind=`` on the first keeps older links working.
WORKLIST_URLS = {
    "risiko": "enrollment:worklist",
    "aktivasi": "enrollment:worklist_reactivation",
    "bpjs": "enrollment:worklist_bpjs",
    "dinsos": "enrollment:worklist_dinsos",
}


@require_http_methods(["GET", "POST"])
@capability_required(Capability.VIEW_NEWBORNS)
def worklist(request, kind=None):
    if request.method == "POST":
        return search.search_redirect(request, request.path)
    data = search.list_params(request)
    if kind:
        data["kind"] = kind
    today = timezone.localdate()
    form = WorklistFilterForm(data, user=request.user)
    form.read_pickers_once_per_version(today)
    filters = form.filters()
    # The address decides the list, even when another filter is invalid and filters nothing.
    kind = filters["kind"] = kind or filters["kind"]
    rows = selectors.worklist(request.user, **filters).only(*ROW_FIELDS)
    # The badges count the list shown: the same filters, each level in turn. For an area and whole birth
    # months the dashboard's summary has counted them (and the list itself); a bidan's few babies are counted
    # in one pass; other filters count the list.
    known = summary.worklist_counts(request.user, filters, today) or summary.facility_counts(
        request.user, filters, today
    )
    if known and known["levels"]:
        tabs = [(level.value, level.label, known["levels"][level.value]) for level in AT_RISK]
        length = known["levels"][filters["level"]] if "level" in filters else known["lists"][kind]
    else:
        tabs = selectors.level_tabs(request.user, **filters)
        length = known["lists"][kind] if known and not {"level", "status"} & set(filters) else None
    page = page_or_all(request, rows, PAGE_SIZE, known=length)
    privacy.log_number_search(
        user=request.user, query=filters.get("q"), newborn_ids=[e.newborn_id for e in page.object_list]
    )
    here = reverse(WORKLIST_URLS[kind])
    levels = [
        (level, label, n, here + _query_with(request, level=level)) for level, label, n in tabs if n or kind == "risiko"
    ]
    counts = known["lists"] if known else selectors.worklist_counts(request.user, **filters)
    lists = [
        (key, label, counts[key], reverse(WORKLIST_URLS[key]) + _query_with(request, drop=("level", "status")))
        for key, label in WORKLIST_CHOICES
    ]
    return render(
        request,
        "enrollment/worklist.html",
        {
            "form": form,
            "page": page,
            "kind": kind,
            "title": WORKLIST_TITLES[kind],
            "lists": lists,
            "tabs": levels,
            "filters": filters,
            "export_query": _export_query(request, kind),
            "filtered": any(k in filters for k in ("q", "level", "status", "segment", "facility")),
            "print_filters": describe_filters(form, hidden=("q",)),
        },
    )


def _export_query(request, kind: str) -> str:
    """The export takes this page's filters (the search by its session key) and this list."""
    query = request.GET.copy()
    query.pop("page", None)
    query["kind"] = kind
    return query.urlencode()


@capability_required(Capability.UPDATE_ENROLLMENT)
def enrollment_edit(request, pk):
    enrollment = get_object_or_404(Enrollment.objects.in_scope_of(request.user).for_lists(), pk=pk)
    initial = {f: getattr(enrollment, f) for f in EnrollmentForm.base_fields}
    form = EnrollmentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_enrollment(enrollment=enrollment, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Kepesertaan %(name)s diperbarui.") % {"name": enrollment.newborn})
            return redirect("newborns:detail", pk=enrollment.newborn_id)
    return render(
        request,
        "enrollment/enrollment_form.html",
        {
            "enrollment": enrollment,
            "form": form,
            "advice": services.segment_advice(enrollment.segment),
        },
    )


@capability_required(Capability.UPDATE_ENROLLMENT)
def enrollment_for_newborn(request, newborn_pk):
    """From a baby's page: its enrollment, ready to update."""
    enrollment = get_object_or_404(Enrollment.objects.in_scope_of(request.user), newborn_id=newborn_pk)
    return redirect("enrollment:edit", pk=enrollment.pk)
