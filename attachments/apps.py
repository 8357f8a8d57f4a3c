from django.apps import AppConfig


class AttachmentsConfig(AppConfig):
    """Files kept with a record (engagements, missions, commitments, gifts, partners, agreements):
    stored through Django's storage API, served only through a view that asks accounts.access."""

    name = "attachments"
    verbose_name = "Attachments"
