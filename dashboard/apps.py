from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Dashboard, partner history, country view, search"

    def ready(self):
        from . import signals

        # Writes to engagements, partners or topics start a new generation of cached chart figures.
        signals.connect()
