"""Webhooks against a real HTTP receiver on loopback (issue 19, "What it must show").

The receiver is a threaded `http.server` in the test process that records
every request (headers, body) it got; signatures are checked with the
`standardwebhooks` package, as a receiver would. Delivery is driven the way
production drives it: `deliver_due` (the every-minute `deliver_webhooks`
scan), in this process or in a `manage.py deliver_webhooks` subprocess that
the test kills with SIGKILL mid-request.
"""

import datetime as dt
import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from diplomacy_crm.deletion import delete_record
from engagements import services as engagement_services
from engagements.models import Commitment, Engagement
from partners import services as partner_services
from tests.integration.notification_helpers import _test_database_url, free_port
from webhooks import services
from webhooks.models import Delivery, Event

REPO = Path(__file__).resolve().parents[2]


class Receiver:
    """An HTTP server on 127.0.0.1 that keeps every request; `answer` and `hook` shape its replies."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.answer = (204, {})  # status, extra headers
        self.hook = None  # called with the request dict before answering (may block)
        self.server = None

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                request = {"path": self.path, "headers": dict(self.headers.items()), "body": body, "at": time.time()}
                with receiver.lock:
                    receiver.requests.append(request)
                if receiver.hook:
                    receiver.hook(request)
                status, headers = receiver.answer
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the client is gone (killed)

            def log_message(self, *args):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def got(self, path: str | None = None) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if path is None or r["path"] == path]


def verified(secret: str, request: dict) -> dict:
    """The payload, if the request carries a valid Standard Webhooks signature (raises otherwise)."""
    return Webhook(secret).verify(request["body"], request["headers"])


@pytest.fixture(autouse=True)
def _no_task_queued_after_commit(monkeypatch):
    """These tests drive the scan themselves (the celery one through beat's task). The task queued after
    each commit (tested in tests/unit/test_webhooks.py) would go to the development filesystem broker."""
    from webhooks import tasks

    monkeypatch.setattr(tasks, "_queue", lambda: None)


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def loopback_allowed(settings):
    """The test receiver is on loopback, which production refuses: allow 127.0.0.1 explicitly."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.5
    settings.WEBHOOK_RETRY_MAX_SECONDS = 1
    settings.WEBHOOK_MAX_ATTEMPTS = 200
    return settings


def drain(*, until, timeout: float = 30, interval: float = 0.3):
    """Run the scan (what beat does every minute) until `until()` holds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        services.deliver_due(time_budget=10)
        if until():
            return True
        time.sleep(interval)
    return until()


def all_delivered():
    return not Delivery.objects.exclude(status=Delivery.Status.DELIVERED).exists()


def some_writes(officer):
    """One of each event kind; returns the event types expected, in order."""
    partner = partner_services.partner_create(actor=officer, name="Sister City of Kyoto", kind="city", country="JP")
    partner_services.partner_update(partner=partner, actor=officer, city="Kyoto")
    engagement = engagement_services.engagement_create(
        actor=officer,
        title="Courtesy call",
        kind=Engagement.Kind.BILATERAL_MEETING,
        status=Engagement.Status.HELD,
        starts_at=timezone.now() - dt.timedelta(days=1),
        confidentiality=Engagement.Confidentiality.INTERNAL,
        partners=[partner],
    )
    commitment = engagement_services.commitment_create(
        actor=officer, description="Send the letter", engagement=engagement, due_date=timezone.localdate()
    )
    engagement_services.commitment_update(commitment=commitment, actor=officer, status=Commitment.Status.DONE)
    engagement_services.commitment_update(commitment=commitment, actor=officer, description="Send the letter (sent)")
    partner_services.agreement_create(actor=officer, title="Friendship MOU", kind="mou", status="in_force", partners=[partner])
    mission = engagement_services.trade_mission_create(
        actor=officer, name="Trade mission to Osaka", start_date=dt.date(2027, 5, 1), end_date=dt.date(2027, 5, 5)
    )
    delete_record(commitment, actor=officer)
    delete_record(mission, actor=officer)
    return [
        "partner.created",
        "partner.updated",
        "engagement.created",
        "commitment.created",
        "commitment.updated",
        "commitment.done",
        "commitment.updated",
        "agreement.created",
        "mission.created",
        "commitment.deleted",
        "mission.deleted",
    ]


@pytest.mark.django_db
def test_each_event_is_delivered_once_with_a_valid_signature(officer, receiver, loopback_allowed):
    endpoint = services.endpoint_create(actor=officer, url=receiver.url())
    expected = some_writes(officer)

    assert drain(until=all_delivered)

    got = receiver.got()
    payloads = [verified(endpoint.secret, r) for r in got]  # raises on a bad signature
    assert Counter(p["type"] for p in payloads) == Counter(expected)
    ids = [r["headers"]["webhook-id"] for r in got]
    assert len(ids) == len(set(ids)) == len(expected)  # once each
    assert set(ids) == set(Delivery.objects.values_list("webhook_id", flat=True))
    by_type = {p["type"]: p["data"] for p in payloads}
    assert by_type["partner.updated"]["fields"]["city"] == "Kyoto"
    assert by_type["commitment.done"]["fields"]["status"] == "done"
    assert by_type["mission.deleted"] == {"object": "mission", "id": by_type["mission.created"]["id"], "deleted": True}
    assert by_type["engagement.created"]["url"].startswith("https://crm.example.org/engagements/")
    # A tampered body fails verification.
    forged = dict(got[0], body=got[0]["body"].replace(b"Kyoto", b"Osaka") if b"Kyoto" in got[0]["body"] else b"{}")
    with pytest.raises(WebhookVerificationError):
        verified(endpoint.secret, forged)


@pytest.mark.django_db
def test_only_subscribed_event_types_are_sent(officer, receiver, loopback_allowed):
    endpoint = services.endpoint_create(actor=officer, url=receiver.url(), event_types=["commitment.done"])
    some_writes(officer)
    assert drain(until=all_delivered)
    assert [verified(endpoint.secret, r)["type"] for r in receiver.got()] == ["commitment.done"]


@pytest.mark.django_db
def test_receiver_down_for_20_seconds_then_everything_arrives(officer, loopback_allowed):
    port = free_port()
    endpoint = services.endpoint_create(actor=officer, url=f"http://127.0.0.1:{port}/hook")
    expected = some_writes(officer)

    down_until = time.monotonic() + 20
    while time.monotonic() < down_until:  # the scan keeps trying; every try is refused
        services.deliver_due(time_budget=5)
        time.sleep(0.5)
    assert Delivery.objects.filter(status=Delivery.Status.DELIVERED).count() == 0
    assert Delivery.objects.filter(failures__gte=2, last_error__contains="ConnectError").count() == len(expected)

    receiver = Receiver(port).start()
    try:
        assert drain(until=all_delivered, timeout=15)
        got = receiver.got()
    finally:
        receiver.stop()
    assert Counter(verified(endpoint.secret, r)["type"] for r in got) == Counter(expected)  # none lost
    assert len({r["headers"]["webhook-id"] for r in got}) == len(got)  # none twice


@pytest.mark.django_db(transaction=True)
def test_sender_killed_mid_delivery_loses_nothing_and_repeats_only_with_the_same_id(
    officer, receiver, loopback_allowed, postgres_required, tmp_path
):
    endpoint = services.endpoint_create(actor=officer, url=receiver.url())
    expected = some_writes(officer)
    arrived, release = threading.Event(), threading.Event()

    def hold_the_third(request):
        if len(receiver.got()) == 3:
            arrived.set()
            release.wait(20)  # the sender waits for our answer … and is killed meanwhile

    receiver.hook = hold_the_third
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "PYTEST_")) and k != "DATABASE_URL"}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "diplomacy_crm.test_settings",
            "DATABASE_URL": _test_database_url(),
            "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
            "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
            "WEBHOOK_LEASE_SECONDS": "3",
            "VAR_DIR": str(tmp_path),
        }
    )
    log = open(tmp_path / "sender.log", "wb")
    sender = subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), "deliver_webhooks"], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        assert arrived.wait(60), (tmp_path / "sender.log").read_text()
        sender.send_signal(signal.SIGKILL)
        sender.wait(10)
    finally:
        release.set()
        if sender.poll() is None:
            sender.kill()
        log.close()
    receiver.hook = None
    # The killed sender's claimed rows are still "sending", under its lease.
    assert Delivery.objects.filter(status=Delivery.Status.DELIVERED).count() == 2
    assert Delivery.objects.filter(status=Delivery.Status.SENDING).count() == len(expected) - 2

    # The next scans take them again once the lease (3 s, on the database's clock) is over.
    assert drain(until=all_delivered, timeout=20)

    got = receiver.got()
    ids = Counter(r["headers"]["webhook-id"] for r in got)
    assert set(ids) == set(Delivery.objects.values_list("webhook_id", flat=True))  # none lost
    duplicated = [i for i, n in ids.items() if n > 1]
    assert len(duplicated) == 1 and ids[duplicated[0]] == 2  # only the one in flight when killed
    copies = [r for r in got if r["headers"]["webhook-id"] == duplicated[0]]
    assert copies[0]["body"] == copies[1]["body"]  # same id, same event: a receiver drops the copy
    assert Counter(verified(endpoint.secret, r)["type"] for r in got) - Counter(expected) == Counter(
        {verified(endpoint.secret, copies[0])["type"]: 1}
    )


@pytest.mark.django_db
def test_restricted_engagement_goes_only_to_an_endpoint_cleared_for_it(officer, receiver, loopback_allowed):
    ordinary = services.endpoint_create(actor=officer, url=receiver.url("/ordinary"))
    cleared = services.endpoint_create(actor=officer, url=receiver.url("/cleared"), include_restricted=True)
    start = timezone.now() - dt.timedelta(days=1)
    secret_talks = engagement_services.engagement_create(
        actor=officer, title="Back-channel talks", kind=Engagement.Kind.BILATERAL_MEETING, status="held",
        starts_at=start, confidentiality=Engagement.Confidentiality.RESTRICTED,
    )
    engagement_services.commitment_create(
        actor=officer, description="Draft the secret memo", engagement=secret_talks, due_date=timezone.localdate()
    )
    engagement_services.engagement_create(
        actor=officer, title="Open forum", kind=Engagement.Kind.BILATERAL_MEETING, status="held",
        starts_at=start, confidentiality=Engagement.Confidentiality.PUBLIC,
    )

    assert drain(until=all_delivered)

    ordinary_got = [verified(ordinary.secret, r) for r in receiver.got("/ordinary")]
    cleared_got = [verified(cleared.secret, r) for r in receiver.got("/cleared")]
    assert [(p["type"], p["data"]["fields"].get("title")) for p in ordinary_got] == [("engagement.created", "Open forum")]
    assert b"Back-channel" not in b"".join(r["body"] for r in receiver.got("/ordinary"))
    assert b"secret memo" not in b"".join(r["body"] for r in receiver.got("/ordinary"))
    assert sorted(p["type"] for p in cleared_got) == ["commitment.created", "engagement.created", "engagement.created"]
    assert not Delivery.objects.filter(endpoint=ordinary, event__restricted=True).exists()


@pytest.mark.django_db
def test_a_forbidden_target_is_refused_at_registration(officer, receiver, settings):
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1", "localhost", "169.254.169.254"]
    settings.WEBHOOK_ALLOWED_NETWORKS = []  # production: no internal address
    for url in (receiver.url(), f"http://localhost:{receiver.port}/", "http://169.254.169.254/latest/meta-data/",
                "http://10.0.0.5/", "http://internal.example.org/"):
        with pytest.raises(ValidationError) as refused:
            services.endpoint_create(actor=officer, url=url)
        assert "url" in refused.value.message_dict, url
    assert not services.Endpoint.objects.exists()


@pytest.mark.django_db
def test_a_target_that_became_forbidden_is_refused_at_delivery(officer, receiver, loopback_allowed):
    endpoint = services.endpoint_create(actor=officer, url=receiver.url())
    partner_services.partner_create(actor=officer, name="Porto", kind="city", country="PT")
    loopback_allowed.WEBHOOK_ALLOWED_NETWORKS = []  # say, the name now resolves to an internal address

    services.deliver_due(time_budget=5)

    assert receiver.got() == []
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.status == Delivery.Status.PENDING and delivery.failures == 1
    assert delivery.last_error.startswith("refused: 127.0.0.1 resolves to an internal address")


@pytest.mark.django_db
def test_redirects_are_not_followed(officer, receiver, loopback_allowed):
    receiver.answer = (302, {"location": "http://169.254.169.254/latest/meta-data/"})
    services.endpoint_create(actor=officer, url=receiver.url())
    partner_services.partner_create(actor=officer, name="Porto", kind="city", country="PT")

    services.deliver_due(time_budget=5)

    assert len(receiver.got()) == 1
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING and delivery.last_status_code == 302
    assert "not followed" in delivery.last_error


@pytest.mark.django_db
def test_replay_sends_the_same_webhook_again(officer, receiver, loopback_allowed):
    endpoint = services.endpoint_create(actor=officer, url=receiver.url())
    partner_services.partner_create(actor=officer, name="Porto", kind="city", country="PT")
    assert drain(until=all_delivered)
    delivery = Delivery.objects.get()

    assert services.replay(delivery)
    assert drain(until=all_delivered)

    got = receiver.got()
    assert [r["headers"]["webhook-id"] for r in got] == [delivery.webhook_id] * 2
    assert all(verified(endpoint.secret, r)["type"] == "partner.created" for r in got)
    assert Event.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_senders_deliver_each_webhook_exactly_once(officer, receiver, loopback_allowed, postgres_required):
    services.endpoint_create(actor=officer, url=receiver.url("/a"))
    services.endpoint_create(actor=officer, url=receiver.url("/b"))
    for n in range(20):
        partner_services.partner_create(actor=officer, name=f"Partner {n}", kind="city", country="JP")
    receiver.hook = lambda request: time.sleep(0.01)  # a receiver that takes a moment
    loopback_allowed.WEBHOOK_BATCH_SIZE = 3
    errors = []

    def sender():
        from django.db import connection

        try:
            services.deliver_due(time_budget=30)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert not errors
    ids = Counter(r["headers"]["webhook-id"] for r in receiver.got())
    assert len(ids) == 40 and set(ids.values()) == {1}
    assert Delivery.objects.filter(status=Delivery.Status.DELIVERED, attempts=1).count() == 40


@pytest.mark.django_db(transaction=True)
def test_a_celery_worker_killed_mid_delivery_loses_nothing(officer, receiver, loopback_allowed, celery_workers, redis_url):
    """The production path: beat's `deliver_webhooks` on a real worker, whose process group is SIGKILLed mid-request."""
    from tests.integration.notification_helpers import celery_client, wait_until

    endpoint = services.endpoint_create(actor=officer, url=receiver.url())
    expected = some_writes(officer)
    arrived, release = threading.Event(), threading.Event()

    def hold_the_second(request):
        if len(receiver.got()) == 2:
            arrived.set()
            release.wait(20)

    receiver.hook = hold_the_second
    worker_env = {"WEBHOOK_ALLOWED_HOSTS": "127.0.0.1", "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32", "WEBHOOK_LEASE_SECONDS": "3"}
    worker = celery_workers("w1", **worker_env)
    beat = celery_client(redis_url)
    beat.send_task("deliver_webhooks")
    try:
        assert arrived.wait(60), worker.log_tail()
        worker.kill_group()
    finally:
        release.set()
    receiver.hook = None
    assert Delivery.objects.filter(status=Delivery.Status.SENDING).exists()

    celery_workers("w2", **worker_env)  # a fresh worker; beat keeps calling every few seconds
    assert wait_until(all_delivered, timeout=60, tick=lambda: beat.send_task("deliver_webhooks"), tick_every=2), worker.log_tail()

    ids = Counter(r["headers"]["webhook-id"] for r in receiver.got())
    assert set(ids) == set(Delivery.objects.values_list("webhook_id", flat=True))  # none lost
    assert sum(n - 1 for n in ids.values()) <= 1  # at most the one in flight, and with its own id
    assert Counter(verified(endpoint.secret, r)["type"] for r in {r["headers"]["webhook-id"]: r for r in receiver.got()}.values()) == Counter(expected)
