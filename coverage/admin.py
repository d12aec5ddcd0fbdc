from django.contrib import admin
from import_export.admin import ImportExportModelAdmin

from coverage.models import CoverageImport, CoverageSnapshot, ParticipantCount, PopulationCount, UhcCriterion
from coverage.resources import ParticipantResource, PopulationResource
from sejagad.admin import USER_REGION_LOOKUPS
from sejagad.admin_site import RegionScopedAdmin


@admin.register(UhcCriterion)
class UhcCriterionAdmin(admin.ModelAdmin):
    """UHC criteria change by year: an admin edits them here; the nightly roll-up applies them."""

    list_display = ("year", "rank", "name", "coverage_threshold", "active_threshold", "source")
    list_filter = ("year",)
    ordering = ("-year", "rank")


@admin.register(PopulationCount)
class PopulationCountAdmin(RegionScopedAdmin, ImportExportModelAdmin):
    region_lookups = ("region__code",)
    resource_classes = [PopulationResource]
    list_display = ("region", "period", "total", "male", "female", "source", "updated_at")
    list_filter = ("period",)
    search_fields = ("region__code", "region__name")
    list_select_related = ("region",)
    raw_id_fields = ("region",)
    show_full_result_count = False


@admin.register(ParticipantCount)
class ParticipantCountAdmin(RegionScopedAdmin, ImportExportModelAdmin):
    region_lookups = ("region__code",)
    resource_classes = [ParticipantResource]
    list_display = ("region", "period", "segment", "total", "active", "updated_at")
    list_filter = ("period", "segment")
    search_fields = ("region__code", "region__name")
    list_select_related = ("region",)
    raw_id_fields = ("region",)
    show_full_result_count = False


@admin.register(CoverageSnapshot)
class CoverageSnapshotAdmin(RegionScopedAdmin, admin.ModelAdmin):
    region_lookups = ("region__code",)
    list_display = ("region", "period", "population", "participants", "coverage_pct", "gap", "is_uhc", "tier")
    list_filter = ("period", "level", "is_uhc")
    search_fields = ("region__code", "region__name")
    list_select_related = ("region",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CoverageImport)
class CoverageImportAdmin(RegionScopedAdmin, admin.ModelAdmin):
    region_lookups = tuple(f"uploaded_by__{lookup}" for lookup in USER_REGION_LOOKUPS)
    list_display = (
        "file_name",
        "kind",
        "status",
        "total_rows",
        "rows_new",
        "rows_changed",
        "error_count",
        "created_at",
    )
    list_filter = ("kind", "status")
    readonly_fields = [f.name for f in CoverageImport._meta.fields]

    def has_add_permission(self, request):
        return False
