from django.core.management.base import BaseCommand, CommandError

from notifications import services
from notifications.periods import iso_week, parse_now, week_start


class Command(BaseCommand):
    help = (
        "Send the weekly digest of the office-time ISO week that contains --now (default: now), "
        "whatever the weekday, then deliver the outbox. Safe to run twice: nothing is sent twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--now", help="ISO 8601 instant to evaluate as of (naive means office time).")

    def handle(self, *args, now=None, **options):
        try:
            instant = parse_now(now)
        except ValueError as exc:
            raise CommandError(f"--now: {exc}") from exc
        created = services.enqueue_weekly_digests(now=instant)
        report = services.deliver_due()
        self.stdout.write(
            f"digests for {iso_week(week_start(instant))} queued: {created}; "
            f"sent: {report.sent}, to retry: {report.retried}, failed: {report.failed}"
        )
