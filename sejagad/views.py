import datetime

from axes.utils import reset as reset_failed_logins
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from rest_framework.authtoken.models import Token

from enrollment import selectors as enrollment_selectors
from enrollment.models import FlagLevel
from newborns.selectors import search_newborns
from sejagad import forms
from sejagad.access import capability_required
from sejagad.dashboard import Period, dashboard
from sejagad.landing import own_list_url
from sejagad.roles import Capability, can
from sejagad.selectors import region_in_scope
from sejagad.tokens import revoke_token, token_expires_at

LANDING_BABIES = 20
ACTION_WINDOW_DAYS = 7  # "needs action today": a deadline within a week


@login_required
def home(request):
    """Each role lands on its own work: BPJS, Dukcapil and Dinsos on their lists (``sejagad.landing``), the
    bidan on her page, Dinkes on the dashboard. A role without the dashboard never sees district figures."""
    htmx = request.headers.get("HX-Request")
    own_list = own_list_url(request.user)
    # Only the bare home page redirects: the dashboard's own links (filters, htmx) still answer here.
    if own_list and not htmx and not request.GET:
        return redirect(own_list)
    if not can(request.user, Capability.VIEW_DASHBOARD):
        if htmx:
            raise PermissionDenied
        return _landing(request)
    return _dashboard(request)


@capability_required(Capability.VIEW_DASHBOARD)
def dashboard_page(request):
    """The dashboard under its own address, for the menu of a role whose home is a list (BPJS)."""
    return _dashboard(request)


def _dashboard(request):
    """The dashboard for the user's region, or a chosen region below it, and a period of birth months.
    The filters live in the URL, so a view can be shared; htmx swaps only the dashboard on a change."""
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
    """The bidan's page: a big "Catat kelahiran" and her babies that need action today (Kritis or Mendesak,
    or a deadline within a week), fewest days left first. Any other role without a list of its own or the
    dashboard gets the latest babies it may see."""
    today = timezone.localdate()
    context = {"landing": True}
    if can(request.user, Capability.REGISTER_BIRTHS):
        urgent = (
            enrollment_selectors.worklist(request.user)
            .filter(
                Q(worst_level__in=[FlagLevel.KRITIS, FlagLevel.MENDESAK])
                | Q(due_on__gte=today, due_on__lte=today + datetime.timedelta(days=ACTION_WINDOW_DAYS))
            )
            .order_by("due_on", "newborn_id")
        )
        context["urgent"] = list(urgent[:LANDING_BABIES])
        context["urgent_count"] = urgent.count()
    else:
        babies = search_newborns(request.user).order_by("-birth_date", "-id")[:LANDING_BABIES]
        context["babies"] = list(babies)
    return render(request, "sejagad/home.html", context)


def healthz(request):
    """Liveness for the load balancer and docker-compose: answers 200 when the database does."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


class PasswordChangeView(auth_views.PasswordChangeView):
    """The account page: change one's password, and revoke one's API token."""

    form_class = forms.PasswordChangeForm
    success_url = reverse_lazy("password_change")

    def get_context_data(self, **kwargs):
        token = Token.objects.filter(user=self.request.user).first()
        return super().get_context_data(**kwargs) | {
            "api_token": token,
            "api_token_expires_at": token_expires_at(token) if token else None,
        }

    def form_valid(self, form):
        messages.success(self.request, _("Kata sandi Anda sudah diganti."))
        return super().form_valid(form)


@login_required
@require_POST
def revoke_api_token(request):
    revoke_token(user=request.user)
    messages.success(request, _("Token API Anda dicabut. Aplikasi yang memakainya harus masuk lagi."))
    return redirect("password_change")


class PasswordResetView(auth_views.PasswordResetView):
    """Sends the reset link to an active account with that address. The next page reads the same whether
    or not an account has it, so nobody learns which addresses are registered."""

    form_class = forms.PasswordResetForm
    success_url = reverse_lazy("password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = forms.SetPasswordForm
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        # The owner proved she reads the account's mail: lift a lockout on her name (django-axes), or the
        # new password would be refused until the cool-off ends.
        reset_failed_logins(username=self.user.get_username())
        return response
