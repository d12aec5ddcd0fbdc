from django.contrib import admin
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sejagad.roles import Capability, can


class SejagadAdminSite(admin.AdminSite):
    site_header = _("Administrasi SEJAGAD SEHAT")
    site_title = _("SEJAGAD SEHAT")
    index_title = _("Data rujukan dan pengguna")

    def has_permission(self, request):
        return can(request.user, Capability.MANAGE_SYSTEM)


class RegionScopedAdmin:
    """The admin holds an admin's region as the app does: changelists, change views (404 by another id),
    exports and foreign-key choices show only rows within ``User.region``. An account without a region
    (the superuser ``createsuperuser`` makes) sees every loaded region.

    A model admin names where its rows' region code is (``region_lookups``, paths ending in a Region's
    code, any of which may match) or overrides ``scope_to`` with its model's own QuerySet method."""

    region_lookups: tuple[str, ...] = ()

    def scope_to(self, queryset, code: str):
        within = Q()
        for lookup in self.region_lookups:
            within |= Q(**{lookup: code}) | Q(**{f"{lookup}__startswith": code + "."})
        return queryset.filter(within)

    def scoped(self, queryset, user):
        # Admin accounts cover a region (bidan, who work at a facility, never reach the admin).
        return self.scope_to(queryset, user.region_id) if user.region_id else queryset

    def get_queryset(self, request):
        return self.scoped(super().get_queryset(request), request.user)

    def get_valid_export_item_pks(self, request):
        # django-import-export's export action checks picked ids against this; its default is every row.
        return self.get_queryset(request).values_list("pk", flat=True)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A choice is offered only when the chosen model's own admin would show it to this user.
        related = self.admin_site._registry.get(db_field.remote_field.model)
        if isinstance(related, RegionScopedAdmin) and "queryset" not in kwargs:
            kwargs["queryset"] = related.scoped(db_field.remote_field.model._default_manager.all(), request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
