from diplomacy_crm.officetime import iso_week, week_start
from notifications import services

from ._base import EnqueueAndDeliverCommand


class Command(EnqueueAndDeliverCommand):
    help = (
        "Send the weekly digest of the office-time ISO week that contains --now (default: now), "
        "whatever the weekday, then deliver the outbox. Safe to run twice: nothing is sent twice."
    )

    def enqueue(self, now):
        return services.enqueue_weekly_digests(now=now)

    def describe(self, now, created):
        return f"digests for {iso_week(week_start(now))} queued: {created}"
