"""Load a realistic demo built from the public facts in DOMAIN.md.

The data is in devdata/demo/*.toml, read by devdata/demo.py. Safe to run
twice: every record is looked up by a natural key first, so a second run
changes nothing (and creates no history rows).
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from devdata.demo import DemoLoader, demo_password


class Command(BaseCommand):
    help = "Load the demo data (partners, meetings, the 2018 trade mission, commitments, agreements) and demo users."

    def add_arguments(self, parser):
        parser.add_argument("--quiet-login", action="store_true", help="Do not print the demo logins.")

    @transaction.atomic
    def handle(self, *args, **options):
        loader = DemoLoader()
        loader.load()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({loader.created} records created)."))
        if not options["quiet_login"]:
            self.stdout.write(
                "Log in at http://127.0.0.1:8000/accounts/login/ with one of these users, "
                f"password '{demo_password()}':\n"
                "  olivia (officer), sam (staff), victor (viewer), admin (superuser, also /admin/)"
            )
