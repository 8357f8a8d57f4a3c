"""Routes of the engagements layer, one list per URL prefix (wired in diplomacy_crm/urls.py, namespace "engagements")."""

from django.urls import path

from . import commitment_views, invitation_views, lookup_views, views

# /engagements/…
engagements = [
    path("", views.engagement_list, name="list"),
    path("new/", views.engagement_create, name="create"),
    path("invitation/", invitation_views.invitation_import, name="invitation"),
    path("<int:pk>/", views.engagement_detail, name="detail"),
    path("<int:pk>/edit/", views.engagement_edit, name="edit"),
    path("<int:pk>/delete/", views.engagement_delete, name="delete"),
]

# /missions/…
missions = [
    path("", views.mission_list, name="mission-list"),
    path("new/", views.mission_create, name="mission-create"),
    path("lookup/", lookup_views.mission_lookup, name="mission-lookup"),
    path("<int:pk>/", views.mission_detail, name="mission-detail"),
    path("<int:pk>/edit/", views.mission_edit, name="mission-edit"),
    path("<int:pk>/delete/", views.mission_delete, name="mission-delete"),
]

# /commitments/…
commitments = [
    path("", commitment_views.commitment_list, name="commitment-list"),
    path("new/", commitment_views.commitment_create, name="commitment-create"),
    path("<int:pk>/", commitment_views.commitment_detail, name="commitment-detail"),
    path("<int:pk>/edit/", commitment_views.commitment_edit, name="commitment-edit"),
    path("<int:pk>/done/", commitment_views.commitment_done, name="commitment-done"),
    path("<int:pk>/delete/", commitment_views.commitment_delete, name="commitment-delete"),
]
