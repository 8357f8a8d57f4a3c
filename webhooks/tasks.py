"""Celery tasks of webhooks: thin wrappers around webhooks.services.

`deliver_webhooks` runs after every write that recorded events (queued on
commit, never raising if the broker is down: notifications.tasks.OutboxTask)
and every minute from the beat schedule, so rows whose queueing failed or
whose worker died are delivered by the next scan.
"""

from celery import shared_task
from django.db import transaction

from notifications.tasks import OutboxTask

from . import services


def schedule_delivery() -> None:
    """Ask a worker to deliver once the current transaction commits: once per transaction.

    An import writing thousands of records in one transaction queues one
    task, not thousands (the task delivers every due row anyway).
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(entry[1] is _queue for entry in connection.run_on_commit):
        return
    transaction.on_commit(_queue)


def _queue() -> None:
    deliver_webhooks._delay_logged()  # never raises: the every-minute scan covers a broker outage


@shared_task(base=OutboxTask, name="deliver_webhooks")
def deliver_webhooks() -> int:
    return services.deliver_due().delivered
