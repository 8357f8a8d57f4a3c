"""Celery tasks of webhooks: thin wrappers around webhooks.services.

`deliver_webhooks` runs after every write that recorded events (queued on
commit, never raising if the broker is down: notifications.tasks.OutboxTask)
and every minute from the beat schedule, so rows whose queueing failed or
whose worker died are delivered by the next scan.
"""

from celery import shared_task

from notifications.tasks import OutboxTask

from . import services


def schedule_delivery() -> None:
    """Ask a worker to deliver once the current transaction commits."""
    deliver_webhooks.delay_on_commit()


@shared_task(base=OutboxTask, name="deliver_webhooks")
def deliver_webhooks() -> int:
    return services.deliver_due().delivered
