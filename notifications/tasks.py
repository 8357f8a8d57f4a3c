"""Celery tasks: thin wrappers around the idempotent services.

Names are explicit (the beat schedule and `celery call` use them). Each task
may run twice, on two workers at once, or after a crash: the outbox's unique
keys and leases make that harmless. Tasks take `now` as an ISO 8601 string
(JSON-serialisable); none means the current time.
"""

import functools
import logging
import math

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.db import transaction

from diplomacy_crm.officetime import parse_now

from . import services

log = logging.getLogger(__name__)


class OutboxTask(DjangoTask):
    """delay_on_commit that never raises: a broker outage must not break the caller (R5).

    The rows are already committed in the outbox, and the every-minute
    `flush_outbox` scan delivers them once the broker is back.
    """

    def delay_on_commit(self, *args, **kwargs) -> None:
        transaction.on_commit(functools.partial(self._delay_logged, *args, **kwargs))

    def _delay_logged(self, *args, **kwargs) -> None:
        try:
            self.delay(*args, **kwargs)
        except Exception:
            log.warning("could not enqueue %s; the periodic outbox scan will deliver", self.name, exc_info=True)


def schedule_delivery(created: int) -> None:
    """After rows were written: ask the workers to deliver, in parallel for big batches."""
    if created <= 0:
        return
    fanout = min(services.crm_setting("OUTBOX_FLUSH_FANOUT"), math.ceil(created / services.crm_setting("OUTBOX_BATCH_SIZE")))
    for _ in range(max(fanout, 1)):
        flush_outbox.delay_on_commit()


@shared_task(base=OutboxTask, name="send_due_reminders")
def send_due_reminders(now: str | None = None) -> int:
    created = services.enqueue_due_reminders(now=parse_now(now))
    schedule_delivery(created)
    return created


@shared_task(base=OutboxTask, name="send_weekly_digests")
def send_weekly_digests(now: str | None = None) -> int:
    created = services.enqueue_weekly_digests(now=parse_now(now))
    schedule_delivery(created)
    return created


@shared_task(base=OutboxTask, name="flush_outbox")
def flush_outbox() -> int:
    report = services.deliver_due()
    return report.sent
