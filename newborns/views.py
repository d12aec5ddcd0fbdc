from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from newborns import outbox, privacy, satusehat, selectors, services
from newborns.forms import (
    BirthForm,
    CorrectionForm,
    DocumentsForm,
    IdentityAccessFilterForm,
    NewbornFilterForm,
    ReasonForm,
    ReminderContactForm,
)
from newborns.models import AccessPoint, IdentityAccess, Newborn
from newborns.templatetags.newborn_lists import ROW_FIELDS
from sejagad import search
from sejagad.access import capability_required
from sejagad.forms import add_service_errors
from sejagad.pagination import describe_filters, page_or_all
from sejagad.roles import Capability, can

PAGE_SIZE = 25


def _filters(request) -> tuple[NewbornFilterForm, dict]:
    data = search.list_params(request)
    form = NewbornFilterForm(data or None, user=request.user)
    return form, form.filters()


@require_http_methods(["GET", "POST"])
@capability_required(Capability.VIEW_NEWBORNS)
def newborn_list(request):
    if request.method == "POST":
        return search.search_redirect(request, reverse("newborns:list"))
    form, filters = _filters(request)
    babies = selectors.search_newborns(request.user, **filters).only(*ROW_FIELDS)
    page = page_or_all(request, babies, PAGE_SIZE)
    privacy.log_number_search(user=request.user, query=filters.get("q"), newborn_ids=[b.pk for b in page.object_list])
    return render(
        request,
        "newborns/newborn_list.html",
        {"form": form, "page": page, "filtered": bool(filters), "print_filters": describe_filters(form, ("q",))},
    )


@require_http_methods(["GET", "POST"])
@capability_required(Capability.UPDATE_DOCUMENTS)
def nik_worklist(request):
    if request.method == "POST":
        return search.search_redirect(request, reverse("newborns:nik_worklist"))
    form, filters = _filters(request)
    filters = {k: v for k, v in filters.items() if k in ("q", "kecamatan", "desa")}
    today = timezone.localdate()
    page = page_or_all(request, selectors.nik_worklist(request.user, today=today, **filters), PAGE_SIZE)
    for baby in page.object_list:
        baby.nik_days_left = (baby.nik_deadline - today).days
    privacy.log_number_search(user=request.user, query=filters.get("q"), newborn_ids=[b.pk for b in page.object_list])
    context = {"form": form, "page": page, "filtered": bool(filters), "print_filters": describe_filters(form, ("q",))}
    return render(request, "newborns/worklist_dukcapil.html", context)


@capability_required(Capability.REGISTER_BIRTHS)
def newborn_create(request):
    form = BirthForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.register_birth(by=request.user, **form.registration_kwargs())
        except services.DuplicateBirth as exc:
            if privacy.visible_duplicate(exc.existing, request.user):
                url = reverse("newborns:detail", args=[exc.existing.pk])
                form.add_error(
                    None, format_html('{} <a href="{}">{}</a>', str(exc), url, _("Buka data yang sudah ada"))
                )
            else:
                form.add_error(None, privacy.DUPLICATE_ELSEWHERE)
        except ValidationError as exc:
            form.show_service_errors(exc)
        else:
            baby = result.newborn
            if result.created:
                messages.success(request, _("Kelahiran %(name)s tersimpan.") % {"name": baby.temporary_name})
            else:
                messages.info(
                    request,
                    _("Formulir ini sudah terkirim sebelumnya; data %(name)s tidak digandakan.")
                    % {"name": baby.temporary_name},
                )
            return redirect("newborns:detail", pk=baby.pk)
    return render(request, "newborns/newborn_form.html", {"form": form})


def _reachable(user):
    """Live babies in scope; voided ones too for those who may restore them."""
    babies = (
        Newborn.objects.within_reach_of(user)
        if can(user, Capability.CORRECT_BIRTHS)
        else Newborn.objects.in_scope_of(user)
    )
    return babies.for_lists()


@capability_required(Capability.VIEW_NEWBORNS)
def newborn_detail(request, pk):
    # The reminders the enrollment app sent to the family, read through the relation it declares (no import).
    baby = get_object_or_404(_reachable(request.user).prefetch_related("reminder_messages__step"), pk=pk)
    privacy.log_identity_access(user=request.user, where=AccessPoint.DETAIL, newborn_ids=[baby.pk])
    return render(
        request,
        "newborns/newborn_detail.html",
        {
            "baby": baby,
            "timeline": selectors.timeline(baby),
            "can_correct": services.can_correct(request.user, baby) and not baby.is_voided,
            "satusehat": selectors.satusehat_state(baby),
            "contact_form": ReminderContactForm(
                initial={"phone": baby.mother.phone, "reminder_consent": baby.mother.can_be_reminded}
            ),
        },
    )


@require_POST
@capability_required(Capability.REGISTER_BIRTHS)
def satusehat_retry(request, pk):
    """Send a baby's failed SATUSEHAT messages again now."""
    baby = get_object_or_404(Newborn.objects.in_scope_of(request.user), pk=pk)
    if outbox.retry(newborn=baby):
        messages.success(request, _("Data %(name)s dikirim ulang ke SATUSEHAT.") % {"name": baby.temporary_name})
    else:
        messages.info(request, _("Tidak ada kiriman SATUSEHAT yang galat untuk bayi ini."))
    return redirect("newborns:detail", pk=baby.pk)


@require_POST
@capability_required(Capability.REGISTER_BIRTHS)
def newborn_contact(request, pk):
    """The family's number and the mother's consent to reminders, from the baby's page."""
    baby = get_object_or_404(Newborn.objects.in_scope_of(request.user), pk=pk)
    form = ReminderContactForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError([e for errors in form.errors.values() for e in errors])
        data = form.cleaned_data
        services.set_reminder_contact(
            newborn=baby, by=request.user, phone=data["phone"], consent=data["reminder_consent"]
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Nomor HP dan persetujuan pengingat disimpan."))
    return redirect("newborns:detail", pk=baby.pk)


@capability_required(Capability.REGISTER_BIRTHS)
def newborn_edit(request, pk):
    baby = get_object_or_404(Newborn.objects.in_scope_of(request.user).for_lists(), pk=pk)
    if not services.can_correct(request.user, baby):
        messages.error(request, services.correction_closed_message())
        return redirect("newborns:detail", pk=baby.pk)
    form = CorrectionForm(request.POST or None, user=request.user, newborn=baby)
    if request.method == "POST" and form.is_valid():
        try:
            services.correct_birth(newborn=baby, by=request.user, **form.correction_kwargs())
        except ValidationError as exc:
            form.show_service_errors(exc)
        else:
            messages.success(request, _("Data kelahiran diperbaiki."))
            return redirect("newborns:detail", pk=baby.pk)
    # The form is filled with the mother's NIK, whole.
    privacy.log_identity_access(user=request.user, where=AccessPoint.FORM, newborn_ids=[baby.pk])
    return render(request, "newborns/newborn_form.html", {"baby": baby, "form": form})


@require_POST
@capability_required(Capability.CORRECT_BIRTHS)
def newborn_void(request, pk):
    return _void_or_restore(request, pk, services.void_birth, _("Data %(name)s dibatalkan."))


@require_POST
@capability_required(Capability.CORRECT_BIRTHS)
def newborn_restore(request, pk):
    return _void_or_restore(request, pk, services.restore_birth, _("Data %(name)s dipulihkan."))


def _void_or_restore(request, pk, service, done: str):
    baby = get_object_or_404(_reachable(request.user), pk=pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            service(newborn=baby, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, done % {"name": baby.temporary_name})
    else:
        messages.error(request, _("Tulis alasannya terlebih dahulu."))
    return redirect("newborns:detail", pk=baby.pk)


@capability_required(Capability.CORRECT_BIRTHS)
def voided_list(request):
    babies = Newborn.objects.within_reach_of(request.user).voided().for_lists().select_related("voided_by")
    page = page_or_all(request, babies.order_by("-voided_at"), PAGE_SIZE)
    return render(request, "newborns/newborn_voided.html", {"page": page})


@capability_required(Capability.REGISTER_BIRTHS)
def satusehat_errors(request):
    """The babies SATUSEHAT refused or could not be reached for, with SATUSEHAT's reason and a retry each."""
    rows = selectors.satusehat_errors(request.user)
    page = page_or_all(request, rows, PAGE_SIZE)
    return render(
        request,
        "newborns/satusehat_errors.html",
        {"page": page, "configured": satusehat.is_configured()},
    )


@capability_required(Capability.UPDATE_DOCUMENTS)
def newborn_documents(request, pk):
    baby = get_object_or_404(Newborn.objects.in_scope_of(request.user).for_lists(), pk=pk)
    initial = {f: getattr(baby, f) for f in DocumentsForm.base_fields if f != "confirm_numbers"}
    form = DocumentsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.record_documents(newborn=baby, by=request.user, confirmed=data.pop("confirm_numbers"), **data)
        except ValidationError as exc:
            add_service_errors(form, exc)
            form.needs_confirmation = any(e.code == "unknown_kecamatan" for e in exc.error_dict.get("nik", []))
        else:
            messages.success(request, _("Dokumen %(name)s diperbarui.") % {"name": baby.display_name})
            return redirect("newborns:detail", pk=baby.pk)
    if baby.nik:  # the form is filled with it, whole
        privacy.log_identity_access(user=request.user, where=AccessPoint.FORM, newborn_ids=[baby.pk])
    return render(request, "newborns/newborn_documents.html", {"baby": baby, "form": form})


ACCESS_LOG_PAGE_SIZE = 50


@capability_required(Capability.MANAGE_SYSTEM)
def identity_access_log(request):
    """Who was shown whole NIK/KK numbers, newest first, by user and by baby (UU PDP)."""
    form = IdentityAccessFilterForm(request.GET or None, user=request.user)
    filters = form.filters()
    rows = privacy.access_log(request.user, **filters) if filters is not None else IdentityAccess.objects.none()
    # The log only grows: page without COUNT(*), one row past the page tells whether another follows.
    number = _page_number(request)
    start = (number - 1) * ACCESS_LOG_PAGE_SIZE
    entries = list(rows[start : start + ACCESS_LOG_PAGE_SIZE + 1])
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "newborns/identity_access_list.html",
        {
            "form": form,
            "entries": entries[:ACCESS_LOG_PAGE_SIZE],
            "number": number,
            "has_next": len(entries) > ACCESS_LOG_PAGE_SIZE,
            "params": params.urlencode(),
            "baby": (filters or {}).get("newborn"),
        },
    )


def _page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page", 1)))
    except ValueError:
        return 1
