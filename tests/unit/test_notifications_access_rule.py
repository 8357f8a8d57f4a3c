"""The set-based forms of the confidentiality rule that reminders and the digest ask accounts.access for.

`user_sees_engagement_q` (per row: a record's owner and its engagement),
`engagement_audience` (many users x many engagements, two queries) and
`user_may_use_q` (who may be emailed at all) must agree with
`may_see_engagement` / `may_use_crm` for every kind of user; and
notifications/ keeps no copy of the rule of its own.
"""

import re
from pathlib import Path

import pytest
from django.db.models import BooleanField, Case, Value, When

from accounts.access import (
    engagement_audience,
    may_see_engagement,
    may_use_crm,
    user_may_use_q,
    user_sees_engagement_q,
)
from engagements.models import Commitment, Engagement
from tests.world import make_user
from tests.factories import CommitmentFactory, EngagementFactory

pytestmark = pytest.mark.django_db

RESTRICTED = Engagement.Confidentiality.RESTRICTED


@pytest.fixture
def people(django_user_model, viewer, staff_user, other_staff, officer, superuser):
    no_role = django_user_model.objects.create_user("no_role", email="no_role@city.example.org")
    gone = make_user(django_user_model, "gone_officer", "officer", is_active=False)
    return [viewer, staff_user, other_staff, officer, superuser, no_role, gone]


@pytest.fixture
def engagements(staff_user):
    return [
        EngagementFactory(title="open"),
        EngagementFactory(title="secret", confidentiality=RESTRICTED, staff=[staff_user]),
        EngagementFactory(title="secret, nobody", confidentiality=RESTRICTED),
    ]


def _flag(q):
    return Case(When(q, then=Value(True)), default=Value(False), output_field=BooleanField())


def test_user_sees_engagement_q_agrees_with_may_see_engagement_for_owners(people, engagements):
    for owner in people:
        for engagement in [*engagements, None]:
            CommitmentFactory(owner=owner, engagement=engagement)
    rows = Commitment.objects.annotate(
        sees=_flag(user_may_use_q("owner_id") & user_sees_engagement_q("owner_id", via="engagement__"))
    ).select_related("owner", "engagement")
    assert rows.count() == len(people) * 4
    for row in rows:
        assert row.sees == may_see_engagement(row.owner, row.engagement), (row.owner, row.engagement)


def test_user_sees_engagement_q_over_engagements_and_their_owner(people, staff_user):
    for owner in people:
        EngagementFactory(owner=owner, confidentiality=RESTRICTED, staff=[staff_user])
    for row in Engagement.objects.annotate(sees=_flag(user_sees_engagement_q("owner_id"))).select_related("owner"):
        expected = row.owner.is_superuser or row.owner.username in ("omar_officer", "gone_officer", "sam_staff")
        assert row.sees == expected, row.owner


def test_engagement_audience_agrees_with_may_see_engagement_in_two_queries(
    people, engagements, django_assert_max_num_queries
):
    active = [u for u in people if may_use_crm(u)]
    with django_assert_max_num_queries(2):
        audience = engagement_audience([u.pk for u in active], {e.pk: e.confidentiality for e in engagements})
    for user in active:
        assert audience.sees(user.pk, None)
        for engagement in engagements:
            assert audience.sees(user.pk, engagement.pk) == may_see_engagement(user, engagement), (user, engagement)


def test_user_may_use_q_is_may_use_crm(people, django_user_model):
    allowed = set(django_user_model.objects.filter(user_may_use_q()).values_list("username", flat=True))
    assert allowed == {u.username for u in people if may_use_crm(u)}
    assert "no_role" not in allowed and "gone_officer" not in allowed


def test_notifications_keeps_no_copy_of_the_rule():
    root = Path(__file__).resolve().parents[2] / "notifications"
    # The role's name, the restricted value compared or filtered on, group-name lookups.
    spelled = re.compile(
        r"RESTRICTED|OFFICER|group__name|groups__name|[\"']officer[\"']|(==|!=|=)\s*[\"']restricted[\"']"
    )
    found = [
        f"{path.relative_to(root)}:{n}: {line.strip()}"
        for path in root.rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if spelled.search(line)
    ]
    assert found == []
