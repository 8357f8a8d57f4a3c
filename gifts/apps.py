from django.apps import AppConfig


class GiftsConfig(AppConfig):
    """The gifts register's pages, reads, rules and forms. The Gift model stays in engagements
    (engagements.Gift, permissions engagements.add_gift/change_gift): moving it would need a migration dance."""

    name = "gifts"
    verbose_name = "Gifts register"
