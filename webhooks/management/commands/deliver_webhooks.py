from django.core.management.base import BaseCommand

from webhooks.services import deliver_due


class Command(BaseCommand):
    help = "Deliver every due webhook now (what the every-minute deliver_webhooks task does)."

    def add_arguments(self, parser):
        parser.add_argument("--time-budget", type=float, default=None, help="Stop after this many seconds.")

    def handle(self, *args, time_budget=None, **options):
        report = deliver_due(time_budget=time_budget)
        self.stdout.write(
            f"delivered={report.delivered} failed={report.failed} batches={report.batches} lost_leases={report.lost_leases}"
        )
