from django.urls import path

from enrollment import views, views_bpjs, views_exports, views_notifications, views_pbi, views_reminders

app_name = "enrollment"
urlpatterns = [
    path("pesan/<int:pk>/kirim-ulang/", views_reminders.resend, name="reminder_resend"),
    path("bayi/<int:newborn_pk>/kartu/", views_reminders.reminder_card, name="reminder_card"),
    path("bayi/<int:newborn_pk>/kartu.pdf", views_reminders.reminder_card_pdf, name="reminder_card_pdf"),
    path("webhook/pengingat/status/", views_reminders.delivery_status, name="reminder_status_webhook"),
    path("webhook/pengingat/masuk/", views_reminders.inbound, name="reminder_inbound_webhook"),
    path("", views.worklist, name="worklist"),
    path("perlu-aktivasi-ulang/", views.worklist, {"kind": "aktivasi"}, name="worklist_reactivation"),
    path("nik-terbit/", views.worklist, {"kind": "bpjs"}, name="worklist_bpjs"),
    path("calon-pbi/", views.worklist, {"kind": "dinsos"}, name="worklist_dinsos"),
    path("<int:pk>/", views.enrollment_edit, name="edit"),
    path("bayi/<int:newborn_pk>/", views.enrollment_for_newborn, name="for_newborn"),
    path("<int:pk>/usul-pbi/", views_pbi.propose_pbi, name="propose_pbi"),
    path("usulan-pbi/", views_pbi.pbi_list, name="pbi_list"),
    path("usulan-pbi/<int:pk>/batal/", views_pbi.pbi_undo, name="pbi_undo"),
    path("usulan-pbi/ekspor.csv", views_pbi.pbi_export_csv, name="pbi_export_csv"),
    path("usulan-pbi/ekspor.xlsx", views_pbi.pbi_export_xlsx, name="pbi_export_xlsx"),
    path("notifikasi/", views_notifications.notifications, name="notifications"),
    path("notifikasi/<int:pk>/baca/", views_notifications.notice_read, name="notice_read"),
    path("notifikasi/ringkasan/<int:pk>/baca/", views_notifications.digest_read, name="digest_read"),
    path("pemeriksaan-tenggat/jalankan/", views_notifications.flag_run_now, name="flag_run_now"),
    path("pemeriksaan-tenggat/status/", views_notifications.flag_status, name="flag_status"),
    path("ekspor.csv", views_bpjs.export_csv, name="export_csv"),
    path("ekspor.xlsx", views_bpjs.export_xlsx, name="export_xlsx"),
    path("ekspor/<int:pk>/", views_exports.export_job, name="export_job"),
    path("ekspor/<int:pk>/kemajuan/", views_exports.export_job_progress, name="export_job_progress"),
    path("ekspor/<int:pk>/unduh/", views_exports.export_job_download, name="export_job_download"),
    path("ekspor/<int:pk>/ulang/", views_exports.export_job_retry, name="export_job_retry"),
    path("rekonsiliasi/", views_bpjs.reconciliation_upload, name="reconciliation_upload"),
    path("rekonsiliasi/contoh/<str:name>", views_bpjs.reconciliation_sample, name="reconciliation_sample"),
    path("rekonsiliasi/<int:pk>/", views_bpjs.reconciliation_detail, name="reconciliation_detail"),
    path(
        "rekonsiliasi/<int:pk>/tidak-cocok.csv",
        views_bpjs.reconciliation_unmatched_csv,
        name="reconciliation_unmatched",
    ),
]
