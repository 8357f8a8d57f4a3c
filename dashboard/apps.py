from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = "Dashboard, partner pages, country view, search, briefings, calendars"

    def ready(self):
        from . import signals

        # Writes to engagements, partners or topics start a new generation of cached chart figures.
        signals.connect()
