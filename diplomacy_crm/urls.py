"""Every layer is wired together here, and only here."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from dashboard import views as dashboard_views

from . import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    # Sign-in, sign-out and password change only: no self-service password
    # reset (there is no verified mail flow; the login page says to ask an
    # administrator), so django.contrib.auth.urls is not included.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("api/v1/", include("api.urls")),
    path("webhooks/", include("webhooks.urls")),
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

# HTML for the site, JSON under /api/ (diplomacy_crm/errors.py).
handler400 = "diplomacy_crm.errors.bad_request"
handler403 = "diplomacy_crm.errors.permission_denied"
handler404 = "diplomacy_crm.errors.page_not_found"
handler500 = "diplomacy_crm.errors.server_error"
