"""What a user is told: her daily digests and Kritis notices, marking them read, and Dinkes's "run the
deadline check now" with its progress."""

import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from enrollment import flagging, services
from enrollment.models import Digest, Notification
from sejagad.access import capability_required
from sejagad.roles import Capability

PAGE_SIZE = 25
RECENT_DIGESTS = 7
REQUESTED = "flag_run_requested_at"


@login_required
def notifications(request):
    if request.method == "POST":
        services.mark_notifications_read(user=request.user)
        return redirect("enrollment:notifications")
    digests = list(Digest.objects.filter(recipient=request.user)[:RECENT_DIGESTS])
    notices = (
        Notification.objects.live().filter(recipient=request.user).select_related("enrollment__newborn__desa__parent")
    )
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "enrollment/notification_list.html", {"page": page, "digests": digests})


def _back(request):
    """Back where the form was (the list, or the page the bell was opened from), never off the site."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("enrollment:notifications")


@require_POST
@login_required
def notice_read(request, pk):
    services.mark_notifications_read(user=request.user, notice_id=pk)
    return _back(request)


@require_POST
@login_required
def digest_read(request, pk):
    services.mark_notifications_read(user=request.user, digest_id=pk)
    return _back(request)


def _progress(request) -> dict:
    """The deadline check as the person who asked for it sees it: waiting for a worker, or finished with
    the run's figures. A run is one transaction, so it shows only once it has finished."""
    requested = parse_datetime(request.session.get(REQUESTED) or "")
    last = flagging.last_run()
    if requested and last and last.started_at >= requested:
        del request.session[REQUESTED]
        return {"state": "finished", "run": last}
    if requested:
        limit = datetime.timedelta(seconds=settings.JOB_TIME_LIMITS["enrollment.tasks.flag_deadlines"])
        late = timezone.now() - requested > limit
        return {"state": "late" if late else "waiting", "run": last, "requested": requested}
    return {"state": "idle", "run": last}


@require_POST
@capability_required(Capability.UPDATE_ENROLLMENT)
def flag_run_now(request):
    if services.queue_flag_deadlines():
        request.session[REQUESTED] = timezone.now().isoformat()
        messages.success(request, _("Pemeriksaan tenggat dikirim ke antrean; hasilnya tampil di sini."))
    else:
        messages.warning(
            request,
            _("Antrean sedang tidak tersedia; pemeriksaan tenggat belum dapat dijalankan. Coba lagi nanti."),
        )
    return _back(request)


@require_GET
@capability_required(Capability.UPDATE_ENROLLMENT)
def flag_status(request):
    return render(request, "enrollment/_flag_status.html", {"check": _progress(request)})
