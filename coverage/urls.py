from django.urls import path

from coverage import views

app_name = "coverage"
urlpatterns = [
    path("", views.coverage_table, name="table"),
    path("tren/", views.coverage_trend, name="trend"),
    path("unduh/", views.coverage_export, name="export"),
    path("impor/", views.import_list, name="imports"),
    path("impor/contoh/<str:name>", views.import_sample, name="import_sample"),
    path("impor/<int:pk>/", views.import_detail, name="import_detail"),
    path("impor/<int:pk>/kemajuan/", views.import_progress, name="import_progress"),
    path("impor/<int:pk>/simpan/", views.import_commit, name="import_commit"),
    path("impor/<int:pk>/ulangi/", views.import_retry, name="import_retry"),
]
