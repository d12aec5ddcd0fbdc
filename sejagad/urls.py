from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from sejagad import pwa, views
from sejagad.forms import LoginForm

urlpatterns = [
    path("", views.home, name="home"),
    path("dasbor/", views.dashboard_page, name="dashboard"),
    path(
        "masuk/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=LoginForm),
        name="login",
    ),
    path("keluar/", auth_views.LogoutView.as_view(), name="logout"),
    path("akun/kata-sandi/", views.PasswordChangeView.as_view(), name="password_change"),
    path("akun/token/cabut/", views.revoke_api_token, name="api_token_revoke"),
    path("akun/lupa-sandi/", views.PasswordResetView.as_view(), name="password_reset"),
    path("akun/lupa-sandi/terkirim/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "akun/atur-ulang/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "akun/atur-ulang/selesai/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", views.healthz, name="healthz"),
    path("bayi/", include("newborns.urls")),
    path("kepesertaan/", include("enrollment.urls")),
    path("cakupan/", include("coverage.urls")),
    path("api/", include("sejagad.api_urls")),
    # FHIR R4 for facility systems and SATUSEHAT-shaped reads (issue #14).
    path("fhir/", include("newborns.api.fhir_urls")),
    path("admin/", admin.site.urls),
    # The midwife's installable app (offline birth entry): at the root, so the worker's scope is the site.
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
]
