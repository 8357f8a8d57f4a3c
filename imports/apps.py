from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """Bring data in (CSV/XLSX import), find duplicates, merge them. The top layer: nothing imports it."""

    name = "imports"
    verbose_name = "Imports and duplicates"
