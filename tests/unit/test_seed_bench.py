"""seed_bench: the benchmark data has the promised size, shape and roles (SQLite and PostgreSQL)."""

import datetime as dt
import statistics
from collections import Counter
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count

from accounts.models import Profile
from devdata.management.commands.seed_bench import BENCH_PASSWORD
from engagements.models import Commitment, Engagement
from partners.models import Agreement, Contact, Partner

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 15)


def seed(scale="0.005", *extra) -> str:
    out = StringIO()
    call_command("seed_bench", "--scale", scale, "--today", TODAY.isoformat(), *extra, stdout=out)
    return out.getvalue()


def test_it_seeds_the_counts_of_its_scale_with_roles_profiles_and_history():
    output = seed()  # scale 0.005: 50 partners, 250 contacts, 1,000 engagements, 500 commitments

    assert Partner.objects.count() == 50
    assert Contact.objects.count() == 250
    assert Engagement.objects.count() == 1000
    assert Commitment.objects.count() == 500
    assert Agreement.objects.count() == 10
    User = get_user_model()
    assert User.objects.count() == 12  # the floor, so that every role exists at any scale
    assert "Created:" in output and "1,000 engagements" in output

    # Every user has a profile (bulk_create skipped the signal that makes them) and one role.
    assert Profile.objects.count() == User.objects.count()
    roles = Counter()
    for user in User.objects.prefetch_related("groups"):
        names = [g.name for g in user.groups.all()]
        if user.is_superuser:
            assert names == []
            continue
        assert len(names) == 1, user.username
        roles[names[0]] += 1
    assert roles["officer"] >= 2 and roles["staff"] >= 3 and roles["viewer"] >= 2
    officer = User.objects.filter(username__startswith="bench_officer_").order_by("pk").first()
    assert officer.is_active and officer.email and officer.check_password(BENCH_PASSWORD)

    # History: one "+" row per record, as if each had been created through the ORM.
    assert Engagement.history.filter(history_type="+").count() == 1000
    assert Partner.history.count() == 50


def test_its_distributions_look_like_a_real_office():
    seed()
    now = dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC)

    # 1-3 partners per engagement; activity per partner is Zipf-like: a few busy, most quiet.
    per_engagement = Counter(Engagement.partners.through.objects.values_list("engagement_id", flat=True))
    assert set(per_engagement.values()) <= {1, 2, 3} and len(per_engagement) == 1000
    per_partner = sorted(
        Partner.objects.annotate(n=Count("engagements")).values_list("n", flat=True), reverse=True
    )
    assert per_partner[0] >= 5 * statistics.median(per_partner)

    # Ten years back to a few weeks ahead; ~5 % restricted.
    starts = list(Engagement.objects.values_list("starts_at", flat=True))
    assert min(starts) > now - dt.timedelta(days=3700)
    assert max(starts) < now + dt.timedelta(days=60)
    assert any(s > now for s in starts) and any(s < now - dt.timedelta(days=5 * 365) for s in starts)
    restricted = Engagement.objects.filter(confidentiality="restricted").count()
    assert 20 <= restricted <= 90

    # Commitments: ~70 % done, the open ones partly overdue and partly due soon.
    done = Commitment.objects.filter(status="done").count()
    assert 0.6 * 500 <= done <= 0.8 * 500
    assert not Commitment.objects.filter(status="done", completed_on__isnull=True).exists()
    open_ = Commitment.objects.open()
    assert open_.filter(due_date__lt=TODAY).exists()
    assert open_.filter(due_date__gte=TODAY, due_date__lte=TODAY + dt.timedelta(days=14)).exists()
    # Linked commitments name one of their engagement's partners.
    linked = Commitment.objects.filter(engagement__isnull=False, partner__isnull=False).first()
    assert linked.partner in linked.engagement.partners.all()


def test_it_refuses_a_database_with_data_unless_told_to_append():
    seed("0.001")
    with pytest.raises(CommandError, match="--append"):
        seed("0.001")
    assert Engagement.objects.count() == 200

    seed("0.001", "--append")
    assert Engagement.objects.count() == 400
    assert Partner.objects.count() == 20
    # New rows get fresh ids after explicit-id inserts: the ORM can still create one.
    Partner.objects.create(name="After the seed", kind="city")
