"""What `send_reminders` and `send_weekly_digest` share: --now, enqueue, deliver, one summary line."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from diplomacy_crm.officetime import parse_now
from notifications import services


class EnqueueAndDeliverCommand(BaseCommand):
    """Run one enqueue service as of --now (default: now), then deliver the outbox.

    Subclasses set `help` and implement `enqueue(now)` (rows written) and
    `describe(now, created)` (the start of the summary line).
    """

    def add_arguments(self, parser):
        parser.add_argument("--now", help="ISO 8601 instant to evaluate as of (naive means office time).")

    def enqueue(self, now: dt.datetime) -> int:
        raise NotImplementedError

    def describe(self, now: dt.datetime, created: int) -> str:
        raise NotImplementedError

    def handle(self, *args, now=None, **options):
        try:
            instant = parse_now(now)
        except ValueError as exc:
            raise CommandError(f"--now: {exc}") from exc
        created = self.enqueue(instant)
        report = services.deliver_due()
        self.stdout.write(
            f"{self.describe(instant, created)}; sent: {report.sent}, to retry: {report.retried}, failed: {report.failed}"
        )
