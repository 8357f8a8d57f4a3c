"""One poll of the capture mailbox: fetch, keep once, process, then remove what is committed.

The order is what makes it safe:
1. each message is fetched (BODY.PEEK: left unread) and stored by its Message-ID,
   committed before anything else happens to it;
2. every stored message still "received" is processed (services.process_pending),
   its engagement and its status in one transaction;
3. only then are the mailbox copies of processed messages removed (moved to
   MAIL_CAPTURE_DONE_FOLDER, or flagged \\Deleted and expunged).
A server down or a worker killed at any step leaves the message in the mailbox
or in the database as "received": the next poll finishes it, and the unique
Message-ID keeps it once.
"""

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from . import services
from .imap import MAILBOX_ERRORS, MailboxError, config_from_url, describe, open_mailbox
from .models import CapturedMessage, MailboxPoll

log = logging.getLogger(__name__)


@dataclass
class PollReport:
    enabled: bool = True
    fetched: int = 0
    stored: int = 0
    processed: int = 0
    removed: int = 0
    error: str = ""
    statuses: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.enabled and not self.error


def enabled() -> bool:
    return bool(settings.MAIL_CAPTURE_URL)


def _record(**fields) -> None:
    MailboxPoll.objects.update_or_create(pk=1, defaults=fields)


def _read_mailbox(box, report: PollReport, now) -> None:
    kept: dict[bytes, int] = {}
    for uid in box.uids(settings.MAIL_CAPTURE_BATCH):
        raw = box.fetch(uid)
        if raw is None:
            continue
        report.fetched += 1
        message, created = services.store_message(raw, now=now)
        report.stored += int(created)
        kept[uid] = message.pk
    report.processed += services.process_pending(now=now)
    statuses = dict(CapturedMessage.objects.filter(pk__in=kept.values()).values_list("pk", "status"))
    done = [uid for uid, pk in kept.items() if statuses.get(pk) != CapturedMessage.Status.RECEIVED]
    box.remove(done)
    report.removed = len(done)
    report.statuses = {uid.decode(): statuses.get(pk) for uid, pk in kept.items()}


def poll_mailbox(*, now=None) -> PollReport:
    """Read the mailbox once (the beat task each minute); a server that cannot be reached is reported, not raised."""
    if not enabled():
        return PollReport(enabled=False, error="Email capture is off: set MAIL_CAPTURE_URL.")
    now = now or timezone.now()
    report = PollReport()
    _record(started_at=now)
    try:
        with open_mailbox(config_from_url(settings.MAIL_CAPTURE_URL)) as box:
            _read_mailbox(box, report, now)
    except (*MAILBOX_ERRORS, MailboxError) as exc:
        report.error = describe(exc)
        log.warning("mail capture: the poll failed: %s", report.error)
        # Whatever an earlier poll stored and could not finish is still processed.
        report.processed += services.process_pending(now=now)
    finished = timezone.now()
    fields = {"finished_at": finished, "error": report.error, "fetched": report.fetched}
    if not report.error:
        fields["succeeded_at"] = finished
    _record(**fields)
    log.info("mail capture: poll %s", report)
    return report
