from django.urls import path

from enrollment import views, views_bpjs

app_name = "enrollment"
urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("<int:pk>/", views.enrollment_edit, name="edit"),
    path("bayi/<int:newborn_pk>/", views.enrollment_for_newborn, name="for_newborn"),
    path("<int:pk>/usul-pbi/", views.propose_pbi, name="propose_pbi"),
    path("notifikasi/", views.notifications, name="notifications"),
    path("ekspor.csv", views_bpjs.export_csv, name="export_csv"),
    path("ekspor.xlsx", views_bpjs.export_xlsx, name="export_xlsx"),
    path("rekonsiliasi/", views_bpjs.reconciliation_upload, name="reconciliation_upload"),
    path("rekonsiliasi/<int:pk>/", views_bpjs.reconciliation_detail, name="reconciliation_detail"),
    path(
        "rekonsiliasi/<int:pk>/tidak-cocok.csv",
        views_bpjs.reconciliation_unmatched_csv,
        name="reconciliation_unmatched",
    ),
]
