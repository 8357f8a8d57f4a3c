"""Back office for engagements, missions, commitments and gifts: every screen under the access rule.

See diplomacy_crm/admin.py: superusers only may enter, and whoever enters
sees, chooses and restores only what `accounts.access` lets them see.
"""

from django.contrib import admin

from accounts.access import may_see_engagement, may_see_engagement_id
from diplomacy_crm.admin import VisibleInline, VisibleToUserAdmin

from .models import Commitment, Engagement, Gift, TradeMission


class CommitmentInline(VisibleInline):
    model = Commitment
    fields = ["description", "made_by", "partner", "owner", "due_date", "status", "completed_on"]
    autocomplete_fields = ["partner", "owner"]
    extra = 0
    show_change_link = True


class GiftInline(VisibleInline):
    model = Gift
    fields = ["direction", "exchanged_on", "giver", "recipient", "description", "estimated_value", "currency"]
    extra = 0


class LinkedToEngagementAdmin(VisibleToUserAdmin):
    """Commitments and gifts: a stored version is seen by whoever may see its engagement."""

    def version_visible(self, user, record) -> bool:
        return may_see_engagement_id(user, record.engagement_id)


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

    def version_visible(self, user, record) -> bool:
        # The version's own confidentiality; attendance from the live staff list (none once deleted).
        return may_see_engagement(user, record)


@admin.register(TradeMission)
class TradeMissionAdmin(VisibleToUserAdmin):
    list_display = ["name", "direction", "start_date", "end_date", "lead", "status"]
    list_filter = ["direction", "status"]
    search_fields = ["name", "cities", "objectives", "outcomes", "lead"]
    autocomplete_fields = ["delegates", "partners", "owner"]
    date_hierarchy = "start_date"
    inlines = [CommitmentInline]  # only the commitments this user may see (VisibleInline)
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Commitment)
class CommitmentAdmin(LinkedToEngagementAdmin):
    list_display = ["__str__", "made_by", "partner", "owner", "due_date", "status", "completed_on"]
    list_filter = ["status", "made_by", "priority"]
    search_fields = ["description", "partner__name"]
    autocomplete_fields = ["partner", "engagement", "trade_mission", "owner"]
    date_hierarchy = "due_date"
    list_select_related = ["partner", "owner"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Gift)
class GiftAdmin(LinkedToEngagementAdmin):
    list_display = [
        "description", "direction", "exchanged_on", "giver", "recipient", "estimated_value", "currency", "disposition"
    ]
    list_filter = ["direction", "disposition", "currency"]
    search_fields = ["description", "giver", "recipient"]
    autocomplete_fields = ["engagement", "partner"]
    date_hierarchy = "exchanged_on"
    readonly_fields = ["created_at", "updated_at"]
