import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from enrollment import services
from enrollment.api.serializers import EnrollmentSerializer, EnrollmentUpdateSerializer
from enrollment.models import Enrollment, EnrollmentStatus, FlagLevel
from newborns.models import Segment
from sejagad.access import HasCapability
from sejagad.roles import Capability
from sejagad.wilayah import dotted


class EnrollmentFilter(django_filters.FilterSet):
    level = django_filters.ChoiceFilter(
        choices=[(level.name, level.label) for level in FlagLevel],
        method="at_level",
        label=_("Tingkat terburuk dari kedua tenggat, mis. KRITIS"),
    )
    status = django_filters.ChoiceFilter(choices=EnrollmentStatus.choices)
    segment = django_filters.ChoiceFilter(choices=Segment.choices)
    kecamatan = django_filters.CharFilter(method="in_kecamatan", label=_("Kode kecamatan, mis. 73.22.03"))

    class Meta:
        model = Enrollment
        fields: list[str] = []

    def at_level(self, queryset, name, value):
        return queryset.filter(worst_level=FlagLevel[value])

    def in_kecamatan(self, queryset, name, value):
        return queryset.in_region(dotted(value))


@extend_schema_view(
    list=extend_schema(summary=_("Kepesertaan JKN bayi dalam wilayah pengguna")),
    retrieve=extend_schema(summary=_("Satu kepesertaan")),
    partial_update=extend_schema(
        summary=_("Catat pendaftaran, pembaruan NIK atau penonaktifan"),
        request=EnrollmentUpdateSerializer,
        responses=EnrollmentSerializer,
    ),
)
class EnrollmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = EnrollmentSerializer
    lookup_value_regex = "[0-9]+"  # any other id is a 404 at the router, never a query
    permission_classes = [HasCapability]
    required_capability = {
        "GET": Capability.VIEW_NEWBORNS,
        "HEAD": Capability.VIEW_NEWBORNS,
        "OPTIONS": Capability.VIEW_NEWBORNS,
        "PATCH": Capability.UPDATE_ENROLLMENT,
    }
    filterset_class = EnrollmentFilter
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return Enrollment.objects.in_scope_of(self.request.user).select_related("newborn__desa").order_by("newborn_id")

    def partial_update(self, request, *args, **kwargs):
        enrollment = self.get_object()
        serializer = EnrollmentUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            enrollment = services.update_enrollment(enrollment=enrollment, by=request.user, **serializer.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError(as_serializer_error(exc)) from None
        return Response(EnrollmentSerializer(self.get_queryset().get(pk=enrollment.pk)).data)
