from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from sejagad.admin_site import RegionScopedAdmin
from sejagad.models import Facility, Region, User

# Users by their region or, for a bidan, their facility's region.
USER_REGION_LOOKUPS = ("region__code", "facility__region__code")


@admin.register(User)
class UserAdmin(RegionScopedAdmin, BaseUserAdmin):
    region_lookups = USER_REGION_LOOKUPS
    list_display = ("username", "first_name", "last_name", "role", "facility", "region", "is_active")
    list_filter = ("role", "is_active")
    list_select_related = ("facility", "region")
    autocomplete_fields = ("facility", "region")
    fieldsets = BaseUserAdmin.fieldsets + ((_("Peran dan wilayah kerja"), {"fields": ("role", "facility", "region")}),)
    add_fieldsets = BaseUserAdmin.add_fieldsets + (
        (_("Peran dan wilayah kerja"), {"fields": ("role", "facility", "region")}),
    )


@admin.register(Region)
class RegionAdmin(RegionScopedAdmin, admin.ModelAdmin):
    region_lookups = ("code",)
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    list_select_related = ("parent",)
    raw_id_fields = ("parent",)
    show_full_result_count = False


@admin.register(Facility)
class FacilityAdmin(RegionScopedAdmin, admin.ModelAdmin):
    region_lookups = ("region__code",)
    list_display = ("code", "name", "kind", "region", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")
    list_select_related = ("region",)
    autocomplete_fields = ("region",)
