"""Back office for partners, contacts, topics and agreements (see diplomacy_crm/admin.py for who enters).

A partner's change page renders no inline rows: a partner may have
hundreds of contacts (one had 379: a 904 KB, 780 ms page). It shows how
many contacts and member bodies there are and links to the changelist
filtered to them instead.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from diplomacy_crm.admin import VisibleToUserAdmin

from .models import Agreement, Contact, Partner, Topic


@admin.register(Topic)
class TopicAdmin(VisibleToUserAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


def _filtered_list_link(model, lookup: str, partner) -> str:
    # Contacts and partners carry no confidentiality: whoever is in the back office may count them.
    count = model._default_manager.filter(**{lookup: partner.pk}).count()
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") + f"?{lookup}={partner.pk}"
    return format_html('<a href="{}">{} {}</a>', url, count, model._meta.verbose_name_plural)


@admin.register(Partner)
class PartnerAdmin(VisibleToUserAdmin):
    list_display = ["name", "kind", "country", "city", "priority", "status", "owner", "updated_at"]
    list_filter = ["kind", "status", "priority", "country", "topics"]
    search_fields = ["name", "city", "description", "external_id"]
    autocomplete_fields = ["parent", "owner"]
    filter_horizontal = ["topics"]
    list_select_related = ["owner"]
    readonly_fields = ["created_at", "updated_at", "contacts_link", "children_link"]

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        # The links need a saved partner: not on the add page.
        return fields if obj is not None else [f for f in fields if not f.endswith("_link")]

    @admin.display(description="contacts")
    def contacts_link(self, partner):
        return _filtered_list_link(Contact, "partner__id__exact", partner)

    @admin.display(description="member bodies (children)")
    def children_link(self, partner):
        return _filtered_list_link(Partner, "parent__id__exact", partner)


@admin.register(Contact)
class ContactAdmin(VisibleToUserAdmin):
    list_display = ["full_name", "honorific", "title", "partner", "is_active"]
    list_filter = ["is_active", "partner__kind", "partner__country"]
    search_fields = ["full_name", "title", "email", "partner__name"]
    autocomplete_fields = ["partner"]
    list_select_related = ["partner"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Agreement)
class AgreementAdmin(VisibleToUserAdmin):
    list_display = ["title", "kind", "status", "signed_on", "expires_on", "notice_by", "owner"]
    list_filter = ["kind", "status"]
    search_fields = ["title", "summary", "partners__name"]
    autocomplete_fields = ["partners", "owner"]
    date_hierarchy = "signed_on"
    readonly_fields = ["created_at", "updated_at"]
