"""Writes: put emails in the outbox, then claim, send and mark them.

Exactly-once, as far as SMTP allows:
- `enqueue` writes one row per unique key (recipient, kind, subject, period);
  a key already there is skipped, and a concurrent insert of the same key is
  ignored by the database (unique index), so reruns, retried tasks and a
  second worker write nothing new;
- `deliver_due` claims a batch of due rows with one conditional UPDATE under a
  lease (FOR UPDATE SKIP LOCKED on PostgreSQL), sends each message, and marks
  it sent with an UPDATE conditioned on its claim token. A worker that dies
  leaves its rows "sending"; when the lease runs out the next scan takes them
  again. The only window for a duplicate is between the SMTP server's 250 and
  the mark, and the resent copy carries the same Message-ID.

Failures: a connection problem or a 4xx (the server, not the message) puts the
rows back to pending with a back-off and never counts against them; a 5xx or a
message that cannot be rendered counts as a failure, and after
CRM["OUTBOX_MAX_ATTEMPTS"] failures the row is marked failed, without ever
blocking the others. Officers see all of it at /outbox/.

Business time (`now`: what is due, which week) comes from the caller, so
--now and tests can set it. The outbox's own mechanics (which rows are due,
leases, back-off, sent_at) run on one clock, the database's: every "now" in a
claim is `Now()` inside the SQL, never the worker's time, so a worker whose
clock runs fast cannot take a row whose lease is still live. (Tests may pass
`now` to `deliver_due`/`claim_batch` to drive that clock themselves.)

Recovery: a sender renews its lease every third of OUTBOX_LEASE_SECONDS while
it works, so the lease only has to outlast one SMTP send; a dead sender's rows
are due again when the lease ends and go out at the next flush (every
OUTBOX_FLUSH_INTERVAL_SECONDS): within lease + interval of the last renewal.
"""

import datetime as dt
import logging
import os
import secrets
import smtplib
import time
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

from django.conf import settings
from django.core.mail import mailers
from django.db import connection, connections, router, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Q
from django.db.models.constants import OnConflict
from django.db.models.functions import Now

from .digest import build_weekly_digests
from .models import OutboxMessage
from .rendering import render_message
from .selectors import Outgoing, scan_reminders

log = logging.getLogger(__name__)

Status = OutboxMessage.Status

CRM_DEFAULTS = {
    "OUTBOX_LEASE_SECONDS": 60,
    "OUTBOX_MAX_ATTEMPTS": 5,
    "OUTBOX_BATCH_SIZE": 20,
    "OUTBOX_RETRY_BASE_SECONDS": 60,
    "OUTBOX_RETRY_MAX_SECONDS": 900,
    "OUTBOX_FLUSH_TIME_BUDGET": 240,
    "OUTBOX_FLUSH_FANOUT": 2,
}
KEY_CHUNK = 5000


def crm_setting(name: str):
    return settings.CRM.get(name, CRM_DEFAULTS.get(name))


# --- test-only fault injection --------------------------------------------------

_fault_counts: Counter = Counter()


def _fault(point: str) -> None:
    """OUTBOX_FAULT=<point>:<n> kills this process at the n-th pass through <point>.

    Test-only: the reliability tests use it to crash a worker at an exact
    place (after_claim, after_smtp, after_mark, during_scan). With
    OUTBOX_FAULT_MARKER set, it fires once per marker file across processes,
    so the task redelivered after the crash runs normally.
    """
    spec = os.environ.get("OUTBOX_FAULT")
    if not spec:
        return
    name, _, nth = spec.partition(":")
    if name != point:
        return
    _fault_counts[point] += 1
    if _fault_counts[point] != int(nth or 1):
        return
    marker = os.environ.get("OUTBOX_FAULT_MARKER")
    if marker:
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
    log.error("OUTBOX_FAULT %s reached: exiting the process now", spec)
    os._exit(137)


# --- enqueue -------------------------------------------------------------------------


def _clock(now: dt.datetime | None):
    """The claim's "now": the database's clock, or the time a test or --now gives."""
    return Now() if now is None else now


def _after(now: dt.datetime | None, seconds: float):
    """`now` + seconds, computed by the database when `now` is its own clock."""
    if now is None:
        return ExpressionWrapper(Now() + dt.timedelta(seconds=seconds), output_field=DateTimeField())
    return now + dt.timedelta(seconds=seconds)


def _insert_new(rows: list[OutboxMessage]) -> int:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the number of rows this call actually wrote.

    `bulk_create(ignore_conflicts=True)` cannot tell: a key written by a
    concurrent scan since we looked is skipped silently, and this scan must
    neither report it nor queue a send for it. PostgreSQL and SQLite >= 3.35
    return the inserted rows; elsewhere the rows are counted before and after.
    """
    opts = OutboxMessage._meta
    fields = [f for f in opts.concrete_fields if not f.primary_key and not f.generated]
    using = router.db_for_write(OutboxMessage)
    conn = connections[using]
    manager = OutboxMessage._base_manager.using(using)
    if not conn.features.can_return_rows_from_bulk_insert:
        keys = [row.key for row in rows]
        before = manager.filter(key__in=keys).count()
        manager.bulk_create(rows, ignore_conflicts=True)
        return manager.filter(key__in=keys).count() - before
    written = 0
    size = max(conn.ops.bulk_batch_size(fields, rows), 1)
    for start in range(0, len(rows), size):
        returned = manager._insert(
            rows[start : start + size], fields=fields, returning_fields=[opts.pk], using=using,
            on_conflict=OnConflict.IGNORE,
        )
        written += len(returned)
    return written


def enqueue(*, messages: Iterable[Outgoing], now: dt.datetime | None = None) -> int:
    """Write `messages` to the outbox; keys already there are skipped. Returns the rows written.

    Two queries per 5,000 messages (existing keys, insert), whatever their
    kind. Call it inside the transaction that holds the cause, so a rollback
    takes the rows with it. New rows are due at once by the database's clock.
    """
    unique = {m.key: m for m in messages}
    existing: set[str] = set()
    keys = list(unique)
    for start in range(0, len(keys), KEY_CHUNK):
        existing.update(
            OutboxMessage.objects.filter(key__in=keys[start : start + KEY_CHUNK]).values_list("key", flat=True)
        )
    rows = [
        OutboxMessage(
            key=key,
            kind=m.kind,
            recipient_id=m.recipient_id,
            to_email=m.to_email,
            subject_type=m.subject_type,
            subject_id=m.subject_id,
            period=m.period,
            summary=m.summary[:300],
            context=m.context,
            next_attempt_at=Now(),
        )
        for key, m in unique.items()
        if key not in existing
    ]
    if not rows:
        return 0
    # A concurrent scan may have written the same key since we looked: the
    # unique index decides, the loser's insert is ignored and not counted.
    written = _insert_new(rows)
    _fault("during_scan")
    return written


@transaction.atomic
def enqueue_due_reminders(*, now: dt.datetime) -> int:
    """Every reminder whose window holds `now` (office time) into the outbox, once per key.

    Nothing to remember between scans: a scan that did not run is made up by
    the next, which still finds every commitment inside its window.
    """
    return enqueue(messages=scan_reminders(now=now).messages, now=now)


@transaction.atomic
def enqueue_weekly_digests(*, now: dt.datetime) -> int:
    """The digest of the office-time ISO week containing `now`, for every recipient, once."""
    return enqueue(messages=build_weekly_digests(now=now), now=now)


# --- deliver -------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    batches: int = 0
    lost_leases: int = 0


def backoff(attempt: int) -> dt.timedelta:
    """Exponential back-off: base, 2×base, 4×base … capped."""
    base = crm_setting("OUTBOX_RETRY_BASE_SECONDS")
    cap = crm_setting("OUTBOX_RETRY_MAX_SECONDS")
    return dt.timedelta(seconds=min(base * 2 ** max(attempt - 1, 0), cap))


def _due_q(now: dt.datetime | None) -> Q:
    # Pending rows past their back-off, and claimed rows whose worker let the lease run out.
    clock = _clock(now)
    return Q(status=Status.PENDING, next_attempt_at__lte=clock) | Q(status=Status.SENDING, lease_until__lt=clock)


def claim_batch(*, now: dt.datetime | None = None, size: int) -> tuple[list[OutboxMessage], str]:
    """Claim up to `size` due rows for this sender: two queries.

    PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED, then UPDATE those rows, in one
    transaction, so concurrent senders take disjoint batches. SQLite: a single
    conditional UPDATE (SQLite serialises writers), then read back by token.
    "Due" and the new lease are both computed by the database (`now` None).
    """
    token = secrets.token_hex(16)
    lease_until = _after(now, crm_setting("OUTBOX_LEASE_SECONDS"))
    values = {"status": Status.SENDING, "claim_token": token, "lease_until": lease_until, "attempts": F("attempts") + 1}
    due = OutboxMessage.objects.filter(_due_q(now)).order_by("next_attempt_at", "id")
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            rows = list(due.select_for_update(skip_locked=True)[:size])
            if rows:
                OutboxMessage.objects.filter(pk__in=[row.pk for row in rows]).update(**values)
        for row in rows:
            row.status, row.claim_token, row.attempts = Status.SENDING, token, row.attempts + 1
            # The lease's end is the database's; nothing here reads it back.
            row.lease_until = lease_until if now is not None else None
        return rows, token
    claimed = OutboxMessage.objects.filter(pk__in=due.values("pk")[:size]).filter(_due_q(now)).update(**values)
    return (list(OutboxMessage.objects.filter(claim_token=token)) if claimed else []), token


def _renew(rows: list[OutboxMessage], token: str, now: dt.datetime | None) -> int:
    """Extend the lease of the rows this sender still holds. Returns how many it still holds."""
    if not rows:
        return 0
    return OutboxMessage.objects.filter(pk__in=[row.pk for row in rows], claim_token=token, status=Status.SENDING).update(
        lease_until=_after(now, crm_setting("OUTBOX_LEASE_SECONDS"))
    )


def _release(rows: list[OutboxMessage], token: str, error: str, now: dt.datetime | None) -> None:
    """Back to pending after a server-side problem; not the messages' fault, so no failure counted."""
    if not rows:
        return
    attempts = max(row.attempts for row in rows)
    OutboxMessage.objects.filter(pk__in=[row.pk for row in rows], claim_token=token, status=Status.SENDING).update(
        status=Status.PENDING,
        lease_until=None,
        next_attempt_at=_after(now, backoff(attempts).total_seconds()),
        last_error=error[:2000],
    )


def _record_failure(row: OutboxMessage, token: str, error: str, now: dt.datetime | None) -> bool:
    """The message itself failed (render error, 5xx). Returns True when the row is now failed for good."""
    failures = row.failures + 1
    final = failures >= crm_setting("OUTBOX_MAX_ATTEMPTS")
    OutboxMessage.objects.filter(pk=row.pk, claim_token=token, status=Status.SENDING).update(
        status=Status.FAILED if final else Status.PENDING,
        failures=failures,
        lease_until=None,
        next_attempt_at=_after(now, backoff(failures).total_seconds()),
        last_error=error[:2000],
    )
    log.warning("outbox %s failed (%s/%s): %s", row.key, failures, crm_setting("OUTBOX_MAX_ATTEMPTS"), error)
    return final


def _mark_sent(row: OutboxMessage, token: str, subject: str, now: dt.datetime | None = None) -> bool:
    marked = OutboxMessage.objects.filter(pk=row.pk, claim_token=token, status=Status.SENDING).update(
        status=Status.SENT, sent_at=_clock(now), lease_until=None, rendered_subject=subject[:300]
    )
    if not marked:
        # Our lease ran out and another sender took the row: it may go out twice.
        log.warning("outbox %s sent but its lease was lost before marking", row.key)
    return bool(marked)


def _smtp_code(exc: Exception) -> int | None:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return min(codes) if codes else None
    return getattr(exc, "smtp_code", None)


def _describe(exc: Exception) -> str:
    return f"{exc.__class__.__name__}: {exc}"


def _log_email(row: OutboxMessage, outcome: str, **fields) -> None:
    """One line per email handed to the server or refused by it: the outbox key and Message-ID link
    the line to the row and to the copy the recipient got (a resend shows as two `sent` lines)."""
    log.log(
        logging.WARNING if outcome != "sent" else logging.INFO,
        "email %s: %s", outcome, row.key,
        extra={"email": outcome, "outbox_key": row.key, "message_id": row.message_id,
               "kind": row.kind, "attempt": row.attempts, **fields},
    )


def send_batch(rows: list[OutboxMessage], token: str, report: DeliveryReport, now: dt.datetime | None = None) -> bool:
    """Send a claimed batch on one SMTP connection. Returns False when the server is unreachable.

    The lease is renewed every third of its length, so no other sender takes a
    row this one is still working through; the lease need only outlast one
    send (the mail connection's timeout).
    """
    renewed = time.monotonic()
    renew_every = crm_setting("OUTBOX_LEASE_SECONDS") / 3
    mailer = mailers.default
    try:
        mailer.open()
    except Exception as exc:  # refused, timeout, DNS …: the server, not the messages
        for row in rows:
            _log_email(row, "deferred", error=_describe(exc))
        _release(rows, token, _describe(exc), now)
        report.retried += len(rows)
        log.warning("outbox: mail server unavailable, %s rows back to pending: %s", len(rows), exc)
        return False
    try:
        for index, row in enumerate(rows):
            if time.monotonic() - renewed > renew_every:
                remaining = rows[index:]
                held = _renew(remaining, token, now)
                renewed = time.monotonic()
                if held < len(remaining):  # we were too slow and another sender took some: stop here
                    log.warning("outbox: lease lost on %s of %s rows; releasing the rest", len(remaining) - held, len(remaining))
                    _release(remaining, token, "lease lost: released unsent", now)
                    break
            _fault("after_claim")
            try:
                message = render_message(row)
            except Exception as exc:  # poison row: never blocks the others
                log.exception("outbox %s could not be rendered", row.key)
                report.failed += _record_failure(row, token, _describe(exc), now)
                continue
            try:
                mailer.send_messages([message])
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                code = _smtp_code(exc) or 0
                _log_email(row, "failed" if 500 <= code < 600 else "deferred", error=_describe(exc), smtp_code=code)
                if 500 <= code < 600:
                    report.failed += _record_failure(row, token, _describe(exc), now)
                else:  # 4xx: try this one again later, go on with the rest
                    _release([row], token, _describe(exc), now)
                    report.retried += 1
                continue
            except Exception as exc:  # connection lost mid-batch: not sent (no 250); stop
                for unsent in rows[index:]:
                    _log_email(unsent, "deferred", error=_describe(exc))
                _release(rows[index:], token, _describe(exc), now)
                report.retried += len(rows) - index
                log.warning("outbox: mail server went away: %s", exc)
                return False
            _log_email(row, "sent")
            _fault("after_smtp")
            if _mark_sent(row, token, message.subject, now):
                report.sent += 1
            else:
                report.lost_leases += 1
            _fault("after_mark")
    finally:
        try:
            mailer.close()
        except Exception:  # the connection may already be gone
            log.debug("outbox: closing the mail connection failed", exc_info=True)
    return True


def _give_up_on_crash_loops(now: dt.datetime | None) -> int:
    """Rows whose senders kept dying (lease expired again and again) are failed, not retried forever."""
    limit = 3 * crm_setting("OUTBOX_MAX_ATTEMPTS")
    return OutboxMessage.objects.filter(status=Status.SENDING, lease_until__lt=_clock(now), attempts__gte=limit).update(
        status=Status.FAILED, lease_until=None, last_error=f"abandoned: claimed {limit} times without finishing"
    )


def deliver_due(
    *, now: dt.datetime | None = None, batch_size: int | None = None, time_budget: float | None = None
) -> DeliveryReport:
    """Send every due outbox row, batch by batch, until none is left (or the time budget is spent).

    Queries: 1 + 2 per batch (claim) + 1 per email (mark), + 1 per lease
    renewal (every third of the lease). Safe to run from any number of
    processes at once, on any clocks: `now` None means the database's.
    """
    size = batch_size or crm_setting("OUTBOX_BATCH_SIZE")
    budget = time_budget if time_budget is not None else crm_setting("OUTBOX_FLUSH_TIME_BUDGET")
    started = time.monotonic()
    report = DeliveryReport()
    report.failed += _give_up_on_crash_loops(now)
    while time.monotonic() - started < budget:
        rows, token = claim_batch(now=now, size=size)
        if not rows:
            break
        report.batches += 1
        if not send_batch(rows, token, report, now):
            break  # the server is down: the next scan tries again after the back-off
    return report
