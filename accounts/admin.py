from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from .models import Profile

User = get_user_model()


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    fields = ["digest_opt_out", "reminder_lead_days"]


admin.site.unregister(User)


@admin.register(User)
class CrmUserAdmin(UserAdmin):
    """Users and their roles (groups). Only superusers enter the back office (diplomacy_crm/admin.py)."""

    inlines = [ProfileInline]
    list_display = ["username", "email", "first_name", "last_name", "is_active", "is_superuser"]
    list_filter = ["is_active", "is_superuser", "groups"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "is_staff" and field is not None:
            # Django's text says it lets the user into this site; here only superuser status does.
            field.help_text = "Not used: only superusers may enter the back office. Give a role (group) instead."
        return field
