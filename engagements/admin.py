from django.contrib import admin

from diplomacy_crm.admin import OneHistoryRowAdmin

from .models import Commitment, Engagement, Gift, TradeMission


class CommitmentInline(admin.TabularInline):
    model = Commitment
    fields = ["description", "made_by", "partner", "owner", "due_date", "status", "completed_on"]
    autocomplete_fields = ["partner", "owner"]
    extra = 0
    show_change_link = True


class GiftInline(admin.TabularInline):
    model = Gift
    fields = ["direction", "exchanged_on", "giver", "recipient", "description", "estimated_value", "currency"]
    extra = 0


class VisibleToUserAdmin(OneHistoryRowAdmin):
    """The back office obeys confidentiality too: restricted rows only for those who may see them."""

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)


@admin.register(Engagement)
class EngagementAdmin(VisibleToUserAdmin):
    list_display = ["title", "kind", "status", "starts_at", "confidentiality", "trade_mission", "owner"]
    list_filter = ["kind", "status", "confidentiality", "topics", "is_virtual"]
    search_fields = ["title", "summary", "outcomes", "location", "partners__name"]
    autocomplete_fields = ["partners", "contacts", "staff", "trade_mission", "owner"]
    filter_horizontal = ["topics"]
    date_hierarchy = "starts_at"
    list_select_related = ["trade_mission", "owner"]
    inlines = [CommitmentInline, GiftInline]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(TradeMission)
class TradeMissionAdmin(OneHistoryRowAdmin):
    list_display = ["name", "direction", "start_date", "end_date", "lead", "status"]
    list_filter = ["direction", "status"]
    search_fields = ["name", "cities", "objectives", "outcomes", "lead"]
    autocomplete_fields = ["delegates", "partners", "owner"]
    date_hierarchy = "start_date"
    inlines = [CommitmentInline]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Commitment)
class CommitmentAdmin(VisibleToUserAdmin):
    list_display = ["__str__", "made_by", "partner", "owner", "due_date", "status", "completed_on"]
    list_filter = ["status", "made_by", "priority"]
    search_fields = ["description", "partner__name"]
    autocomplete_fields = ["partner", "engagement", "trade_mission", "owner"]
    date_hierarchy = "due_date"
    list_select_related = ["partner", "owner"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Gift)
class GiftAdmin(VisibleToUserAdmin):
    list_display = [
        "description", "direction", "exchanged_on", "giver", "recipient", "estimated_value", "currency", "disposition"
    ]
    list_filter = ["direction", "disposition", "currency"]
    search_fields = ["description", "giver", "recipient"]
    autocomplete_fields = ["engagement", "partner"]
    date_hierarchy = "exchanged_on"
    readonly_fields = ["created_at", "updated_at"]


