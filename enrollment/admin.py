from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin

from enrollment import exports
from enrollment.models import Enrollment, ExportLog, Reconciliation, ReminderMessage, ReminderStep
from enrollment.resources import EnrollmentResource
from newborns.models import AccessPoint, Newborn
from newborns.privacy import log_identity_access, mask_phone
from sejagad.admin import USER_REGION_LOOKUPS
from sejagad.admin_site import RegionScopedAdmin
from sejagad.roles import Capability, can

IDENTITY_HEADERS = {column.header for column in exports.COLUMNS if column.kind == exports.IDENTITY}


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by services (with their rules and history) are looked at here, never edited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Enrollment)
class EnrollmentAdmin(RegionScopedAdmin, ExportMixin, ReadOnlyAdmin):
    resource_classes = [EnrollmentResource]
    list_display = ("newborn", "status", "segment", "jkn_number", "registration_level", "nik_level", "nik_deadline")
    list_filter = ("status", "segment", "registration_level", "nik_level")
    list_select_related = ("newborn",)
    search_fields = ("jkn_number", "newborn__temporary_name")
    show_full_result_count = False

    def get_export_resource_kwargs(self, request, **kwargs):
        # The resource masks NIK and KK for a role that may not see them whole.
        return {**super().get_export_resource_kwargs(request, **kwargs), "user": request.user}

    def scope_to(self, queryset, code):
        return queryset.in_region(code)

    def has_export_permission(self, request):
        return can(request.user, Capability.EXPORT_WORKLISTS)

    def get_data_for_export(self, request, queryset, **kwargs):
        # Logged as the worklist export is: the export log, and the NIK access log when numbers go out whole.
        data = super().get_data_for_export(request, queryset, **kwargs)
        exports.log_export(user=request.user, format="admin", filters=dict(request.GET.items()), rows=len(data))
        if IDENTITY_HEADERS & set(data.headers or ()):
            log_identity_access(user=request.user, where=AccessPoint.ADMIN_EXPORT, count=len(data))
        return data


@admin.register(ExportLog)
class ExportLogAdmin(RegionScopedAdmin, ReadOnlyAdmin):
    region_lookups = tuple(f"user__{lookup}" for lookup in USER_REGION_LOOKUPS)
    list_display = ("at", "user", "format", "rows", "filters")
    list_filter = ("format",)
    list_select_related = ("user",)
    date_hierarchy = "at"


@admin.register(Reconciliation)
class ReconciliationAdmin(RegionScopedAdmin, ReadOnlyAdmin):
    region_lookups = tuple(f"uploaded_by__{lookup}" for lookup in USER_REGION_LOOKUPS)
    list_display = ("uploaded_at", "uploaded_by", "file_name", "status", "counts", "committed_at")
    list_filter = ("status",)
    list_select_related = ("uploaded_by",)
    exclude = ("rows",)


@admin.register(ReminderStep)
class ReminderStepAdmin(admin.ModelAdmin):
    """The schedule of family reminders: when each message goes and what it says (placeholders checked)."""

    list_display = ("name", "trigger", "days", "is_active")
    list_filter = ("trigger", "is_active")
    list_editable = ("is_active",)

    def has_delete_permission(self, request, obj=None):
        # A step that already went out stays, so its messages keep their meaning; switch it off instead.
        return obj is None or not ReminderMessage.objects.filter(step=obj).exists()


@admin.register(ReminderMessage)
class ReminderMessageAdmin(RegionScopedAdmin, ReadOnlyAdmin):
    """The outbox, read-only: statuses change through the sender, the webhooks and "kirim ulang"."""

    list_display = ("queued_at", "newborn", "step", "masked_phone", "status", "attempts", "sent_at", "delivered_at")
    list_filter = ("status", "step")
    list_select_related = ("newborn", "step")
    exclude = ("phone", "claim", "claimed_until")
    show_full_result_count = False

    def scope_to(self, queryset, code):
        return queryset.filter(newborn__in=Newborn.objects.in_region(code))

    @admin.display(description=_("nomor HP"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone)
