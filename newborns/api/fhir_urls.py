from django.urls import path

from newborns.api import fhir

app_name = "fhir"
urlpatterns = [
    path("Bundle", fhir.BundleView.as_view(), name="bundle"),
    path("Patient", fhir.PatientSearchView.as_view(), name="patient_search"),
    path("Patient/_search", fhir.PatientSearchView.as_view(), name="patient_search_post"),
    path("Patient/<str:pk>", fhir.PatientView.as_view(), name="patient"),
]
