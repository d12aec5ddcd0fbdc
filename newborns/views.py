from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from newborns import selectors, services
from newborns.forms import BirthForm, DocumentsForm, NewbornEditForm, NewbornFilterForm
from newborns.models import Newborn
from sejagad.access import capability_required
from sejagad.forms import add_service_errors
from sejagad.roles import Capability

PAGE_SIZE = 25


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _filters(request) -> tuple[NewbornFilterForm, dict]:
    form = NewbornFilterForm(request.GET or None, user=request.user)
    return form, form.filters()


@capability_required(Capability.VIEW_NEWBORNS)
def newborn_list(request):
    form, filters = _filters(request)
    page = _page(request, selectors.search_newborns(request.user, **filters))
    return render(request, "newborns/newborn_list.html", {"form": form, "page": page, "filtered": bool(filters)})


@capability_required(Capability.UPDATE_DOCUMENTS)
def nik_worklist(request):
    form, filters = _filters(request)
    filters = {k: v for k, v in filters.items() if k in ("kecamatan", "desa")}
    page = _page(request, selectors.nik_worklist(request.user, **filters))
    return render(request, "newborns/worklist_dukcapil.html", {"form": form, "page": page})


@capability_required(Capability.REGISTER_BIRTHS)
def newborn_create(request):
    form = BirthForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.register_birth(by=request.user, **form.registration_kwargs())
        except services.DuplicateBirth as exc:
            url = reverse("newborns:detail", args=[exc.existing.pk])
            form.add_error(None, format_html('{} <a href="{}">{}</a>', str(exc), url, _("Buka data yang sudah ada")))
        except ValidationError as exc:
            add_service_errors(form, exc)
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


@capability_required(Capability.VIEW_NEWBORNS)
def newborn_detail(request, pk):
    baby = get_object_or_404(Newborn.objects.in_scope_of(request.user).for_lists(), pk=pk)
    return render(request, "newborns/newborn_detail.html", {"baby": baby, "timeline": selectors.timeline(baby)})


@capability_required(Capability.REGISTER_BIRTHS)
def newborn_edit(request, pk):
    baby = get_object_or_404(Newborn.objects.in_scope_of(request.user).for_lists(), pk=pk)
    initial = {f: getattr(baby, f) for f in NewbornEditForm.base_fields}
    form = NewbornEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.update_newborn(newborn=baby, by=request.user, **form.cleaned_data)
        messages.success(request, _("Data bayi diperbarui."))
        return redirect("newborns:detail", pk=baby.pk)
    return render(request, "newborns/newborn_edit.html", {"baby": baby, "form": form})


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
    return render(request, "newborns/newborn_documents.html", {"baby": baby, "form": form})
