"""``/api/coverage/``: computed coverage per region and semester, within the user's region."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.pagination import PageNumberPagination

from coverage.api.serializers import CoverageSnapshotSerializer
from coverage.models import CoverageSnapshot
from sejagad.access import HasCapability
from sejagad.models import RegionLevel
from sejagad.roles import Capability
from sejagad.wilayah import dotted


class CoveragePagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class CoverageFilter(django_filters.FilterSet):
    region = django_filters.CharFilter(
        method="exact_region", label=gettext_lazy("Kode wilayah, bertitik atau tidak, mis. 73.22 atau 7322")
    )
    parent = django_filters.CharFilter(
        method="children_of", label=gettext_lazy("Wilayah di bawah langsung kode ini, mis. 73.22 untuk kecamatannya")
    )
    within = django_filters.CharFilter(
        method="within_region", label=gettext_lazy("Wilayah ini dan semua di bawahnya, mis. 73.22.03")
    )
    period = django_filters.CharFilter(field_name="period", label=gettext_lazy("Semester, mis. 2021-S2"))
    level = django_filters.ChoiceFilter(choices=RegionLevel.choices, label=gettext_lazy("Tingkat wilayah"))
    is_uhc = django_filters.BooleanFilter(label=gettext_lazy("Status UHC"))

    class Meta:
        model = CoverageSnapshot
        fields: list[str] = []

    def exact_region(self, queryset, name, value):
        return queryset.filter(region_id=dotted(value))

    def children_of(self, queryset, name, value):
        return queryset.filter(region__parent_id=dotted(value))

    def within_region(self, queryset, name, value):
        code = dotted(value)
        return queryset.filter(Q(region_id=code) | Q(region__code__startswith=code + "."))


@extend_schema_view(
    list=extend_schema(summary=gettext_lazy("Cakupan JKN per wilayah dan semester")),
    retrieve=extend_schema(summary=gettext_lazy("Cakupan satu wilayah dalam satu semester")),
)
class CoverageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Coverage snapshots, ordered by region code and period; outside the user's region is 404."""

    serializer_class = CoverageSnapshotSerializer
    lookup_value_regex = "[0-9]+"  # any other id is a 404 at the router, never a query
    permission_classes = [HasCapability]
    required_capability = Capability.VIEW_COVERAGE
    filterset_class = CoverageFilter
    pagination_class = CoveragePagination

    def get_queryset(self):
        queryset = CoverageSnapshot.objects.select_related("region").order_by("region_id", "period")
        if getattr(self, "swagger_fake_view", False):  # schema generation, without a signed-in user
            return queryset.none()
        user = self.request.user
        if user.region_id:
            queryset = queryset.within(user.region)
        return queryset
