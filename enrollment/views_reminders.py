"""Reminders to the family: "kirim ulang" on the baby's page, the reminder card, and the gateway's two webhooks.

The webhooks are called by the gateway, not by a signed-in browser: CSRF-exempt, verified by the shared
secret REMINDER_WEBHOOK_SECRET (constant-time compare), and they log neither the number nor the text.
"""

import hmac
import json
import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from enrollment import card, reminders, tasks
from enrollment.models import ReminderMessage
from newborns.models import Newborn
from sejagad.access import capability_required
from sejagad.roles import Capability

logger = logging.getLogger(__name__)


@require_POST
@capability_required(Capability.VIEW_NEWBORNS)
def resend(request, pk):
    message = get_object_or_404(ReminderMessage.objects.in_scope_of(request.user), pk=pk)
    try:
        reminders.resend_reminder(message=message, by=request.user)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    else:
        transaction.on_commit(_send_soon)
        messages.success(request, _("Pesan dimasukkan ke antrean dan dikirim pada jam kirim berikutnya."))
    return redirect("newborns:detail", pk=message.newborn_id)


def _send_soon() -> None:
    try:
        tasks.send_reminders.delay()
    except Exception:  # kombu's OperationalError, or the transport's own: the periodic run sends it instead
        logger.warning("could not queue the reminder sender", exc_info=True)


def _verified(request) -> bool:
    secret = settings.REMINDER_WEBHOOK_SECRET
    given = request.headers.get("X-Webhook-Secret") or request.GET.get("secret", "")
    return bool(secret) and hmac.compare_digest(given.encode(), secret.encode())


def _payload(request) -> dict:
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}
    return request.POST.dict()


def _field(data: dict, path: str) -> str:
    for part in path.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return "" if data is None else str(data)


@csrf_exempt
@require_POST
def delivery_status(request):
    """The gateway reports a message delivered or failed."""
    if not _verified(request):
        return HttpResponse(status=403)
    data = _payload(request)
    gateway_id = _field(data, settings.REMINDER_STATUS_ID_FIELD)
    updated = reminders.record_delivery(gateway_id=gateway_id, status=_field(data, settings.REMINDER_STATUS_FIELD))
    logger.info("reminder delivery report: %s row(s) updated", updated)
    return JsonResponse({"updated": updated})


@csrf_exempt
@require_POST
def inbound(request):
    """A reply from a family: STOP (BERHENTI, UNREG) stops their reminders; anything else is ignored."""
    if not _verified(request):
        return HttpResponse(status=403)
    data = _payload(request)
    stopped = 0
    if reminders.is_stop(_field(data, settings.REMINDER_INBOUND_TEXT_FIELD)):
        stopped = reminders.stop_replies_from(_field(data, settings.REMINDER_INBOUND_FROM_FIELD))
    logger.info("reminder reply: %s mother(s) stopped", stopped)
    return JsonResponse({"stopped": stopped})


@capability_required(Capability.VIEW_NEWBORNS)
def reminder_card(request, newborn_pk):
    """The card to print (half A4) for the family; no NIK on it."""
    newborn = get_object_or_404(Newborn.objects.in_scope_of(request.user).select_related("facility"), pk=newborn_pk)
    return render(request, "enrollment/reminder_card.html", {"baby": newborn, "card": card.card_for(newborn)})


@capability_required(Capability.VIEW_NEWBORNS)
def reminder_card_pdf(request, newborn_pk):
    newborn = get_object_or_404(Newborn.objects.in_scope_of(request.user).select_related("facility"), pk=newborn_pk)
    response = HttpResponse(card.card_pdf(card.card_for(newborn)), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="kartu-pengingat-{newborn.pk}.pdf"'
    return response
