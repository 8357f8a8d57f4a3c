from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_roles(sender, **kwargs):
    from .roles import sync_role_groups

    sync_role_groups()


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts, roles and preferences"

    def ready(self):
        from . import signals  # noqa: F401

        # Keep the groups' permissions exact after every migrate.
        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="accounts.sync_roles")
