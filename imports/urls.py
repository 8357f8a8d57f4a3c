from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("", views.start, name="start"),
    path("<int:pk>/", views.mapping, name="mapping"),
    path("<int:pk>/preview/", views.preview, name="preview"),
    path("<int:pk>/commit/", views.commit, name="commit"),
    path("<int:pk>/status/", views.status, name="status"),
    path("<int:pk>/resume/", views.resume, name="resume"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/bad-rows/", views.bad_rows, name="bad_rows"),
    path("duplicates/", views.duplicates, name="duplicates"),
    path("duplicates/merge/<str:kind>/<int:survivor>/<int:duplicate>/", views.merge, name="merge"),
]
