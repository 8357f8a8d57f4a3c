"""Every layer is wired together here, and only here."""

from django.contrib import admin
from django.urls import include, path

from dashboard import views as dashboard_views

from . import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v1/", include("api.urls")),
    path("", include("notifications.urls")),
    # A partner's page is its whole history: a view of the top layer.
    path("partners/<int:pk>/", dashboard_views.partner_history, name="partner-history"),
    path("", include("partners.urls")),
    path("", include("engagements.urls")),
    path("", include("engagements.gift_urls")),
    # The top layer (dashboard, partner history, country view, search, briefing).
    path("", include("dashboard.urls")),
    path("", include("imports.urls")),
    path("", include("audit.urls")),
]
