from django.urls import path

from . import views as gifts

app_name = "gifts"

urlpatterns = [
    path("", gifts.gift_list, name="list"),
    path("new/", gifts.gift_create, name="create"),
    path("report/", gifts.gift_report_view, name="report"),
    path("<int:pk>/edit/", gifts.gift_edit, name="edit"),
]
