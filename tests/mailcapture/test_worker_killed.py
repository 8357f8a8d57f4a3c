"""A real Celery worker killed in the middle of a poll: every message is still logged, each exactly once."""


import pytest
from django.db import connection

from engagements.models import Engagement
from mailcapture.models import CapturedMessage
from tests.integration.notification_helpers import celery_client, table_held, wait_until

from . import messages as m


def waiting_on_engagements() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE NOT l.granted AND c.relname = %s",
            [Engagement._meta.db_table],
        )
        return cursor.fetchone()[0] > 0


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_poll_logs_each_message_once(celery_workers, redis_url, mailbox, staff_user, osaka):
    letters = [m.forwarded_letter(staff_user.email, subject=f"Fwd: Letter {i}") for i in range(3)]
    mailbox.deliver(*letters, letters[0])  # and a second copy of the first
    env = {"MAIL_CAPTURE_URL": mailbox.url}
    client = celery_client(redis_url)
    worker = celery_workers("w1", **env)

    with table_held(Engagement):
        client.send_task("poll_mail_capture")
        assert wait_until(waiting_on_engagements, timeout=60, interval=0.1), worker.log_tail()
        # Every message is kept (committed), the first one's engagement is being written: kill the worker now.
        assert CapturedMessage.objects.count() == 3
        worker.kill_group()

    assert not Engagement.objects.exists()
    assert set(CapturedMessage.objects.values_list("status", flat=True)) == {"received"}
    assert len(mailbox.message_ids()) == 4  # nothing removed from the mailbox before its commit

    second = celery_workers("w2", **env)

    def logged() -> bool:
        return CapturedMessage.objects.filter(status="logged").count() == 3 and not mailbox.message_ids()

    # As beat would: a poll every few seconds until everything is logged and the mailbox is empty.
    assert wait_until(logged, timeout=120, interval=0.5, tick=lambda: client.send_task("poll_mail_capture"),
                      tick_every=3), second.log_tail()
    assert sorted(Engagement.objects.values_list("title", flat=True)) == ["Letter 0", "Letter 1", "Letter 2"]
    assert CapturedMessage.objects.values("engagement").distinct().count() == 3
    assert all(e.attachments.count() == 1 for e in Engagement.objects.all())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres_required")  # SKIP LOCKED and concurrent writers: SQLite takes one writer at a time
def test_two_polls_at_once_log_each_message_once(mailbox, staff_user, osaka):
    import threading

    from mailcapture.poll import poll_mailbox

    letters = [m.forwarded_letter(staff_user.email, subject=f"Fwd: Letter {i}") for i in range(4)]
    mailbox.deliver(*letters, *letters[:2])  # two of them twice
    barrier, reports, errors = threading.Barrier(3), [], []

    def poll():
        try:
            barrier.wait()
            reports.append(poll_mailbox())
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=poll) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == [] and len(reports) == 3
    poll_mailbox()  # whatever a poll left to another (a message it saw locked) is finished now
    assert Engagement.objects.count() == 4 and CapturedMessage.objects.filter(status="logged").count() == 4
    assert sorted(Engagement.objects.values_list("title", flat=True)) == [f"Letter {i}" for i in range(4)]
    assert mailbox.message_ids() == []
