from django.apps import AppConfig


class DevdataConfig(AppConfig):
    """Developer tooling, no models: `load_demo` (the demo data) and `seed_bench` (benchmark data)."""

    name = "devdata"
    verbose_name = "Demo and benchmark data"
