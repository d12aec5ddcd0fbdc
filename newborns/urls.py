from django.urls import path

from newborns import views

app_name = "newborns"
urlpatterns = [
    path("", views.newborn_list, name="list"),
    path("baru/", views.newborn_create, name="create"),
    path("dukcapil/", views.nik_worklist, name="nik_worklist"),
    path("<int:pk>/", views.newborn_detail, name="detail"),
    path("<int:pk>/ubah/", views.newborn_edit, name="edit"),
    path("<int:pk>/dokumen/", views.newborn_documents, name="documents"),
    path("<int:pk>/kontak/", views.newborn_contact, name="contact"),
    path("<int:pk>/batalkan/", views.newborn_void, name="void"),
    path("<int:pk>/pulihkan/", views.newborn_restore, name="restore"),
    path("<int:pk>/satusehat/kirim-ulang/", views.satusehat_retry, name="satusehat_retry"),
    path("dibatalkan/", views.voided_list, name="voided"),
    path("satusehat/galat/", views.satusehat_errors, name="satusehat_errors"),
    path("akses-nik/", views.identity_access_log, name="access_log"),
]
