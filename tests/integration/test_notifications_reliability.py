"""Reliability gates R1–R8 for background email (QUALITY.md 2.2, 3.5, 3.6).

Real moving parts: PostgreSQL (the workers share the test database), Redis
db 9 (or a private Redis for the outage test), `celery worker -c 2 -P
prefork` processes started here, and an aiosmtpd sink on loopback. Every
test prints its figures (kills, lost, duplicates) and asserts them.

Kill variants in the normal run: a random SIGKILL of the whole worker group,
and deterministic crashes after_claim and after_smtp (OUTBOX_FAULT). The
other variants (after_mark, during_scan, pool child, 5 random kills) run with
RUN_RELIABILITY=1.
"""

import datetime as dt
import os
import time
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from accounts.models import Profile
from engagements.models import Commitment
from notifications import services
from notifications.models import OutboxMessage

from .notification_helpers import Figures, celery_client, give_role, wait_until

LA = ZoneInfo("America/Los_Angeles")
NOW = dt.datetime(2025, 3, 10, 9, 0, tzinfo=LA)
TODAY = NOW.date()
Status = OutboxMessage.Status
RELIABILITY = os.environ.get("RUN_RELIABILITY") == "1"
nightly = pytest.mark.skipif(not RELIABILITY, reason="long reliability variant: set RUN_RELIABILITY=1")


def seed_due(django_user_model, n: int, *, opt_out_digest: bool = False) -> set[str]:
    """n open commitments due today, each with its own owner. Returns the expected outbox keys."""
    tag = uuid.uuid4().hex[:6]
    owners = django_user_model.objects.bulk_create(
        [django_user_model(username=f"owner-{tag}-{i}", email=f"owner-{tag}-{i}@city.example.org") for i in range(n)]
    )
    Profile.objects.bulk_create([Profile(user=o, digest_opt_out=opt_out_digest) for o in owners])
    give_role(owners)
    commitments = Commitment.objects.bulk_create(
        [Commitment(description=f"Deliver item {i} <b>", owner=o, due_date=TODAY) for i, o in enumerate(owners)]
    )
    return {
        OutboxMessage.make_key(
            kind="commitment_due_today", subject_type="commitment", subject_id=c.pk,
            period=TODAY.isoformat(), recipient_id=c.owner_id,
        )
        for c in commitments
    }


def unfinished() -> int:
    return OutboxMessage.objects.filter(status__in=[Status.PENDING, Status.SENDING]).count()


def all_delivered(expected: set[str]):
    return lambda: OutboxMessage.objects.filter(key__in=expected, status=Status.SENT).count() == len(expected)


def assert_consistent(figures: Figures, sink):
    """Every row is sent (attempts >= 1), and no row is sent whose key the sink never got."""
    rows = list(OutboxMessage.objects.values_list("key", "status", "attempts"))
    assert all(status == Status.SENT and attempts >= 1 for _, status, attempts in rows), [
        r for r in rows if r[1] != Status.SENT
    ][:5]
    sent_keys = {key for key, _, _ in rows}
    assert sent_keys <= set(sink.keys()), "a row marked sent without a 250 from the server"
    assert not figures.unexpected


@pytest.fixture
def broker(redis_url):
    """Calls tasks by name on the test Redis, as `celery call` or beat would."""
    return celery_client(redis_url)


def beat(broker):
    """What celery beat does every minute (here every 2 s): ask for an outbox scan."""
    return lambda: broker.send_task("flush_outbox")


# --- the acceptance story ---------------------------------------------------------------------


@pytest.mark.celery
@pytest.mark.redis
@pytest.mark.smtp
def test_due_commitment_reminded_exactly_once(celery_workers, broker, smtp_sink, django_user_model):
    expected = seed_due(django_user_model, 1)
    celery_workers("w1")
    broker.send_task("send_due_reminders", kwargs={"now": NOW.isoformat()})
    assert wait_until(lambda: len(smtp_sink.messages) >= 1, timeout=30)
    (mail,) = smtp_sink.messages
    owner = Commitment.objects.get().owner
    assert mail["To"] == owner.email and mail["X-Outbox-Key"] in expected

    # A second run, a retried task (same task id, delivered twice), a second worker: nothing new.
    task_id = str(uuid.uuid4())
    broker.send_task("send_due_reminders", kwargs={"now": NOW.isoformat()}, task_id=task_id)
    broker.send_task("send_due_reminders", kwargs={"now": NOW.isoformat()}, task_id=task_id)
    celery_workers("w2")
    for _ in range(2):
        broker.send_task("send_due_reminders", kwargs={"now": NOW.isoformat()})
        broker.send_task("flush_outbox")
    time.sleep(3)
    assert len(smtp_sink.messages) == 1
    assert OutboxMessage.objects.get().status == Status.SENT

    # The server refuses mail for a while: the row stays pending, a later run delivers it.
    smtp_sink.handler.refuse = "451 4.3.0 Mailbox temporarily unavailable"
    expected |= seed_due(django_user_model, 1)
    broker.send_task("send_due_reminders", kwargs={"now": NOW.isoformat()})
    assert wait_until(lambda: OutboxMessage.objects.filter(last_error__contains="451").exists(), timeout=30)
    row = OutboxMessage.objects.get(status=Status.PENDING)
    assert row.attempts >= 1 and len(smtp_sink.messages) == 1
    smtp_sink.handler.refuse = None
    assert wait_until(all_delivered(expected), timeout=30, tick=beat(broker))
    figures = Figures(expected, smtp_sink)
    print(f"exactly-once: {figures}")
    assert figures.lost == 0 and figures.duplicates == 0


# --- R1: reruns ------------------------------------------------------------------------------


@pytest.mark.smtp
@pytest.mark.django_db
def test_r1_three_sequential_runs_send_each_key_once(django_user_model, outbox_to_sink):
    """R1: 3 runs of send_reminders and send_weekly_digest -> 200 reminders + 50 digests, once each."""
    expected = seed_due(django_user_model, 200, opt_out_digest=True)
    digest_readers = seed_due(django_user_model, 0)  # noqa: F841 (nothing)
    readers = give_role(
        django_user_model.objects.bulk_create(
            [django_user_model(username=f"reader{i}", email=f"reader{i}@city.example.org") for i in range(50)]
        ),
        "viewer",
    )
    expected |= {
        OutboxMessage.make_key(kind="weekly_digest", subject_type="week", subject_id=None, period="2025-W11", recipient_id=u.pk)
        for u in readers
    }
    for _ in range(3):
        call_command("send_reminders", now=NOW.isoformat())
        call_command("send_weekly_digest", now=NOW.isoformat())
    figures = Figures(expected, outbox_to_sink)
    print(f"R1: 3 runs each -> {figures}")
    assert sum(figures.received.values()) == 250
    assert figures.lost == 0 and figures.duplicates == 0
    assert_consistent(figures, outbox_to_sink)


# --- R2: concurrent workers ---------------------------------------------------------------------


@pytest.mark.celery
@pytest.mark.redis
@pytest.mark.smtp
def test_r2_two_workers_and_two_concurrent_scans(celery_workers, broker, smtp_sink, django_user_model):
    expected = seed_due(django_user_model, 200)
    smtp_sink.handler.delay = 0.01
    workers = [celery_workers("w1"), celery_workers("w2")]
    for _ in range(2):  # two scans at once, as two `celery call send_due_reminders`
        broker.send_task("send_due_reminders", kwargs={"now": NOW.isoformat()})
    assert wait_until(all_delivered(expected), timeout=90, tick=beat(broker))
    figures = Figures(expected, smtp_sink)
    task_errors = sum(w.log_path.read_text(errors="replace").count("IntegrityError") for w in workers)
    print(f"R2: 2 workers x -c 2, 2 concurrent scans -> {figures}; IntegrityError in task logs: {task_errors}")
    assert figures.lost == 0 and figures.duplicates == 0 and task_errors == 0
    assert_consistent(figures, smtp_sink)


# --- R3: worker killed ---------------------------------------------------------------------------


def run_with_kill(celery_workers, broker, smtp_sink, django_user_model, *, kill, fault=None, tmp_path=None):
    """Seed 200, start the scan, crash the worker as told, restart, wait for recovery; return figures."""
    expected = seed_due(django_user_model, 200)
    # A slow server, so a random kill lands mid-run; deterministic faults need none.
    smtp_sink.handler.delay = 0.05 if kill in ("group", "child") else 0.005
    extra = {}
    if fault:
        extra = {"OUTBOX_FAULT": fault, "OUTBOX_FAULT_MARKER": str(tmp_path / f"fault-{uuid.uuid4().hex}")}
    worker = celery_workers("w1", **extra)
    started = time.monotonic()
    broker.send_task("send_due_reminders", kwargs={"now": NOW.isoformat()})
    kills = 0
    if kill == "group":
        assert wait_until(lambda: len(smtp_sink.messages) >= 50, timeout=60)
        worker.kill_group()
        kills = 1
        killed_at = time.monotonic()
        worker.start()
    elif kill == "child":
        assert wait_until(lambda: len(smtp_sink.messages) >= 50, timeout=60)
        assert worker.kill_pool_child()
        kills = 1
        killed_at = time.monotonic()
    else:  # a deterministic fault kills a pool child by itself
        assert wait_until(lambda: os.path.exists(extra["OUTBOX_FAULT_MARKER"]), timeout=60)
        kills = 1
        killed_at = time.monotonic()
    assert wait_until(all_delivered(expected), timeout=90, tick=beat(broker)), worker.log_tail()
    recovery = time.monotonic() - killed_at
    figures = Figures(expected, smtp_sink)
    assert_consistent(figures, smtp_sink)
    if fault:
        marker_time = os.path.getmtime(extra["OUTBOX_FAULT_MARKER"])
        worker.kill_times.append(marker_time)
    figures.outside_window = figures.duplicates_outside(worker.kill_times)
    return figures, kills, recovery, time.monotonic() - started


@pytest.mark.celery
@pytest.mark.redis
@pytest.mark.smtp
@pytest.mark.slow
@pytest.mark.parametrize("round_", range(5 if RELIABILITY else 1))
def test_r3_worker_group_killed_mid_run_loses_nothing(round_, celery_workers, broker, smtp_sink, django_user_model):
    figures, kills, recovery, total = run_with_kill(celery_workers, broker, smtp_sink, django_user_model, kill="group")
    print(f"R3 random SIGKILL (group) round {round_ + 1}: kills={kills} {figures} "
          f"(outside the SMTP window: {figures.outside_window}; same Message-ID: {figures.same_message_id}) "
          f"recovery={recovery:.1f}s total={total:.1f}s")
    assert figures.lost == 0
    # A kill lands while each of the 2 pool processes waits for its server's 250
    # (that is ~90% of their time). When the server answers during the few ms
    # the dying process takes to close its socket, the server accepted and the
    # client never marked: the SMTP window, one resend per process at most,
    # with the same Message-ID. Outside that window: none.
    assert figures.outside_window == 0
    assert figures.duplicates <= 2 * kills and figures.same_message_id
    assert recovery <= 60


@pytest.mark.celery
@pytest.mark.redis
@pytest.mark.smtp
@pytest.mark.slow
@pytest.mark.parametrize(
    "fault",
    [
        "after_claim",
        "after_smtp",
        pytest.param("after_mark", marks=nightly),
        pytest.param("during_scan", marks=nightly),
    ],
)
def test_r3_deterministic_crash_points(fault, celery_workers, broker, smtp_sink, django_user_model, tmp_path):
    nth = "1" if fault == "during_scan" else "30"
    figures, kills, recovery, total = run_with_kill(
        celery_workers, broker, smtp_sink, django_user_model, kill="fault", fault=f"{fault}:{nth}", tmp_path=tmp_path
    )
    print(f"R3 OUTBOX_FAULT={fault}:{nth}: kills={kills} {figures} same Message-ID={figures.same_message_id} "
          f"outside the SMTP window={figures.outside_window} "
          f"recovery={recovery:.1f}s total={total:.1f}s")
    assert figures.lost == 0
    if fault == "after_smtp":
        # Inside the window: the 30th message went out and was not marked; it goes again, same Message-ID.
        assert figures.duplicates <= 1 and figures.same_message_id
    else:
        assert figures.duplicates == 0
    assert recovery <= 60


@nightly
@pytest.mark.celery
@pytest.mark.redis
@pytest.mark.smtp
def test_r3_pool_child_killed(celery_workers, broker, smtp_sink, django_user_model):
    figures, kills, recovery, total = run_with_kill(celery_workers, broker, smtp_sink, django_user_model, kill="child")
    print(f"R3 pool child SIGKILL: kills={kills} {figures} outside the SMTP window={figures.outside_window} "
          f"recovery={recovery:.1f}s")
    assert figures.lost == 0 and figures.duplicates <= 1 and figures.same_message_id
    assert figures.outside_window == 0


# --- R4: SMTP outage ---------------------------------------------------------------------------------


@pytest.mark.celery
@pytest.mark.redis
@pytest.mark.smtp
@pytest.mark.slow
def test_r4_smtp_outage_loses_nothing_and_recovers(celery_workers, broker, smtp_sink, django_user_model):
    outage = float(os.environ.get("SMTP_OUTAGE_SECONDS", "20"))
    expected = seed_due(django_user_model, 200)
    smtp_sink.handler.delay = 0.05
    celery_workers("w1")
    broker.send_task("send_due_reminders", kwargs={"now": NOW.isoformat()})
    assert wait_until(lambda: len(smtp_sink.messages) >= 30, timeout=60)
    smtp_sink.stop()
    stopped = time.monotonic()
    wait_until(lambda: False, timeout=outage, tick=beat(broker))  # beat keeps scanning during the outage
    received_during = len(smtp_sink.messages)
    failing = OutboxMessage.objects.filter(status=Status.PENDING).exclude(last_error="").count()
    smtp_sink.start()
    back = time.monotonic()
    assert wait_until(all_delivered(expected), timeout=60, tick=beat(broker))
    recovery = time.monotonic() - back
    figures = Figures(expected, smtp_sink)
    retried = OutboxMessage.objects.filter(attempts__gt=1).exclude(last_error="")
    print(f"R4: SMTP down {back - stopped:.0f}s after {received_during} emails; pending with an error during the "
          f"outage: {failing}; rows retried: {retried.count()} (max attempts "
          f"{max(OutboxMessage.objects.values_list('attempts', flat=True))}); {figures}; all sent {recovery:.1f}s after the sink returned")
    assert failing > 0 and retried.exists()
    assert figures.lost == 0 and figures.duplicates == 0
    assert_consistent(figures, smtp_sink)
    assert recovery <= 20  # two scan intervals of production (2 x 60 s) would be the bound; the test's are 2 s


# --- R5: broker outage -------------------------------------------------------------------------------


@pytest.mark.celery
@pytest.mark.redis
@pytest.mark.smtp
def test_r5_broker_outage_never_breaks_the_caller_and_the_scan_delivers_later(
    postgres_required, transactional_db, private_redis, smtp_sink, django_user_model, tmp_path, caplog, settings
):
    from diplomacy_crm.celery import app
    from notifications import tasks

    from .notification_helpers import CeleryWorker

    worker = CeleryWorker("w1", redis_url=private_redis.url, smtp_port=smtp_sink.port, log_dir=tmp_path).start()
    saved = (app.conf.broker_url, app.conf.broker_transport_options, app._pool)
    try:
        # This process publishes to the private Redis too, as a web process would.
        app.conf.broker_url = private_redis.url
        app.conf.broker_transport_options = {}
        app._pool = None
        app.amqp._producer_pool = None
        private_redis.stop()
        expected = seed_due(django_user_model, 1)
        started = time.monotonic()
        with caplog.at_level("WARNING"):
            created = services.enqueue_due_reminders(now=NOW)
            tasks.schedule_delivery(created)  # on commit: the broker is down, logged only
        elapsed = time.monotonic() - started
        assert created == 1 and "could not enqueue flush_outbox" in caplog.text
        assert OutboxMessage.objects.get().status == Status.PENDING
        private_redis.start()
        broker = celery_client(private_redis.url)
        assert wait_until(all_delivered(expected), timeout=60, tick=beat(broker)), worker.log_tail()
        figures = Figures(expected, smtp_sink)
        print(f"R5: Redis down -> enqueue returned in {elapsed:.2f}s without raising; after Redis returned: {figures}")
        assert figures.lost == 0 and figures.duplicates == 0
    finally:
        app.conf.broker_url, app.conf.broker_transport_options, app._pool = saved
        app.amqp._producer_pool = None
        worker.stop()


# --- R7: poison row ------------------------------------------------------------------------------------


@pytest.mark.smtp
@pytest.mark.django_db
def test_r7_poison_row_fails_after_five_tries_and_blocks_nobody(
    django_user_model, outbox_to_sink, monkeypatch, settings, time_machine
):
    from django.utils import timezone

    settings.CRM = {**settings.CRM, "OUTBOX_MAX_ATTEMPTS": 5, "OUTBOX_RETRY_BASE_SECONDS": 1, "OUTBOX_RETRY_MAX_SECONDS": 8}
    # The outbox runs on the database's clock: the test drives it by passing `now`.
    time_machine.move_to(timezone.now() + dt.timedelta(seconds=1), tick=False)
    expected = seed_due(django_user_model, 200)
    services.enqueue_due_reminders(now=NOW)
    poison = sorted(expected)[17]
    real_render = services.render_message

    def render(row):
        if row.key == poison:
            raise RuntimeError("template exploded for this recipient")
        return real_render(row)

    monkeypatch.setattr(services, "render_message", render)
    scans = 0
    while unfinished() and scans < 10:
        services.deliver_due(now=timezone.now())
        scans += 1
        time_machine.shift(dt.timedelta(seconds=10))
    row = OutboxMessage.objects.get(key=poison)
    figures = Figures(expected - {poison}, outbox_to_sink)
    print(f"R7: poison row {row.status} after {row.attempts} attempts in {scans} scans; others: {figures}")
    assert (row.status, row.attempts) == (Status.FAILED, 5)
    assert OutboxMessage.objects.filter(status=Status.SENT).count() == 199
    assert figures.lost == 0 and figures.duplicates == 0
