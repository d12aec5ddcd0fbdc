from django.contrib import admin
from import_export.admin import ExportMixin

from enrollment.models import Enrollment, ExportLog, Reconciliation
from enrollment.resources import EnrollmentResource
from sejagad.roles import Capability, can


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by services (with their rules and history) are looked at here, never edited."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Enrollment)
class EnrollmentAdmin(ExportMixin, ReadOnlyAdmin):
    resource_classes = [EnrollmentResource]
    list_display = ("newborn", "status", "segment", "jkn_number", "registration_level", "nik_level", "nik_deadline")
    list_filter = ("status", "segment", "registration_level", "nik_level")
    list_select_related = ("newborn",)
    search_fields = ("jkn_number", "newborn__temporary_name")
    show_full_result_count = False

    def get_export_resource_kwargs(self, request, **kwargs):
        # The resource masks NIK and KK for a role that may not see them whole.
        return {**super().get_export_resource_kwargs(request, **kwargs), "user": request.user}

    def has_export_permission(self, request):
        return can(request.user, Capability.EXPORT_WORKLISTS)


@admin.register(ExportLog)
class ExportLogAdmin(ReadOnlyAdmin):
    list_display = ("at", "user", "format", "rows", "filters")
    list_filter = ("format",)
    list_select_related = ("user",)
    date_hierarchy = "at"


@admin.register(Reconciliation)
class ReconciliationAdmin(ReadOnlyAdmin):
    list_display = ("uploaded_at", "uploaded_by", "file_name", "status", "counts", "committed_at")
    list_filter = ("status",)
    list_select_related = ("uploaded_by",)
    exclude = ("rows",)
