from django.urls import path

from . import views

app_name = "mailcapture"

urlpatterns = [
    path("triage/", views.triage_list, name="triage"),
    path("triage/<int:pk>/", views.triage_detail, name="triage-detail"),
    path("triage/<int:pk>/files/<int:number>/", views.triage_file, name="triage-file"),
    path("triage/<int:pk>/discard/", views.triage_discard, name="triage-discard"),
]
