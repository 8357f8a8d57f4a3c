from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    # /partners/<id>/ (the partner's history) is wired in diplomacy_crm/urls.py as "partner-history".
    path("countries/<str:code>/", views.country, name="country"),
]
