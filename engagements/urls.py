from django.urls import path

from . import views

app_name = "engagements"

urlpatterns = [
    path("engagements/", views.engagement_list, name="list"),
    path("engagements/new/", views.engagement_create, name="create"),
    path("engagements/<int:pk>/", views.engagement_detail, name="detail"),
    path("engagements/<int:pk>/edit/", views.engagement_edit, name="edit"),
    path("engagements/<int:pk>/delete/", views.engagement_delete, name="delete"),
    path("missions/", views.mission_list, name="mission-list"),
    path("missions/new/", views.mission_create, name="mission-create"),
    path("missions/<int:pk>/", views.mission_detail, name="mission-detail"),
    path("missions/<int:pk>/edit/", views.mission_edit, name="mission-edit"),
    path("missions/<int:pk>/delete/", views.mission_delete, name="mission-delete"),
    path("commitments/", views.commitment_list, name="commitment-list"),
    path("commitments/new/", views.commitment_create, name="commitment-create"),
    path("commitments/<int:pk>/", views.commitment_detail, name="commitment-detail"),
    path("commitments/<int:pk>/edit/", views.commitment_edit, name="commitment-edit"),
    path("commitments/<int:pk>/delete/", views.commitment_delete, name="commitment-delete"),
]
