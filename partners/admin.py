from django.contrib import admin

from diplomacy_crm.admin import OneHistoryRowAdmin

from .models import Agreement, Contact, Partner, Topic


@admin.register(Topic)
class TopicAdmin(OneHistoryRowAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


class ContactInline(admin.TabularInline):
    model = Contact
    fields = ["honorific", "full_name", "title", "email", "is_active"]
    extra = 0
    show_change_link = True


class ChildInline(admin.TabularInline):
    model = Partner
    fk_name = "parent"
    fields = ["name", "kind", "country", "status"]
    extra = 0
    show_change_link = True
    verbose_name_plural = "member bodies (children)"


@admin.register(Partner)
class PartnerAdmin(OneHistoryRowAdmin):
    list_display = ["name", "kind", "country", "city", "priority", "status", "owner", "updated_at"]
    list_filter = ["kind", "status", "priority", "country", "topics"]
    search_fields = ["name", "city", "description", "external_id"]
    autocomplete_fields = ["parent", "owner"]
    filter_horizontal = ["topics"]
    list_select_related = ["owner"]
    inlines = [ContactInline, ChildInline]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Contact)
class ContactAdmin(OneHistoryRowAdmin):
    list_display = ["full_name", "honorific", "title", "partner", "is_active"]
    list_filter = ["is_active", "partner__kind", "partner__country"]
    search_fields = ["full_name", "title", "email", "partner__name"]
    autocomplete_fields = ["partner"]
    list_select_related = ["partner"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Agreement)
class AgreementAdmin(OneHistoryRowAdmin):
    list_display = ["title", "kind", "status", "signed_on", "expires_on", "notice_by", "owner"]
    list_filter = ["kind", "status"]
    search_fields = ["title", "summary", "partners__name"]
    autocomplete_fields = ["partners", "owner"]
    date_hierarchy = "signed_on"
    readonly_fields = ["created_at", "updated_at"]
