"""Query budgets P7 (digest) and P8 (reminder enqueue), with a real SMTP sink on loopback.

P7: building the digests takes the same number of queries for 50 and 500
recipients, at most 20; sending adds at most 2 queries per email; the sink
receives one email per eligible user, and no viewer's email holds a
restricted title.
P8: enqueueing reminders for 20 or 200 due commitments takes the same number
of queries, at most 10.
"""

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Profile
from engagements.models import Commitment, Engagement
from notifications import services
from notifications.models import OutboxMessage
from tests.factories import CommitmentFactory, EngagementFactory, PartnerFactory

pytestmark = [pytest.mark.django_db, pytest.mark.smtp]

LA = ZoneInfo("America/Los_Angeles")
MONDAY = dt.datetime(2025, 3, 10, 7, 0, tzinfo=LA)
ROLES = ["viewer", "staff", "officer"]


def make_users(django_user_model, n: int, prefix: str, *, opt_out: bool = False):
    """n users with mixed roles (bulk: the test is about the digest, not about creating users)."""
    users = django_user_model.objects.bulk_create(
        [
            django_user_model(username=f"{prefix}{i}", email=f"{prefix}{i}@city.example.org", first_name=f"U{i}")
            for i in range(n)
        ]
    )
    Profile.objects.bulk_create([Profile(user=u, digest_opt_out=opt_out) for u in users])
    groups = {g.name: g for g in Group.objects.filter(name__in=ROLES)}
    through = django_user_model.groups.through
    through.objects.bulk_create([through(user_id=u.pk, group_id=groups[ROLES[i % 3]].pk) for i, u in enumerate(users)])
    return users


def make_week(users, marker: str):
    """40 engagements this week (some restricted with participants), commitments, a few quiet partners."""
    partners = [PartnerFactory(priority=1 if i < 5 else 2) for i in range(8)]
    staff = [u for i, u in enumerate(users) if ROLES[i % 3] == "staff"]
    for i in range(40):
        restricted = i % 4 == 0
        e = EngagementFactory(
            title=f"{marker} restricted {i}" if restricted else f"Open meeting {i}",
            confidentiality=Engagement.Confidentiality.RESTRICTED if restricted else Engagement.Confidentiality.INTERNAL,
            status=Engagement.Status.PLANNED,
            starts_at=MONDAY + dt.timedelta(hours=3 * i + 1),
            partners=[partners[i % 8]],
            staff=staff[i % 5 : i % 5 + 2],
        )
        CommitmentFactory(
            owner=users[i % len(users)], engagement=e, description=f"{marker} task {i}" if restricted else f"Task {i}",
            due_date=dt.date(2025, 3, 3 + i % 10),
        )


def test_p7_digest_queries_same_for_50_and_500_recipients_and_each_gets_one(django_user_model, outbox_to_sink):
    sink = outbox_to_sink
    marker = f"LEAK-{uuid.uuid4().hex[:8]}"
    # 50 eligible recipients (plus opted-out users, who must not count), then 500.
    small = make_users(django_user_model, 50, "a")
    make_users(django_user_model, 25, "optout", opt_out=True)
    make_week(small, marker)
    with CaptureQueriesContext(connection) as build_50:
        assert services.enqueue_weekly_digests(now=MONDAY) == 50
    OutboxMessage.objects.all().delete()
    users = small + make_users(django_user_model, 450, "b")
    with CaptureQueriesContext(connection) as build_500:
        assert services.enqueue_weekly_digests(now=MONDAY) == 500
    assert len(build_50) == len(build_500) <= 20, [q["sql"][:120] for q in build_500.captured_queries]

    with CaptureQueriesContext(connection) as send:
        report = services.deliver_due()
    assert report.sent == 500 == len(sink.messages)
    assert len(send) <= 20 + 2 * report.sent
    assert len({m["To"] for m in sink.messages}) == 500

    by_address = {m["To"]: m for m in sink.messages}
    viewers = [u for i, u in enumerate(users) if ROLES[i % 3] == "viewer"]
    officers = [u for i, u in enumerate(users) if ROLES[i % 3] == "officer"]
    leaks = sum(marker in by_address[u.email].as_string() for u in viewers)
    assert leaks == 0
    for user in officers[:3]:
        parts = {
            p.get_content_type(): p.get_payload(decode=True).decode()
            for p in by_address[user.email].walk()
            if not p.is_multipart()
        }
        assert marker in parts["text/plain"] and marker in parts["text/html"]
    print(
        f"P7: digest build {len(build_50)} queries for 50 recipients, {len(build_500)} for 500; "
        f"sender {len(send)} queries for {report.sent} emails ({len(send) / report.sent:.2f}/email); "
        f"sink received {len(sink.messages)}; restricted marker in {leaks} of {len(viewers)} viewers' digests"
    )


def test_reminder_enqueue_queries_are_constant_between_20_and_200(django_user_model):
    counts = {}
    secret = EngagementFactory(confidentiality=Engagement.Confidentiality.RESTRICTED)
    for n in (20, 200):
        owners = make_users(django_user_model, n, f"o{n}-")
        secret.staff.add(*owners[::2])
        today = dt.date(2025, 3, 10)
        Commitment.objects.bulk_create(
            [
                Commitment(
                    description=f"Due thing {i}", owner=o, due_date=today + dt.timedelta(days=i % 9 - 2),
                    engagement=secret if i % 5 == 0 else None,
                )
                for i, o in enumerate(owners)
            ]
        )
        OutboxMessage.objects.all().delete()
        # Each of them is inside a reminder window (due soon, today, or overdue by 1-2 days).
        with CaptureQueriesContext(connection) as q:
            created = services.enqueue_due_reminders(now=MONDAY)
        counts[n] = len(q)
        # All are due a reminder, except the restricted ones whose owner neither took part nor is an officer.
        hidden = sum(1 for i in range(n) if i % 5 == 0 and i % 2 == 1 and ROLES[i % 3] != "officer")
        assert created == n - hidden
        Commitment.objects.all().delete()
    assert counts[20] == counts[200] <= 10, counts
    print(f"P8: reminder enqueue {counts[20]} queries for 20 due, {counts[200]} for 200 due")
