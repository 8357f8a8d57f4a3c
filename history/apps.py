from django.apps import AppConfig


class HistoryConfig(AppConfig):
    """A record's change history and restore. (The security log of sign-ins and refusals is diplomacy_crm/audit.py.)"""

    name = "history"
    verbose_name = "Record history"
