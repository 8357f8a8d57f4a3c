from django.core.management.base import BaseCommand, CommandError

from notifications import services
from notifications.periods import parse_now


class Command(BaseCommand):
    help = (
        "Put every reminder due at --now (default: now) into the outbox, then deliver the outbox. "
        "Safe to run twice: nothing is sent twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--now", help="ISO 8601 instant to evaluate as of (naive means office time).")

    def handle(self, *args, now=None, **options):
        try:
            instant = parse_now(now)
        except ValueError as exc:
            raise CommandError(f"--now: {exc}") from exc
        created = services.enqueue_due_reminders(now=instant)
        report = services.deliver_due()
        self.stdout.write(
            f"reminders queued: {created}; sent: {report.sent}, to retry: {report.retried}, failed: {report.failed}"
        )
