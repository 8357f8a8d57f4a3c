"""Writes of webhooks: register endpoints, deliver events, replay deliveries.

Delivery has the outbox's guarantees (notifications.services), for HTTP:
- one Delivery row per (endpoint, event), unique, written with the event in
  the transaction of the record write (webhooks.events);
- `deliver_due` claims a batch of due rows under a lease (FOR UPDATE SKIP
  LOCKED on PostgreSQL, so concurrent senders take disjoint batches; every
  time of a claim, back-off and lease is the database's clock, `Now()`), POSTs
  each, and marks it with an UPDATE conditioned on its claim token. A worker
  that dies leaves its rows "sending"; when the lease runs out the next scan
  (the every-minute `deliver_webhooks` beat task) takes them again. The only
  window for a duplicate is between the receiver's 2xx and the mark, and the
  copy carries the same webhook-id, so receivers can drop it;
- an answer other than 2xx (redirects are not followed), a timeout or a
  refused connection counts as a failure and the row is tried again after
  an exponential back-off; after WEBHOOK_MAX_ATTEMPTS failures it is failed
  (and can be replayed from the delivery log).

Every request is signed per the Standard Webhooks spec (webhook-id,
webhook-timestamp, webhook-signature: HMAC-SHA256 with the endpoint's
secret, the `standardwebhooks` package), and goes only to a target that
passes webhooks.targets at that moment, connecting to the checked address.
"""

import datetime as dt
import logging
import secrets
import time
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Q, Value
from django.db.models.functions import Now
from standardwebhooks import Webhook

from .models import Delivery, Endpoint, new_secret
from .targets import TargetRefused, check_target

log = logging.getLogger(__name__)

Status = Delivery.Status

DEFAULTS = {
    "WEBHOOK_LEASE_SECONDS": 60,
    "WEBHOOK_MAX_ATTEMPTS": 10,
    "WEBHOOK_BATCH_SIZE": 20,
    "WEBHOOK_RETRY_BASE_SECONDS": 30,
    "WEBHOOK_RETRY_MAX_SECONDS": 3600,
    "WEBHOOK_TIMEOUT_SECONDS": 5,
    "WEBHOOK_TIME_BUDGET": 240,
}
USER_AGENT = "DiplomacyCRM-Webhooks/1"


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])


def db_now_plus(seconds: float):
    """The database's clock plus `seconds`, as an expression (one clock for every worker)."""
    return ExpressionWrapper(Now() + Value(dt.timedelta(seconds=seconds)), output_field=DateTimeField())


# --- endpoints ------------------------------------------------------------------------


def _save_endpoint(endpoint: Endpoint, actor=None) -> Endpoint:
    endpoint.full_clean()
    try:
        check_target(endpoint.url)
    except TargetRefused as exc:
        raise ValidationError({"url": str(exc)}) from None
    if getattr(actor, "is_authenticated", False):
        endpoint._history_user = actor
    endpoint.save()  # one history row (simple-history), without the secret
    return endpoint


@transaction.atomic
def endpoint_create(*, actor, url: str, event_types=(), description: str = "", is_active: bool = True,
                    include_restricted: bool = False) -> Endpoint:
    """A new endpoint with a fresh secret. Raises ValidationError (url refused, say) and writes nothing."""
    endpoint = Endpoint(
        url=url,
        description=description,
        event_types=list(event_types or []),
        is_active=is_active,
        include_restricted=include_restricted,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    return _save_endpoint(endpoint, actor)


@transaction.atomic
def endpoint_update(*, endpoint: Endpoint, actor=None, rotate_secret: bool = False, **fields) -> Endpoint:
    """Change the named fields (the URL is checked again); `rotate_secret` gives it a new secret."""
    for name in ("url", "description", "event_types", "is_active", "include_restricted"):
        if name in fields:
            setattr(endpoint, name, list(fields[name] or []) if name == "event_types" else fields[name])
    if rotate_secret:
        endpoint.secret = new_secret()
    return _save_endpoint(endpoint, actor)


@transaction.atomic
def replay(delivery: Delivery) -> bool:
    """Send a delivered or failed delivery again (same webhook-id and body), soon. False if it is still under way."""
    done = Delivery.objects.filter(pk=delivery.pk, status__in=[Status.DELIVERED, Status.FAILED]).update(
        status=Status.PENDING,
        failures=0,
        next_attempt_at=Now(),
        lease_until=None,
        replayed_at=Now(),
        last_error="",
    )
    if done:
        from .tasks import schedule_delivery

        schedule_delivery()
    return bool(done)


# --- deliver -------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    batches: int = 0
    lost_leases: int = 0


def backoff_seconds(failures: int) -> float:
    """Exponential back-off: base, 2×base, 4×base … capped."""
    base, cap = setting("WEBHOOK_RETRY_BASE_SECONDS"), setting("WEBHOOK_RETRY_MAX_SECONDS")
    return min(base * 2 ** max(failures - 1, 0), cap)


def _due_q() -> Q:
    # Pending rows past their back-off, and claimed rows whose sender let the lease run out.
    return Q(status=Status.PENDING, next_attempt_at__lte=Now()) | Q(status=Status.SENDING, lease_until__lt=Now())


def claim_batch(size: int) -> tuple[list[Delivery], str]:
    """Claim up to `size` due deliveries for this sender, under a lease on the database's clock."""
    token = secrets.token_hex(16)
    values = {
        "status": Status.SENDING,
        "claim_token": token,
        "lease_until": db_now_plus(setting("WEBHOOK_LEASE_SECONDS")),
        "attempts": F("attempts") + 1,
    }
    due = Delivery.objects.filter(_due_q()).order_by("next_attempt_at", "id")
    if connection.features.has_select_for_update_skip_locked:
        with transaction.atomic():
            pks = [row.pk for row in due.select_for_update(skip_locked=True).only("pk")[:size]]
            if pks:
                Delivery.objects.filter(pk__in=pks).update(**values)
    else:  # SQLite serialises writers: one conditional UPDATE
        pks = list(due.values_list("pk", flat=True)[:size])
        if pks:
            Delivery.objects.filter(pk__in=pks).filter(_due_q()).update(**values)
    if not pks:
        return [], token
    rows = Delivery.objects.filter(claim_token=token, status=Status.SENDING).select_related("endpoint", "event")
    return list(rows.order_by("next_attempt_at", "id")), token


def _record_failure(row: Delivery, token: str, error: str, status_code: int | None = None, *, final=False) -> bool:
    """A try that got no 2xx. Returns True when the row is now failed for good."""
    failures = row.failures + 1
    final = final or failures >= setting("WEBHOOK_MAX_ATTEMPTS")
    Delivery.objects.filter(pk=row.pk, claim_token=token, status=Status.SENDING).update(
        status=Status.FAILED if final else Status.PENDING,
        failures=failures,
        lease_until=None,
        next_attempt_at=db_now_plus(backoff_seconds(failures)),
        last_error=error[:2000],
        last_status_code=status_code,
    )
    log.warning("webhook %s to %s failed (%s/%s): %s", row.webhook_id, row.endpoint.url, failures,
                setting("WEBHOOK_MAX_ATTEMPTS"), error)
    return final


def _release(rows: list[Delivery], token: str, error: str) -> None:
    """Back to pending unsent (the batch ran out of lease time): no failure counted."""
    Delivery.objects.filter(pk__in=[r.pk for r in rows], claim_token=token, status=Status.SENDING).update(
        status=Status.PENDING, lease_until=None, next_attempt_at=Now(), last_error=error
    )


def _mark_delivered(row: Delivery, token: str, status_code: int) -> bool:
    marked = Delivery.objects.filter(pk=row.pk, claim_token=token, status=Status.SENDING).update(
        status=Status.DELIVERED, delivered_at=Now(), lease_until=None, last_status_code=status_code, last_error=""
    )
    if not marked:
        # Our lease ran out and another sender took the row: it may arrive twice, with the same webhook-id.
        log.warning("webhook %s delivered but its lease was lost before marking", row.webhook_id)
    return bool(marked)


def signed_headers(row: Delivery, *, now: dt.datetime | None = None) -> dict[str, str]:
    """The Standard Webhooks headers for this delivery's body, signed now with the endpoint's secret."""
    now = now or dt.datetime.now(dt.UTC)
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": row.webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(row.endpoint.secret).sign(row.webhook_id, now, row.event.body),
    }


def post(client: httpx.Client, row: Delivery) -> httpx.Response:
    """POST the delivery to its endpoint, at the address that passed the target check (raises TargetRefused)."""
    target = check_target(row.endpoint.url)
    address = f"[{target.address}]" if ":" in target.address else target.address
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    headers = {**signed_headers(row), "host": host_header}
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    url = f"{target.scheme}://{address}:{target.port}{target.path}"
    request = client.build_request("POST", url, content=row.event.body.encode(), headers=headers, extensions=extensions)
    response = client.send(request, stream=True)  # the body is not read: only the status matters
    response.close()
    return response


def new_client() -> httpx.Client:
    # No redirects, no proxies from the environment (the checked address is the one connected to), and
    # no kept-alive connections: the pool is keyed by address, and a TLS session opened for one host
    # name must not carry another endpoint's request that resolved to the same address.
    return httpx.Client(
        timeout=setting("WEBHOOK_TIMEOUT_SECONDS"),
        follow_redirects=False,
        trust_env=False,
        limits=httpx.Limits(max_keepalive_connections=0),
    )


def send_batch(client: httpx.Client, rows: list[Delivery], token: str, report: DeliveryReport) -> None:
    started = time.monotonic()
    safe_for = setting("WEBHOOK_LEASE_SECONDS") / 2  # stop well before the lease ends
    for index, row in enumerate(rows):
        if time.monotonic() - started > safe_for:
            _release(rows[index:], token, "lease nearly over: released unsent")
            report.retried += len(rows) - index
            return
        endpoint = row.endpoint
        if not endpoint.is_active:
            report.failed += _record_failure(row, token, "endpoint deactivated: not sent", final=True)
            continue
        if row.event.restricted and not endpoint.include_restricted:
            report.failed += _record_failure(row, token, "restricted record: endpoint not allowed to receive it", final=True)
            continue
        try:
            response = post(client, row)
        except TargetRefused as exc:
            report.failed += _record_failure(row, token, f"refused: {exc}")
            continue
        except httpx.HTTPError as exc:
            report.failed += _record_failure(row, token, f"{exc.__class__.__name__}: {exc}")
            continue
        if 200 <= response.status_code < 300:
            if _mark_delivered(row, token, response.status_code):
                report.delivered += 1
            else:
                report.lost_leases += 1
            continue
        if response.is_redirect:
            error = f"HTTP {response.status_code}: redirect to {response.headers.get('location', '?')} not followed"
        else:
            error = f"HTTP {response.status_code}"
        report.failed += _record_failure(row, token, error, response.status_code)


def _give_up_on_crash_loops() -> int:
    """Rows whose senders kept dying (lease expired again and again) are failed, not retried forever."""
    limit = 3 * setting("WEBHOOK_MAX_ATTEMPTS")
    return Delivery.objects.filter(status=Status.SENDING, lease_until__lt=Now(), attempts__gte=limit).update(
        status=Status.FAILED, lease_until=None, last_error=f"abandoned: claimed {limit} times without finishing"
    )


def deliver_due(*, batch_size: int | None = None, time_budget: float | None = None) -> DeliveryReport:
    """Send every due delivery, batch by batch, until none is left or the time budget is spent.

    Safe to run from any number of processes at once.
    """
    size = batch_size or setting("WEBHOOK_BATCH_SIZE")
    budget = time_budget if time_budget is not None else setting("WEBHOOK_TIME_BUDGET")
    started = time.monotonic()
    report = DeliveryReport()
    report.failed += _give_up_on_crash_loops()
    with new_client() as client:
        while time.monotonic() - started < budget:
            rows, token = claim_batch(size)
            if not rows:
                break
            report.batches += 1
            send_batch(client, rows, token, report)
    return report
