from django.urls import path

from . import briefing, calendar, views

app_name = "dashboard"

urlpatterns = [
    path("", views.home, name="home"),
    # /partners/<id>/ (the partner's history) is wired in diplomacy_crm/urls.py as "partner-history".
    path("countries/<str:code>/", views.country, name="country"),
    path("search/", views.search_page, name="search"),
    # The personal feed: no login, the token in the URL is the credential.
    path("calendar.ics", calendar.feed, name="calendar-feed"),
    path("engagements/<int:pk>/ics/", calendar.engagement_ics, name="engagement-ics"),
    path("partners/<int:pk>/briefing/", briefing.partner_briefing_view, name="partner-briefing"),
    path("engagements/<int:pk>/briefing/", briefing.engagement_briefing_view, name="engagement-briefing"),
]
