from django.urls import path

from . import gifts

app_name = "gifts"

urlpatterns = [
    path("gifts/", gifts.gift_list, name="list"),
    path("gifts/new/", gifts.gift_create, name="create"),
    path("gifts/report/", gifts.gift_report_view, name="report"),
    path("gifts/<int:pk>/edit/", gifts.gift_edit, name="edit"),
]
