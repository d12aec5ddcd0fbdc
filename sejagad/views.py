from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render

from sejagad import selectors


@login_required
def home(request):
    region = request.user.scope_region or selectors.district()
    summary = selectors.region_summary(region) if region else None
    return render(request, "sejagad/home.html", {"region": region, "summary": summary})


def healthz(request):
    """Liveness for the load balancer and docker-compose: answers 200 when the database does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
