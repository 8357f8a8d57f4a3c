from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoint_list, name="endpoint-list"),
    path("new/", views.endpoint_create, name="endpoint-create"),
    path("<int:pk>/", views.endpoint_edit, name="endpoint-edit"),
    path("deliveries/", views.delivery_log, name="delivery-log"),
    path("deliveries/<int:pk>/replay/", views.delivery_replay, name="delivery-replay"),
]
