from notifications import services

from ._base import EnqueueAndDeliverCommand


class Command(EnqueueAndDeliverCommand):
    help = (
        "Put every reminder due at --now (default: now) into the outbox, then deliver the outbox. "
        "Safe to run twice: nothing is sent twice."
    )

    def enqueue(self, now):
        return services.enqueue_due_reminders(now=now)

    def describe(self, now, created):
        return f"reminders queued: {created}"
