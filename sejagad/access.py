"""Adapters that enforce ``sejagad.roles`` in pages and in the API."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from sejagad.roles import can


def capability_required(capability: str):
    """View decorator: sign-in first, then 403 for a role without the capability."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not can(request.user, capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class HasCapability(BasePermission):
    """DRF permission: the view names ``required_capability`` (or a dict per HTTP method)."""

    def has_permission(self, request, view):
        needed = view.required_capability
        if isinstance(needed, dict):
            needed = needed.get(request.method, needed.get("*"))
        return needed is not None and can(request.user, needed)
