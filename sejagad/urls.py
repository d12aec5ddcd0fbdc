from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from sejagad import views

urlpatterns = [
    path("", views.home, name="home"),
    path("masuk/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("keluar/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", views.healthz, name="healthz"),
    path("bayi/", include("newborns.urls")),
    path("kepesertaan/", include("enrollment.urls")),
    path("cakupan/", include("coverage.urls")),
    path("api/", include("sejagad.api_urls")),
    path("admin/", admin.site.urls),
]
