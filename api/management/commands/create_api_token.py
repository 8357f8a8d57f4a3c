"""Print a user's API token, creating it when they have none.

    python manage.py create_api_token USERNAME [--rotate]
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Print USERNAME's API token (created if missing). Use it as 'Authorization: Token <key>'."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--rotate", action="store_true", help="Replace the existing token: the old one stops working."
        )

    @transaction.atomic
    def handle(self, *args, username, rotate=False, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise CommandError(f'No user named "{username}".') from None
        if not user.is_active:
            raise CommandError(f'User "{username}" is inactive; an inactive user\'s token is refused anyway.')
        if rotate:
            Token.objects.filter(user=user).delete()
        token, _created = Token.objects.get_or_create(user=user)
        self.stdout.write(token.key)
