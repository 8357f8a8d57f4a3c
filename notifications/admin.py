from django.contrib import admin

from .models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only: the outbox is an audit record written only by the sender."""

    list_display = ("created_at", "kind", "to_email", "status", "attempts", "failures", "sent_at", "summary")
    list_filter = ("status", "kind")
    search_fields = ("key", "to_email", "summary")
    date_hierarchy = "created_at"
    list_select_related = ("recipient",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
