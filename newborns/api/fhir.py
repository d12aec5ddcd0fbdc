"""The FHIR R4 face of SEJAGAD SEHAT for systems in the district (``/fhir/``).

- ``POST /fhir/Bundle``: a facility system's transaction bundle of births (``newborns.fhir_bundle``).
- ``GET /fhir/Patient/<id>``: one baby in the caller's scope, as the SATUSEHAT Patient (``newborns.fhir``).
- ``POST /fhir/Patient/_search`` (form-encoded ``identifier=<system>|<value>``): babies by the mother's NIK
  (``nik-ibu``) or their own (``nik``). FHIR allows a search by POST; a NIK never travels in a URL, so
  ``GET /fhir/Patient?identifier=...`` is refused with an OperationOutcome pointing there.
Every answer is ``application/fhir+json``, every error an OperationOutcome in Indonesian, and every Patient
shown is written to the identity access log.
"""

from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from newborns import fhir, fhir_bundle, privacy
from newborns.models import AccessPoint, Newborn
from sejagad.access import HasCapability
from sejagad.roles import Capability

MAX_SEARCH_RESULTS = 50
ISSUE_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    415: "not-supported",
}


class FhirJSONParser(JSONParser):
    media_type = "application/fhir+json"


class FhirJSONRenderer(JSONRenderer):
    media_type = "application/fhir+json"
    charset = "utf-8"


def outcome(status_code: int, text: str, code: str | None = None, where: str = "") -> Response:
    issue = (code or ISSUE_CODES.get(status_code, "processing"), text, where)
    return Response(fhir_bundle.operation_outcome([issue]), status=status_code)


class FhirView(APIView):
    # FHIR describes itself (resources, OperationOutcome), not through the OpenAPI schema of /api/.
    schema = None
    parser_classes = [FhirJSONParser, JSONParser]
    renderer_classes = [FhirJSONRenderer, JSONRenderer]
    permission_classes = [HasCapability]

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, exceptions.APIException):
            detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
            response.data = fhir_bundle.operation_outcome(
                [(ISSUE_CODES.get(response.status_code, "processing"), str(detail), "")]
            )
        return response


def patient_resource(newborn: Newborn) -> dict:
    """The SATUSEHAT Patient with this system's id, and its IHS number once SATUSEHAT answered one."""
    resource = {"id": str(newborn.pk), **fhir.patient(newborn)}
    if newborn.ihs_number:
        resource["identifier"].append({"use": "official", "system": fhir.IHS_SYSTEM, "value": newborn.ihs_number})
    return resource


def for_fhir(user):
    return fhir.with_delivery_size(
        Newborn.objects.in_scope_of(user).select_related(
            "mother", "desa__parent__parent__parent", "facility__region__parent__parent__parent"
        )
    )


class BundleView(FhirView):
    required_capability = Capability.REGISTER_BIRTHS

    def post(self, request):
        try:
            result = fhir_bundle.receive_birth_bundle(by=request.user, bundle=request.data)
        except fhir_bundle.BundleRejected as exc:
            return Response(fhir_bundle.operation_outcome(exc.issues), status=exc.status)
        return Response(
            fhir_bundle.transaction_response(result),
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


class PatientView(FhirView):
    required_capability = Capability.VIEW_IDENTITY_NUMBERS

    def get(self, request, pk: str):
        newborn = for_fhir(request.user).filter(pk=pk).first() if pk.isdigit() else None
        if newborn is None:
            return outcome(
                404, _("Patient %(id)s tidak ditemukan dalam wilayah atau fasilitas Anda.") % {"id": pk[:20]}
            )
        privacy.log_identity_access(user=request.user, where=AccessPoint.API_FHIR, newborn_ids=[newborn.pk], whole=True)
        return Response(patient_resource(newborn))


class PatientSearchView(FhirView):
    required_capability = Capability.VIEW_IDENTITY_NUMBERS
    parser_classes = [FormParser]
    SYSTEMS = {fhir.NIK_IBU_SYSTEM: "mother__nik", fhir.NIK_SYSTEM: "nik"}

    def get(self, request):
        return outcome(
            400,
            _(
                "NIK tidak boleh ada di URL. Cari dengan POST /fhir/Patient/_search (form) berisi "
                "identifier=https://fhir.kemkes.go.id/id/nik-ibu|<NIK ibu>."
            ),
            where="Patient?identifier",
        )

    def post(self, request):
        if "identifier" in request.query_params:
            return self.get(request)
        system, _bar, value = str(request.data.get("identifier") or "").partition("|")
        field = self.SYSTEMS.get(system)
        if field is None or not value.isdigit():
            return outcome(
                400,
                _("identifier harus <system>|<nomor>, dengan system %(systems)s.")
                % {"systems": " atau ".join(self.SYSTEMS)},
                where="identifier",
            )
        babies = list(
            for_fhir(request.user).filter(**{field: value}).order_by("birth_date", "birth_order")[:MAX_SEARCH_RESULTS]
        )
        privacy.log_identity_access(
            user=request.user, where=AccessPoint.API_FHIR, newborn_ids=[b.pk for b in babies], whole=True
        )
        base = request.build_absolute_uri("/fhir/Patient/")
        return Response(
            {
                "resourceType": "Bundle",
                "type": "searchset",
                "total": len(babies),
                "entry": [
                    {"fullUrl": f"{base}{b.pk}", "resource": patient_resource(b), "search": {"mode": "match"}}
                    for b in babies
                ],
            }
        )
