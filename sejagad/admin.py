from django.apps import apps
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from sejagad.admin_site import RegionScopedAdmin
from sejagad.models import Facility, Region, User

# Users by their region or, for a bidan, their facility's region.
USER_REGION_LOOKUPS = ("region__code", "facility__region__code")


PERMISSION_ACTIONS = {"add": _("menambah"), "change": _("mengubah"), "delete": _("menghapus"), "view": _("melihat")}


def permission_label(permission) -> str:
    """Django stores permission names in English at migrate time ("Can add group"): the admin shows them
    in the active language, from the codename and the model's verbose name."""
    content_type = permission.content_type
    model = content_type.model_class()
    model_name = model._meta.verbose_name if model else content_type.model
    app_name = apps.get_app_config(content_type.app_label).verbose_name
    action = permission.codename.partition("_")[0]
    name = permission.name
    if action in PERMISSION_ACTIONS and model:
        name = _("Boleh %(action)s %(model)s") % {"action": PERMISSION_ACTIONS[action], "model": model_name}
    return f"{app_name} | {model_name} | {name}"


class PermissionLabelsMixin:
    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name in ("permissions", "user_permissions"):
            field.label_from_instance = permission_label
        return field


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(PermissionLabelsMixin, BaseGroupAdmin):
    pass


@admin.register(User)
class UserAdmin(PermissionLabelsMixin, RegionScopedAdmin, BaseUserAdmin):
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
