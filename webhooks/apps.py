from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        # Listen to the writes of diplomacy_crm.services/deletion (they never import us).
        from diplomacy_crm.signals import record_deleted, record_saved, records_saved

        from . import events

        record_saved.connect(events.on_record_saved, dispatch_uid="webhooks.record_saved")
        records_saved.connect(events.on_records_saved, dispatch_uid="webhooks.records_saved")
        record_deleted.connect(events.on_record_deleted, dispatch_uid="webhooks.record_deleted")
