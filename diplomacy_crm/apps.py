from django.apps import AppConfig


class DiplomacyCrmConfig(AppConfig):
    name = "diplomacy_crm"
    verbose_name = "Diplomacy CRM"

    def ready(self):
        from . import audit

        audit.connect()
