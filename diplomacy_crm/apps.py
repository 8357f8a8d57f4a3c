from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class DiplomacyCrmConfig(AppConfig):
    name = "diplomacy_crm"
    verbose_name = "Diplomacy CRM"

    def ready(self):
        from django.db.backends.signals import connection_created

        from . import audit
        from .text import register_sqlite_fold

        audit.connect()
        connection_created.connect(register_sqlite_fold, dispatch_uid="crm_fold")


class BackOfficeAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our site as the default `admin.site`: superusers only (diplomacy_crm/admin.py)."""

    default = False  # named in INSTALLED_APPS; DiplomacyCrmConfig stays this module's default
    default_site = "diplomacy_crm.admin.BackOfficeSite"
