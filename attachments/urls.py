"""/attachments/… (wired in diplomacy_crm/urls.py, namespace "attachments")."""

from django.urls import path

from . import views

app_name = "attachments"

KIND = "<str:kind>"

urlpatterns = [
    path("<int:pk>/download/", views.download, name="download"),
    path("<int:pk>/replace/", views.replace, name="replace"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path(f"{KIND}/<int:pk>/", views.record_attachments, name="record"),
    path(f"{KIND}/<int:pk>/panel/", views.panel, name="panel"),
]
