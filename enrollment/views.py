from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from enrollment import selectors, services
from enrollment.forms import EnrollmentForm, WorklistFilterForm
from enrollment.models import Enrollment, Notification
from sejagad.access import capability_required
from sejagad.forms import add_service_errors
from sejagad.roles import Capability

PAGE_SIZE = 25


def _query_with(request, **params) -> str:
    """This page's filters with some changed, back to the first page."""
    query = request.GET.copy()
    query.pop("page", None)
    for key, value in params.items():
        query[key] = value
    return "?" + query.urlencode()


@capability_required(Capability.VIEW_NEWBORNS)
def worklist(request):
    form = WorklistFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    rows = selectors.worklist(request.user, **filters)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    tabs = []
    if filters["kind"] == "risiko":
        # The badges count the list they open: the same filters, each level in turn.
        tabs = [
            (level, label, n, _query_with(request, level=level))
            for level, label, n in selectors.level_tabs(request.user, **filters)
        ]
    return render(
        request,
        "enrollment/worklist.html",
        {"form": form, "page": page, "kind": filters["kind"], "tabs": tabs, "filters": filters},
    )


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


@require_POST
@capability_required(Capability.PROPOSE_PBI)
def propose_pbi(request, pk):
    enrollment = get_object_or_404(Enrollment.objects.in_scope_of(request.user), pk=pk)
    try:
        services.propose_pbi(enrollment=enrollment, by=request.user, segment=request.POST.get("segment", "PBI-APBD"))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(name)s diusulkan sebagai peserta PBI.") % {"name": enrollment.newborn})
    return redirect(reverse("enrollment:worklist") + "?kind=dinsos")


@login_required
def notifications(request):
    if request.method == "POST":
        services.mark_notifications_read(user=request.user)
        return redirect("enrollment:notifications")
    rows = (
        Notification.objects.live().filter(recipient=request.user).select_related("enrollment__newborn__desa__parent")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "enrollment/notification_list.html", {"page": page})
