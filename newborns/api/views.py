"""The newborn API: each endpoint parses with a serializer, calls one service and renders the record."""

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error

from newborns import privacy, services
from newborns.api.serializers import (
    DuplicateBirthSerializer,
    NewbornCreateSerializer,
    NewbornDocumentsSerializer,
    NewbornSerializer,
    NewbornUpdateSerializer,
    ReasonSerializer,
    ReminderContactSerializer,
)
from newborns.models import AccessPoint, DocumentStatus, Newborn
from sejagad.access import HasCapability
from sejagad.roles import Capability, Role, can
from sejagad.wilayah import dotted


class NewbornPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


def _not_a_number(value: str) -> None:
    # A NIK in a query string lands in every proxy and server access log: numbers go in a POST body.
    if privacy.is_number_search(value):
        raise DjangoValidationError(
            gettext_lazy(
                "NIK atau nomor KK tidak boleh dikirim di alamat (query string). "
                'Kirim lewat POST /api/newborns/search/ dengan badan JSON {"q": "..."}.'
            ),
            code="number_in_url",
        )


class NewbornFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label=gettext_lazy("Sebagian nama ibu atau bayi (NIK dan nomor KK dicari lewat POST /api/newborns/search/)"),
        validators=[_not_a_number],
    )
    kecamatan = django_filters.CharFilter(method="in_region", label=gettext_lazy("Kode kecamatan, mis. 73.22.03"))
    desa = django_filters.CharFilter(method="in_desa", label=gettext_lazy("Kode desa/kelurahan, mis. 73.22.03.2004"))
    document_status = django_filters.ChoiceFilter(
        choices=DocumentStatus.choices, method="with_document_status", label=gettext_lazy("Status dokumen")
    )
    birth_month = django_filters.CharFilter(
        method="born_in_month",
        label=gettext_lazy("Bulan lahir, YYYY-MM"),
        validators=[
            RegexValidator(r"^\d{4}-(0[1-9]|1[0-2])$", gettext_lazy("Isi bulan lahir sebagai YYYY-MM, mis. 2025-03."))
        ],
    )

    class Meta:
        model = Newborn
        fields: list[str] = []

    def search(self, queryset, name, value):
        return queryset.search(value)

    def in_region(self, queryset, name, value):
        return queryset.in_region(dotted(value))

    def in_desa(self, queryset, name, value):
        return queryset.filter(desa_id=dotted(value))

    def with_document_status(self, queryset, name, value):
        return queryset.with_document_status(value)

    def born_in_month(self, queryset, name, value):
        year, month = (int(part) for part in value.split("-"))
        return queryset.born_in_month(year, month)


class NewbornSearch(NewbornFilter):
    """The same filters read from a POST body, where a whole NIK or KK number may be searched."""

    q = django_filters.CharFilter(
        method="search",
        required=True,
        label=gettext_lazy("Sebagian nama ibu atau bayi, atau NIK ibu/bayi atau nomor KK utuh"),
    )


class SearchSerializer(serializers.Serializer):
    """What POST /api/newborns/search/ reads: a JSON object; NewbornSearch then checks the values."""

    q = serializers.CharField(help_text=gettext_lazy("NIK ibu/bayi atau nomor KK utuh, atau sebagian nama"))
    kecamatan = serializers.CharField(required=False)
    desa = serializers.CharField(required=False)
    document_status = serializers.ChoiceField(choices=DocumentStatus.choices, required=False)
    birth_month = serializers.CharField(required=False)


_duplicate_response = OpenApiResponse(
    DuplicateBirthSerializer, description=gettext_lazy("Kelahiran ini sudah tercatat; tautan ke catatan yang ada.")
)


@extend_schema_view(
    list=extend_schema(summary=gettext_lazy("Daftar bayi dalam wilayah atau fasilitas pengguna")),
    retrieve=extend_schema(summary=gettext_lazy("Satu bayi")),
    create=extend_schema(
        summary=gettext_lazy("Catat kelahiran"),
        request=NewbornCreateSerializer,
        responses={
            201: NewbornSerializer,
            200: OpenApiResponse(
                NewbornSerializer, description=gettext_lazy("Kiriman ulang dengan submission_key yang sama.")
            ),
            409: _duplicate_response,
        },
    ),
    update=extend_schema(
        summary=gettext_lazy("Perbaiki data kelahiran"), request=NewbornUpdateSerializer, responses=NewbornSerializer
    ),
    partial_update=extend_schema(
        summary=gettext_lazy("Perbaiki sebagian data kelahiran"),
        request=NewbornUpdateSerializer,
        responses=NewbornSerializer,
    ),
    void=extend_schema(
        summary=gettext_lazy("Batalkan data kelahiran yang keliru (Dinkes)"),
        request=ReasonSerializer,
        responses=NewbornSerializer,
    ),
    restore=extend_schema(
        summary=gettext_lazy("Pulihkan data kelahiran yang dibatalkan (Dinkes)"),
        request=ReasonSerializer,
        responses=NewbornSerializer,
    ),
    search=extend_schema(
        summary=gettext_lazy("Cari bayi dengan NIK, nomor KK atau nama (POST: nomor tidak masuk alamat)"),
        request=SearchSerializer,
        responses=NewbornSerializer(many=True),
    ),
    contact=extend_schema(
        summary=gettext_lazy("Ubah nomor HP keluarga dan persetujuan pengingat"),
        request=ReminderContactSerializer,
        responses=NewbornSerializer,
    ),
    documents=extend_schema(
        summary=gettext_lazy("Catat dokumen Dukcapil (KK, akta, NIK)"),
        request=NewbornDocumentsSerializer,
        responses=NewbornSerializer,
    ),
)
class NewbornViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Babies in the user's scope; a record outside it answers 404. Records are never deleted here."""

    serializer_class = NewbornSerializer
    lookup_value_regex = "[0-9]+"  # any other id is a 404 at the router, never a query
    permission_classes = [HasCapability]
    required_capability = {
        "GET": Capability.VIEW_NEWBORNS,
        "HEAD": Capability.VIEW_NEWBORNS,
        "OPTIONS": Capability.VIEW_NEWBORNS,
        "POST": Capability.REGISTER_BIRTHS,
        "PUT": Capability.REGISTER_BIRTHS,
        "PATCH": Capability.REGISTER_BIRTHS,
    }
    input_serializers = {
        "create": NewbornCreateSerializer,
        "update": NewbornUpdateSerializer,
        "partial_update": NewbornUpdateSerializer,
        "documents": NewbornDocumentsSerializer,
        "contact": ReminderContactSerializer,
    }
    pagination_class = NewbornPagination
    filterset_class = NewbornFilter

    def get_queryset(self):
        return Newborn.objects.in_scope_of(self.request.user).for_lists()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["mask_identity_numbers"] = self.action in ("list", "search") or not can(
            self.request.user, Capability.VIEW_IDENTITY_NUMBERS
        )
        return context

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        privacy.log_identity_access(
            user=request.user, where=AccessPoint.API_RETRIEVE, newborn_ids=[response.data["id"]]
        )
        return response

    @action(detail=False, methods=["post"], required_capability=Capability.VIEW_NEWBORNS)
    def search(self, request):
        """Lists read filters from the query string; a number is searched from the body instead."""
        body = SearchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        found = NewbornSearch(data=body.validated_data, queryset=self.get_queryset(), request=request)
        if not found.is_valid():
            raise ValidationError(found.errors)
        page = self.paginate_queryset(found.qs)
        privacy.log_number_search(
            user=request.user, query=found.form.cleaned_data["q"], newborn_ids=[b.pk for b in page]
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def get_serializer_class(self):
        # What a write accepts; every answer is rendered with NewbornSerializer (see _render).
        return self.input_serializers.get(self.action, NewbornSerializer)

    def _render(self, newborn: Newborn, status_code: int = status.HTTP_200_OK) -> Response:
        # Services hand back bare rows; one joined read keeps the representation to a single query.
        newborn = Newborn.objects.for_lists().get(pk=newborn.pk)
        # An answer to a write shows the record as retrieve does, numbers whole for the roles that see them.
        privacy.log_identity_access(user=self.request.user, where=AccessPoint.API_RETRIEVE, newborn_ids=[newborn.pk])
        return Response(NewbornSerializer(newborn, context=self.get_serializer_context()).data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        fields["confirmed"] = fields.pop("confirm_warnings")
        user = request.user
        try:
            registration = services.register_birth(
                by=user, attending_midwife=user if user.role == Role.BIDAN else None, **fields
            )
        except services.DuplicateBirth as exc:
            return Response(self._duplicate(exc), status=status.HTTP_409_CONFLICT)
        except DjangoValidationError as exc:
            raise ValidationError(as_serializer_error(exc)) from None
        newborn = registration.newborn
        if registration.created:
            return self._render(newborn, status.HTTP_201_CREATED)
        if newborn.created_by_id != user.pk and not self.get_queryset().filter(pk=newborn.pk).exists():
            # A key someone else used: say so without showing a record outside this user's scope.
            raise ValidationError({"submission_key": [_("Kunci pengiriman ini sudah dipakai untuk catatan lain.")]})
        return self._render(newborn)

    def _duplicate(self, exc: services.DuplicateBirth) -> dict:
        if not privacy.visible_duplicate(exc.existing, self.request.user):
            return {"detail": str(privacy.DUPLICATE_ELSEWHERE), "existing_id": None, "existing_url": None}
        url = self.request.build_absolute_uri(reverse("newborns:detail", args=[exc.existing.pk]))
        return {"detail": str(exc), "existing_id": exc.existing.pk, "existing_url": url}

    def update(self, request, *args, partial=False, **kwargs):
        newborn = self.get_object()
        serializer = self.get_serializer(newborn, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        try:
            newborn = services.correct_birth(newborn=newborn, by=request.user, **serializer.correction_kwargs())
        except DjangoValidationError as exc:
            raise ValidationError(as_serializer_error(exc)) from None
        return self._render(newborn)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    @action(detail=True, methods=["post"], required_capability=Capability.CORRECT_BIRTHS)
    def void(self, request, pk=None):
        return self._with_reason(services.void_birth)

    @action(detail=True, methods=["post"], required_capability=Capability.CORRECT_BIRTHS)
    def restore(self, request, pk=None):
        return self._with_reason(services.restore_birth)

    def _with_reason(self, service) -> Response:
        newborn = get_object_or_404(Newborn.objects.within_reach_of(self.request.user), pk=self.kwargs["pk"])
        serializer = ReasonSerializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        try:
            newborn = service(newborn=newborn, by=self.request.user, reason=serializer.validated_data["reason"])
        except DjangoValidationError as exc:
            raise ValidationError(as_serializer_error(exc)) from None
        return self._render(newborn)

    @action(detail=True, methods=["patch"], required_capability=Capability.REGISTER_BIRTHS)
    def contact(self, request, pk=None):
        newborn = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.set_reminder_contact(
                newborn=newborn,
                by=request.user,
                phone=serializer.validated_data["phone"],
                consent=serializer.validated_data["reminder_consent"],
            )
        except DjangoValidationError as exc:
            raise ValidationError(as_serializer_error(exc)) from None
        return self._render(newborn)

    @action(detail=True, methods=["patch"], required_capability=Capability.UPDATE_DOCUMENTS)
    def documents(self, request, pk=None):
        newborn = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            newborn = services.record_documents(newborn=newborn, by=request.user, **serializer.merged_with(newborn))
        except DjangoValidationError as exc:
            raise ValidationError(as_serializer_error(exc)) from None
        return self._render(newborn)
