"""Every layer is wired together here, and only here: a URL's first hop.

Each URL prefix is named below; the top layer's pages (dashboard/) are listed
one by one. docs/architecture.md has the same map as a table.

The URL names are older than this layout and stay as they are, so one
namespace may span several prefixes ("partners:list" is /partners/,
"partners:contact-list" is /contacts/): `namespace()` groups a namespace's
prefixes without adding a segment of its own.
"""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from dashboard.briefing import views as briefing
from dashboard.calendar import views as calendar
from dashboard.country import views as country
from dashboard.home import views as home
from dashboard.partner import views as partner_pages
from dashboard.search import views as search
from engagements import urls as engagement_urls
from partners import urls as partner_urls

from . import health


def namespace(name: str, *routes):
    """The routes under one URL namespace; each route names its own prefix (no segment is added here)."""
    return path("", include((list(routes), name)))


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
    # Partners, contacts, agreements: the partners layer, plus the top layer's
    # pages that show engagement facts (dashboard/partner/views.py).
    namespace(
        "partners",
        path("partners/", partner_pages.partner_list, name="list"),
        path("partners/", include(partner_urls.partners)),
        path("contacts/<int:pk>/", partner_pages.contact_detail, name="contact-detail"),
        path("contacts/", include(partner_urls.contacts)),
        path("agreements/", include(partner_urls.agreements)),
    ),
    # A partner's page is its whole history: a view of the top layer.
    path("partners/<int:pk>/", partner_pages.partner_history, name="partner-history"),
    namespace(
        "engagements",
        path("engagements/", include(engagement_urls.engagements)),
        path("missions/", include(engagement_urls.missions)),
        path("commitments/", include(engagement_urls.commitments)),
    ),
    path("gifts/", include("gifts.urls")),
    path("webhooks/", include("webhooks.urls")),
    # The top layer, page by page (dashboard/<page>/views.py).
    namespace(
        "dashboard",
        path("", home.home, name="home"),
        path("countries/<str:code>/", country.country, name="country"),
        path("search/", search.search_page, name="search"),
        path("partners/<int:pk>/briefing/", briefing.partner_briefing_view, name="partner-briefing"),
        path("engagements/<int:pk>/briefing/", briefing.engagement_briefing_view, name="engagement-briefing"),
        # The personal feed: no login, the token in the URL is the credential.
        path("calendar.ics", calendar.feed, name="calendar-feed"),
        path("engagements/<int:pk>/ics/", calendar.engagement_ics, name="engagement-ics"),
    ),
    path("outbox/", include("notifications.urls")),
    path("import/", include("imports.urls")),
    path("history/", include("history.urls")),
    path("attachments/", include("attachments.urls")),
    # Email capture's triage inbox (staff and officers).
    path("mail/", include("mailcapture.urls")),
]

# HTML for the site, JSON under /api/ (diplomacy_crm/errors.py).
handler400 = "diplomacy_crm.errors.bad_request"
handler403 = "diplomacy_crm.errors.permission_denied"
handler404 = "diplomacy_crm.errors.page_not_found"
handler500 = "diplomacy_crm.errors.server_error"
