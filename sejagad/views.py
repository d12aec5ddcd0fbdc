from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from newborns.selectors import search_newborns
from sejagad.dashboard import Period, dashboard
from sejagad.roles import Capability, can
from sejagad.selectors import region_in_scope

LANDING_BABIES = 10


@login_required
def home(request):
    """The dashboard for the user's region, or a chosen region below it, and a period of birth months.
    The filters live in the URL, so a view can be shared; htmx swaps only the dashboard on a change.
    A role without the dashboard (bidan, Dukcapil, Dinsos) gets its own landing: no district figures."""
    if not can(request.user, Capability.VIEW_DASHBOARD):
        if request.headers.get("HX-Request"):
            raise PermissionDenied
        return _landing(request)
    code = request.GET.get("wilayah")
    region = region_in_scope(request.user, code)
    if region is None:
        if code:
            raise Http404
        return render(request, "sejagad/home.html", {"region": None})
    period = Period.from_months(request.GET.get("dari"), request.GET.get("sampai"), timezone.localdate())
    context = dashboard(request.user, region=region, period=period)
    template = "sejagad/_dashboard.html" if request.headers.get("HX-Request") else "sejagad/home.html"
    return render(request, template, context)


def _landing(request):
    """The latest babies the user may see (a bidan: her facility's), and the menu does the rest."""
    babies = search_newborns(request.user).order_by("-birth_date", "-id")[:LANDING_BABIES]
    return render(request, "sejagad/home.html", {"landing": True, "babies": list(babies)})


def healthz(request):
    """Liveness for the load balancer and docker-compose: answers 200 when the database does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
