from django.urls import path

from . import views

app_name = "imports"

urlpatterns = [
    path("import/", views.start, name="start"),
    path("import/<int:pk>/", views.mapping, name="mapping"),
    path("import/<int:pk>/preview/", views.preview, name="preview"),
    path("import/<int:pk>/commit/", views.commit, name="commit"),
    path("import/<int:pk>/status/", views.status, name="status"),
    path("import/duplicates/", views.duplicates, name="duplicates"),
    path("import/duplicates/merge/<str:kind>/<int:survivor>/<int:duplicate>/", views.merge, name="merge"),
]
