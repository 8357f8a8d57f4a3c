from django.urls import path

from . import views

# The URL names predate the app's name and stay ("audit:record", "audit:restore").
app_name = "audit"

urlpatterns = [
    path("<str:model>/<int:pk>/", views.record_history, name="record"),
    path("<str:model>/<int:pk>/restore/<int:history_id>/", views.restore, name="restore"),
    path("<str:model>/<int:pk>/undo/<int:history_id>/", views.undo_delete, name="undo"),
]
