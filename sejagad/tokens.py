"""API tokens that expire and can be revoked.

A token is refused API_TOKEN_TTL_HOURS after it was issued. Every sign-in issues a new key (the old one
stops working), so a client always starts with a full lifetime. DRF imports this module while it loads
its views: it must not import any view (the endpoint is sejagad.auth.TokenView).
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed


def token_expires_at(token: Token) -> datetime:
    return token.created + timedelta(hours=settings.API_TOKEN_TTL_HOURS)


@transaction.atomic
def issue_token(*, user) -> Token:
    """A sign-in replaces the user's token with a new key, so an expired or leaked key never comes back."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def revoke_token(*, user) -> None:
    """The user's token stops working at once; signing in again issues a new one."""
    Token.objects.filter(user=user).delete()


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing a token older than API_TOKEN_TTL_HOURS."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expires_at(token) <= timezone.now():
            raise AuthenticationFailed(
                _("Token sudah kedaluwarsa. Masuk lagi di /api/auth/token/ untuk mendapatkan token baru.")
            )
        return user, token
