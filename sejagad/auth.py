"""Signing in: which address a request comes from, what a locked-out client is told, the API token endpoint.

django-axes counts the failures (settings: AXES_*, LOGIN_FAILURE_LIMIT, LOGIN_COOLOFF_MINUTES) and calls
``client_ip`` and ``lockout_response``.
"""

import ipaddress

from axes.utils import reset as reset_failed_logins
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.response import Response
from rest_framework.views import APIView

from sejagad.tokens import issue_token, revoke_token, token_expires_at


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: behind N trusted proxies, the N-th entry from the right of X-Forwarded-For.

    Each proxy appends the address it saw, so entries further left were written by the client and prove
    nothing. Without trusted proxies the header is ignored: anyone could send it to dodge the lockout.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(chain) < count:
        return remote
    candidate = chain[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def lockout_message() -> str:
    return gettext(
        "Terlalu banyak percobaan masuk yang gagal. Demi keamanan data, akun ini atau perangkat Anda "
        "dikunci sementara. Coba lagi setelah %(minutes)d menit."
    ) % {"minutes": settings.LOGIN_COOLOFF_MINUTES}


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The lockout page for people, a JSON ``detail`` for API clients; 429 with Retry-After for both."""
    headers = {"Retry-After": str(settings.LOGIN_COOLOFF_MINUTES * 60)}
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": lockout_message()}, status=429, headers=headers)
    response = render(
        request,
        "registration/lockout.html",
        {"message": lockout_message(), "minutes": settings.LOGIN_COOLOFF_MINUTES},
        status=429,
    )
    response["Retry-After"] = headers["Retry-After"]
    return response


_IssuedToken = inline_serializer(
    name="IssuedToken", fields={"token": serializers.CharField(), "expires_at": serializers.DateTimeField()}
)


class TokenView(APIView):
    """POST user name and password for a new token; DELETE (with the token) to revoke it."""

    throttle_classes = ()

    def _signing_in(self) -> bool:
        # No request while drf-spectacular builds the schema.
        return getattr(self.request, "method", None) == "POST"

    def get_authenticators(self):
        # Signing in ignores whatever old, maybe expired, token the client still sends along.
        return [] if self._signing_in() else super().get_authenticators()

    def get_permissions(self):
        return [] if self._signing_in() else super().get_permissions()

    @extend_schema(request=AuthTokenSerializer, responses={200: _IssuedToken}, auth=[])
    def post(self, request):
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        if not serializer.is_valid():
            # django-axes marks the request when this failure (or an earlier one) locked the sign-in.
            if getattr(request, "axes_locked_out", False):
                return lockout_response(request)
            return Response(serializer.errors, status=status.HTTP_400_BAD_REQUEST)
        user = serializer.validated_data["user"]
        # A successful sign-in clears the failure count, as the login page does.
        reset_failed_logins(ip=client_ip(request), username=user.get_username(), ip_or_username=True)
        token = issue_token(user=user)
        return Response({"token": token.key, "expires_at": token_expires_at(token)})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        revoke_token(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
