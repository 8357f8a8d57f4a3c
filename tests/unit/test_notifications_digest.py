"""The weekly digest: per role, escaped, once per user per office-time ISO week."""

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from engagements.models import Engagement
from notifications import services
from notifications.digest import build_weekly_digests
from notifications.models import OutboxMessage
from tests.factories import CommitmentFactory, EngagementFactory, PartnerFactory

pytestmark = pytest.mark.django_db

LA = ZoneInfo("America/Los_Angeles")
MONDAY = dt.datetime(2025, 3, 10, 7, 0, tzinfo=LA)  # a Monday-morning run, week 2025-W11


def digests_by_user(mailoutbox) -> dict[str, tuple[str, str]]:
    """{username's address: (text, html)} of the digests sent."""
    return {
        m.to[0]: (m.body, m.alternatives[0].content)
        for m in mailoutbox
        if m.extra_headers["X-Outbox-Key"].startswith("weekly_digest:")
    }


@pytest.fixture
def week(staff_user, other_staff, officer):
    """A week with one restricted meeting (staff_user took part) and everything else open."""
    marker = f"SECRET-{uuid.uuid4().hex[:10]}"
    partner = PartnerFactory(name="Consulate General of Japan", priority=1)
    quiet = PartnerFactory(name="Sister City of Busan", priority=1, country="KR")
    secret = EngagementFactory(
        title=f"Talks {marker}",
        confidentiality=Engagement.Confidentiality.RESTRICTED,
        starts_at=MONDAY + dt.timedelta(days=2),
        status=Engagement.Status.PLANNED,
        staff=[staff_user],
        partners=[partner],
    )
    EngagementFactory(
        title="Trade reception <script>alert(1)</script>",
        starts_at=MONDAY + dt.timedelta(days=3),
        status=Engagement.Status.PLANNED,
        partners=[partner],
    )
    CommitmentFactory(owner=staff_user, description=f"Letter {marker}", engagement=secret, due_date=dt.date(2025, 3, 12))
    CommitmentFactory(owner=other_staff, description="Send the photos to the consulate", due_date=dt.date(2025, 3, 1))
    CommitmentFactory(owner=staff_user, description="Book the interpreter", due_date=dt.date(2025, 3, 13))
    return {"marker": marker, "quiet": quiet, "secret": secret}


def test_each_role_sees_only_what_it_may(week, viewer, staff_user, other_staff, officer, superuser, mailoutbox):
    call_command("send_weekly_digest", now=MONDAY.isoformat())
    digests = digests_by_user(mailoutbox)
    assert set(digests) == {u.email for u in (viewer, staff_user, other_staff, officer, superuser)}
    marker = week["marker"]
    for user, may_see in [(viewer, False), (other_staff, False), (staff_user, True), (officer, True), (superuser, True)]:
        text, html = digests[user.email]
        # Both parts of the email agree: the marker is there or nowhere.
        assert (marker in text) is may_see, user
        assert (marker in html) is may_see, user
        assert "Trade reception" in text and "Trade reception" in html
        assert "Send the photos to the consulate" in text


def test_the_html_part_escapes_user_text(week, viewer, mailoutbox):
    call_command("send_weekly_digest", now=MONDAY.isoformat())
    text, html = digests_by_user(mailoutbox)[viewer.email]
    assert "Trade reception <script>alert(1)</script>" in text
    assert "Trade reception &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html


def test_own_commitments_come_first(week, staff_user, other_staff, mailoutbox):
    call_command("send_weekly_digest", now=MONDAY.isoformat())
    text, _ = digests_by_user(mailoutbox)[other_staff.email]
    mine = text.index("YOUR COMMITMENTS")
    others = text.index("THE OFFICE'S OTHER COMMITMENTS")
    assert mine < text.index("Send the photos to the consulate") < others  # theirs, overdue
    assert others < text.index("Book the interpreter")  # someone else's
    staff_text, _ = digests_by_user(mailoutbox)[staff_user.email]
    assert staff_text.index("Book the interpreter") < staff_text.index("THE OFFICE'S OTHER COMMITMENTS")


def test_a_partner_whose_only_recent_meeting_is_restricted_looks_quiet_only_to_those_who_cannot_see_it(
    week, viewer, staff_user, officer, mailoutbox
):
    call_command("send_weekly_digest", now=MONDAY.isoformat())
    digests = digests_by_user(mailoutbox)
    busan = "Sister City of Busan"
    japan = "Consulate General of Japan"
    for user in (viewer, staff_user, officer):
        text, html = digests[user.email]
        assert busan in text and busan in html  # no engagement at all: quiet for everyone
        assert japan not in text.split("RELATIONSHIPS GOING QUIET")[1].split("LOGGED LAST WEEK")[0]


def test_quiet_partner_rule_uses_visible_engagements(viewer, staff_user, officer, mailoutbox):
    partner = PartnerFactory(name="Embassy of Norway", priority=1)
    EngagementFactory(
        title="Closed-door call",
        confidentiality=Engagement.Confidentiality.RESTRICTED,
        starts_at=MONDAY - dt.timedelta(days=20),
        staff=[staff_user],
        partners=[partner],
    )
    call_command("send_weekly_digest", now=MONDAY.isoformat())
    digests = digests_by_user(mailoutbox)

    def quiet_section(user):
        return digests[user.email][0].split("RELATIONSHIPS GOING QUIET")[1].split("LOGGED LAST WEEK")[0]

    assert "Embassy of Norway" in quiet_section(viewer)
    assert "Embassy of Norway" not in quiet_section(staff_user)
    assert "Embassy of Norway" not in quiet_section(officer)


def test_opted_out_inactive_and_mailless_users_get_no_digest(django_user_model, viewer, staff_user, mailoutbox):
    staff_user.profile.digest_opt_out = True
    staff_user.profile.save()
    django_user_model.objects.create_user("gone", email="gone@x.org", is_active=False)
    django_user_model.objects.create_user("nomail", email="")
    call_command("send_weekly_digest", now=MONDAY.isoformat())
    assert [m.to for m in mailoutbox] == [[viewer.email]]


def test_a_quiet_week_still_sends_a_digest_that_says_so(viewer, mailoutbox):
    call_command("send_weekly_digest", now=MONDAY.isoformat())
    (mail,) = mailoutbox
    assert "quiet one" in mail.subject
    assert "A quiet week" in mail.body and "A quiet week" in mail.alternatives[0].content
    assert "https://crm.example.org/accounts/preferences/" in mail.body


def test_logged_last_week_is_listed(viewer, mailoutbox, time_machine):
    time_machine.move_to(MONDAY - dt.timedelta(days=3))  # created_at: last Friday
    EngagementFactory(title="Courtesy call by the Consul", starts_at=MONDAY - dt.timedelta(days=3))
    time_machine.move_to(MONDAY)
    call_command("send_weekly_digest", now=MONDAY.isoformat())
    text = mailoutbox[0].body
    assert "Courtesy call by the Consul" in text.split("LOGGED LAST WEEK")[1]


def test_the_digest_of_the_week_containing_now_whatever_the_weekday(viewer, mailoutbox):
    call_command("send_weekly_digest", now="2025-03-13T15:00:00-07:00")  # a Thursday
    call_command("send_weekly_digest", now="2025-03-16T22:00:00-07:00")  # the Sunday after
    assert OutboxMessage.objects.get().period == "2025-W11"
    assert len(mailoutbox) == 1


@pytest.mark.parametrize(
    ("change", "runs"),
    [
        # Spring forward on Sunday 9 March 2025 (02:00 PST -> 03:00 PDT).
        (
            "2025-03-09",
            {
                "2025-03-09T01:30:00-08:00": "2025-W10",
                "2025-03-09T03:30:00-07:00": "2025-W10",
                "2025-03-09T23:30:00-07:00": "2025-W10",  # already Monday in UTC
                "2025-03-10T00:30:00-07:00": "2025-W11",
                "2025-03-10T07:00:00-07:00": "2025-W11",
            },
        ),
        # Fall back on Sunday 2 November 2025 (02:00 PDT -> 01:00 PST, 01:30 happens twice).
        (
            "2025-11-02",
            {
                "2025-11-02T01:30:00-07:00": "2025-W44",
                "2025-11-02T01:30:00-08:00": "2025-W44",
                "2025-11-02T23:30:00-08:00": "2025-W44",  # already Monday in UTC
                "2025-11-03T00:30:00-08:00": "2025-W45",
                "2025-11-03T07:00:00-08:00": "2025-W45",
            },
        ),
    ],
)
def test_one_digest_per_user_per_iso_week_across_dst(change, runs, viewer, officer, mailoutbox):
    """R8: runs around a DST change, each twice, give one digest per user per office-time week."""
    for now in runs:
        call_command("send_weekly_digest", now=now)
        call_command("send_weekly_digest", now=now)
    weeks = sorted(set(runs.values()))
    rows = list(OutboxMessage.objects.values_list("recipient_id", "period"))
    assert sorted(rows) == sorted((u.pk, w) for u in (viewer, officer) for w in weeks)
    assert len(mailoutbox) == 2 * len(weeks)
    print(f"R8 {change}: {len(runs) * 2} runs -> {len(rows)} digests for 2 users x {len(weeks)} weeks, duplicates 0")


def test_the_digest_builds_in_a_fixed_number_of_queries(week, viewer, django_assert_max_num_queries):
    with django_assert_max_num_queries(20):
        digests = build_weekly_digests(now=MONDAY)
    assert len(digests) == 4  # viewer, staff_user, other_staff, officer
    assert services.enqueue_weekly_digests(now=MONDAY) == 4
    assert services.enqueue_weekly_digests(now=MONDAY) == 0


def _section(text: str, start: str, end: str) -> str:
    return text.split(start)[1].split(end)[0]


def test_an_old_overdue_commitment_is_listed_as_yours_for_as_long_as_it_is_open(
    officer, other_staff, viewer, mailoutbox
):
    """Issue 14: overdue since 2019, listed in colleagues' digests, credited to her, but not in her own."""
    CommitmentFactory(owner=officer, description="Return the signed 2019 protocol", due_date=dt.date(2019, 5, 1))
    CommitmentFactory(owner=officer, description="Send the delegation list", due_date=dt.date(2025, 3, 3))
    CommitmentFactory(owner=officer, description="Book the hall", due_date=dt.date(2025, 3, 14))
    call_command("send_weekly_digest", now=MONDAY.isoformat())
    digests = digests_by_user(mailoutbox)
    text, html = digests[officer.email]
    mine = _section(text, "YOUR COMMITMENTS", "THE OFFICE'S OTHER COMMITMENTS")
    # Oldest first, each with how long it has been overdue.
    assert mine.index("Return the signed 2019 protocol") < mine.index("Send the delegation list") < mine.index(
        "Book the hall"
    )
    assert "OVERDUE by 5 years, was due Wed 1 May 2019: Return the signed 2019 protocol" in mine
    assert "OVERDUE by 7 days, was due Mon 3 Mar 2025: Send the delegation list" in mine
    html_mine = html.split("Your commitments")[1].split("other commitments")[0]
    assert "Return the signed 2019 protocol" in html_mine and "5 years" in html_mine
    # Not listed twice in her own digest, and still in everyone else's, credited to her.
    others = _section(text, "THE OFFICE'S OTHER COMMITMENTS", "RELATIONSHIPS GOING QUIET")
    assert "Return the signed 2019 protocol" not in others
    for user in (other_staff, viewer):
        others = _section(digests[user.email][0], "THE OFFICE'S OTHER COMMITMENTS", "RELATIONSHIPS GOING QUIET")
        assert "Return the signed 2019 protocol" in others and "Omar Officer" in others


def test_yours_says_how_many_more_are_not_shown(staff_user, mailoutbox):
    for i in range(13):
        CommitmentFactory(owner=staff_user, description=f"Old promise {i:02d}", due_date=dt.date(2020, 1, 1 + i))
    call_command("send_weekly_digest", now=MONDAY.isoformat())
    text, html = digests_by_user(mailoutbox)[staff_user.email]
    mine = _section(text, "YOUR COMMITMENTS", "THE OFFICE'S OTHER COMMITMENTS")
    assert [f"Old promise {i:02d}" in mine for i in range(13)] == [True] * 10 + [False] * 3
    assert "...and 3 more: https://crm.example.org/commitments/" in mine
    assert "and 3 more" in html
