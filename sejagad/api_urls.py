from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from sejagad.auth import TokenView
from sejagad.middleware import relaxed_styles

urlpatterns = [
    # POST: sign in for a new token; DELETE: revoke it.
    path("auth/token/", TokenView.as_view(), name="api-token"),
    # The schema names every NIK field: signed-in users only (SPECTACULAR_SETTINGS["SERVE_PERMISSIONS"]).
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger's start-up script as a file, so no inline script is needed.
    path(
        "docs/",
        login_required(relaxed_styles(SpectacularSwaggerSplitView.as_view(url_name="api-schema"))),
        name="api-docs",
    ),
    path("", include("newborns.api.urls")),
    path("", include("enrollment.api.urls")),
    path("", include("coverage.api.urls")),
]
