"""The dashboard layer's reads: timeline, what is owed, quiet relationships, charts, activity.

Cast: viewer, staff_user (takes part in the restricted meeting), other_staff
(takes part in nothing), officer. A restricted engagement carries a unique
marker; whoever may not see it must not see it anywhere, counts included.
"""

import datetime as dt
import uuid

import pytest
from django.core.cache import cache
from django.http import Http404
from django.utils import timezone

from dashboard import common
from dashboard.country import selectors as country_page
from dashboard.home import activity as activity_selectors
from dashboard.home import charts as chart_selectors
from dashboard.home import quiet as quiet_selectors
from dashboard.home import selectors as home
from dashboard.partner import selectors as partner_page
from engagements.models import Engagement
from tests.factories import (
    AgreementFactory,
    CommitmentFactory,
    ContactFactory,
    EngagementFactory,
    PartnerFactory,
    TopicFactory,
    TradeMissionFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture(autouse=True)
def _fresh_chart_cache():
    cache.clear()
    yield
    cache.clear()


def days(n: int) -> dt.datetime:
    return NOW + dt.timedelta(days=n)


def today_plus(n: int) -> dt.date:
    return timezone.localdate(NOW) + dt.timedelta(days=n)


# --- timeline -----------------------------------------------------------------


def test_it_merges_engagements_missions_and_commitments_newest_first(officer):
    partner = PartnerFactory()
    old = EngagementFactory(partners=[partner], starts_at=days(-30), title="Old meeting")
    new = EngagementFactory(partners=[partner], starts_at=days(-2), title="New meeting")
    mission = TradeMissionFactory(start_date=today_plus(-10), end_date=today_plus(-5))
    mission.partners.set([partner])
    commitment = CommitmentFactory(partner=partner, engagement=old, due_date=today_plus(-20))
    EngagementFactory(partners=[PartnerFactory()], title="Someone else's meeting")

    page = partner_page.partner_timeline(officer, partner)

    assert [(i.type, i.id) for i in page.items] == [
        ("engagement", new.pk),
        ("mission", mission.pk),
        ("commitment", commitment.pk),
        ("engagement", old.pk),
    ]
    assert page.number == 1 and not page.has_next and not page.has_previous


def test_it_pages_the_timeline_without_gaps_or_overlaps(officer):
    partner = PartnerFactory()
    for i in range(partner_page.TIMELINE_PAGE_SIZE + 5):
        EngagementFactory(partners=[partner], starts_at=days(-i - 1))
    for i in range(4):
        CommitmentFactory(partner=partner, due_date=today_plus(-3 * i))

    first = partner_page.partner_timeline(officer, partner, page=1)
    second = partner_page.partner_timeline(officer, partner, page=2)

    assert len(first.items) == partner_page.TIMELINE_PAGE_SIZE and first.has_next
    assert len(second.items) == 9 and not second.has_next and second.has_previous
    keys = [(i.type, i.id) for i in first.items + second.items]
    assert len(set(keys)) == len(keys) == partner_page.TIMELINE_PAGE_SIZE + 9
    dates = [i.day for i in first.items + second.items]
    assert dates == sorted(dates, reverse=True)


@pytest.mark.parametrize("page", [0, -1, 3, partner_page.TIMELINE_MAX_PAGE + 1])
def test_it_refuses_pages_that_do_not_exist(officer, page):
    partner = PartnerFactory()
    EngagementFactory(partners=[partner])
    with pytest.raises(Http404):
        partner_page.partner_timeline(officer, partner, page=page)


def test_the_first_page_of_an_empty_timeline_is_empty_not_404(viewer):
    assert partner_page.partner_timeline(viewer, PartnerFactory()).items == []


def test_it_hides_restricted_engagements_and_their_commitments_from_the_timeline(
    viewer, staff_user, other_staff, officer
):
    partner = PartnerFactory()
    secret = EngagementFactory(partners=[partner], confidentiality="restricted", staff=[staff_user])
    secret_commitment = CommitmentFactory(partner=partner, engagement=secret)
    public = EngagementFactory(partners=[partner], confidentiality="public")

    def seen(user):
        return {(i.type, i.id) for i in partner_page.partner_timeline(user, partner).items}

    hidden = {("engagement", secret.pk), ("commitment", secret_commitment.pk)}
    for outsider in (viewer, other_staff):
        assert seen(outsider) == {("engagement", public.pk)}
    for insider in (staff_user, officer):
        assert seen(insider) == hidden | {("engagement", public.pk)}


# --- partner history ----------------------------------------------------------


def test_it_splits_open_commitments_into_we_owe_and_they_owe(officer):
    partner = PartnerFactory()
    ours = CommitmentFactory(partner=partner, made_by="city", due_date=today_plus(3))
    theirs = CommitmentFactory(partner=partner, made_by="partner", due_date=today_plus(1))
    joint = CommitmentFactory(partner=partner, made_by="joint", due_date=today_plus(2))
    CommitmentFactory(partner=partner, made_by="city", status="done", completed_on=today_plus(0))
    CommitmentFactory(partner=partner, made_by="partner", status="dropped")

    history = partner_page.partner_history(officer, partner.pk)

    assert history.we_owe == [joint, ours]
    assert history.they_owe == [theirs, joint]
    assert history.open_has_more is False


def test_history_lists_contacts_in_post_first_with_their_protocol(officer):
    partner = PartnerFactory()
    former = ContactFactory(partner=partner, full_name="Aaron Former", is_active=False)
    current = ContactFactory(partner=partner, full_name="Zelda Current", form_of_address="Your Excellency")

    history = partner_page.partner_history(officer, partner.pk)

    assert list(history.contacts) == [current, former]


def test_history_gives_parent_children_agreements_and_last_held_contact(viewer, officer):
    parent = PartnerFactory(name="Government of Japan")
    partner = PartnerFactory(parent=parent)
    child = PartnerFactory(parent=partner, name="Bureau of Environment")
    agreement = AgreementFactory(partners=[partner])
    held = EngagementFactory(partners=[partner], starts_at=days(-10), status="held")
    EngagementFactory(partners=[partner], starts_at=days(-1), status="cancelled")
    EngagementFactory(partners=[partner], starts_at=days(5), status="planned")
    EngagementFactory(partners=[partner], starts_at=days(-3), confidentiality="restricted")

    for_viewer = partner_page.partner_history(viewer, partner.pk)
    for_officer = partner_page.partner_history(officer, partner.pk)

    assert for_viewer.partner.parent == parent
    assert list(for_viewer.children) == [child]
    assert list(for_viewer.agreements) == [agreement]
    assert for_viewer.partner.last_contact == held.starts_at
    # The officer also sees the restricted meeting three days ago.
    assert for_officer.partner.last_contact.date() == days(-3).date()


def test_history_of_an_unknown_partner_is_404(viewer):
    with pytest.raises(Http404):
        partner_page.partner_history(viewer, 999_999)


# --- dashboard ----------------------------------------------------------------


def test_quiet_relationships_are_priority_one_active_partners_without_recent_visible_contact(viewer, officer):
    quiet = PartnerFactory(priority=1, name="Quiet ministry")
    EngagementFactory(partners=[quiet], starts_at=days(-120))
    never = PartnerFactory(priority=1, name="Never met")
    busy = PartnerFactory(priority=1, name="Busy city")
    EngagementFactory(partners=[busy], starts_at=days(-5))
    booked = PartnerFactory(priority=1, name="Meeting booked")
    EngagementFactory(partners=[booked], starts_at=days(6), status="planned")
    cancelled = PartnerFactory(priority=1, name="Only a cancelled meeting")
    EngagementFactory(partners=[cancelled], starts_at=days(-5), status="cancelled")
    PartnerFactory(priority=2, name="Low priority")
    PartnerFactory(priority=1, status="inactive", name="Archived")
    secretive = PartnerFactory(priority=1, name="Only restricted contact")
    EngagementFactory(partners=[secretive], starts_at=days(-5), confidentiality="restricted")

    for_viewer = quiet_selectors.quiet_partners(viewer, now=NOW)
    for_officer = quiet_selectors.quiet_partners(officer, now=NOW)

    # Never-contacted first, then the longest silence.
    assert [p.name for p in for_viewer] == ["Never met", "Only a cancelled meeting", "Only restricted contact", "Quiet ministry"]
    assert [p.name for p in for_officer] == ["Never met", "Only a cancelled meeting", "Quiet ministry"]
    # The viewer's "last contact" must not betray the restricted meeting either.
    assert {p.name: p.last_contact for p in for_viewer}["Only restricted contact"] is None
    assert never.pk and busy.pk and booked.pk


def test_commitments_due_puts_mine_first_then_everyone_elses(staff_user, other_staff):
    mine_late = CommitmentFactory(owner=staff_user, due_date=today_plus(-3))
    mine_soon = CommitmentFactory(owner=staff_user, due_date=today_plus(7))
    CommitmentFactory(owner=staff_user, due_date=today_plus(30))  # not due soon
    CommitmentFactory(owner=staff_user, due_date=today_plus(-3), status="done", completed_on=today_plus(-1))
    theirs = CommitmentFactory(owner=other_staff, due_date=today_plus(1))
    nobodys = CommitmentFactory(owner=None, due_date=today_plus(14))

    mine, others = home.commitments_due(staff_user, now=NOW)

    assert list(mine) == [mine_late, mine_soon]
    assert list(others) == [theirs, nobodys]


def test_commitments_due_are_bounded_and_say_there_is_more(officer):
    for i in range(home.COMMITMENTS_LIMIT + 3):
        CommitmentFactory(owner=officer, due_date=today_plus(-i))
    mine, _ = home.commitments_due(officer, now=NOW)
    assert len(mine) == home.COMMITMENTS_LIMIT and mine.has_more


def test_upcoming_is_the_next_fourteen_days_without_cancelled_or_hidden(viewer, officer):
    soon = EngagementFactory(starts_at=days(2), status="planned")
    EngagementFactory(starts_at=days(20), status="planned")
    EngagementFactory(starts_at=days(3), status="cancelled")
    EngagementFactory(starts_at=days(-2))
    secret = EngagementFactory(starts_at=days(1), status="planned", confidentiality="restricted")

    assert list(home.upcoming_engagements(viewer, now=NOW)) == [soon]
    assert list(home.upcoming_engagements(officer, now=NOW)) == [secret, soon]


def test_recent_activity_shows_who_changed_what_and_hides_restricted(viewer, staff_user, officer):
    marker = f"LEAK-{uuid.uuid4()}"
    partner = PartnerFactory()
    secret = EngagementFactory(partners=[partner], title=f"Talks {marker}", confidentiality="restricted")
    secret.staff.set([staff_user])
    CommitmentFactory(engagement=secret, description=f"Promise {marker}")
    public = Engagement.objects.create(
        title="Open call", kind="call", starts_at=NOW, confidentiality="public", status="held"
    )
    record = public.history.latest()
    record.history_user = staff_user
    record.save()

    def labels(user):
        return [a.label for a in activity_selectors.recent_activity(user)]

    assert not any(marker in label for label in labels(viewer))
    assert any(marker in label for label in labels(staff_user))
    assert any(marker in label for label in labels(officer))
    top = activity_selectors.recent_activity(viewer)[0]
    assert (top.label, top.kind, top.action, top.who) == ("Open call", "engagement", "created", "Sam Staff")
    assert top.url == f"/engagements/{public.pk}/"


def test_recent_activity_is_bounded(officer):
    for i in range(activity_selectors.ACTIVITY_LIMIT + 5):
        CommitmentFactory(description=f"Promise {i}")
    assert len(activity_selectors.recent_activity(officer)) == activity_selectors.ACTIVITY_LIMIT


def test_charts_count_what_each_user_may_see(viewer, staff_user, other_staff, officer):
    climate = TopicFactory(name="Climate", slug="climate")
    japan = PartnerFactory(country="JP")
    mexico = PartnerFactory(country="MX")
    network = PartnerFactory(country="", kind="city_network")
    EngagementFactory(partners=[japan, mexico], topics=[climate], starts_at=days(-1))
    EngagementFactory(partners=[japan], starts_at=days(-40))
    EngagementFactory(partners=[network], starts_at=days(-2))
    EngagementFactory(partners=[japan], starts_at=days(-400))  # outside the window
    EngagementFactory(partners=[japan], starts_at=days(-1), status="cancelled")
    EngagementFactory(
        partners=[mexico], topics=[climate], starts_at=days(-3), confidentiality="restricted", staff=[staff_user]
    )

    def figures(user):
        charts = chart_selectors.engagement_charts(user, now=NOW)
        return (
            sum(charts["months"]["values"]),
            dict(zip(charts["countries"]["labels"], charts["countries"]["values"], strict=True)),
            dict(zip(charts["topics"]["labels"], charts["topics"]["values"], strict=True)),
            len(charts["months"]["labels"]),
        )

    outsider = (3, {"Japan": 2, "Mexico": 1, common.NO_COUNTRY_LABEL: 1}, {"Climate": 1}, 12)
    insider = (4, {"Japan": 2, "Mexico": 2, common.NO_COUNTRY_LABEL: 1}, {"Climate": 2}, 12)
    assert figures(viewer) == outsider
    assert figures(other_staff) == outsider  # served from the shared "open" cache entry
    assert figures(staff_user) == insider  # shared entry plus their own restricted meeting
    assert figures(officer) == insider


def test_charts_put_the_current_month_last_and_group_the_tail():
    window_start, window_end, months = chart_selectors._chart_window(NOW)
    local = timezone.localdate(NOW)
    assert months[-1] == (local.year, local.month)
    assert len(months) == 12 and window_start < NOW < window_end
    counts = {f"T{i}": i + 1 for i in range(chart_selectors.CHART_TOP + 3)}
    top = chart_selectors._top(counts, str)
    assert len(top["labels"]) == chart_selectors.CHART_TOP + 1
    assert top["labels"][-1] == "Other (3)" and top["values"][-1] == 1 + 2 + 3


# --- country ------------------------------------------------------------------


def test_country_overview_gathers_partners_engagements_missions_commitments_agreements(viewer):
    vn = PartnerFactory(country="VN", name="Government of Viet Nam")
    PartnerFactory(country="JP")
    meeting = EngagementFactory(partners=[vn], title="Airline talks")
    hidden = EngagementFactory(partners=[vn], confidentiality="restricted")
    mission = TradeMissionFactory(countries=["KR", "VN"])
    TradeMissionFactory(countries=["JP"])
    promise = CommitmentFactory(partner=vn, engagement=meeting, description="Nonstop Hanoi flights")
    CommitmentFactory(partner=vn, engagement=hidden)
    agreement = AgreementFactory(partners=[vn])

    overview = country_page.country_overview(viewer, "vn")

    assert overview.country.code == "VN"
    assert list(overview.partners) == [vn]
    assert list(overview.engagements) == [meeting]
    assert list(overview.missions) == [mission]
    assert list(overview.commitments) == [promise]
    assert list(overview.agreements) == [agreement]


@pytest.mark.parametrize("code", ["XX", "ZZZ", "", "1", "uk"])
def test_unknown_country_codes_are_404(viewer, code):
    with pytest.raises(Http404):
        country_page.country_overview(viewer, code)



def test_recent_activity_shows_one_line_per_save(staff_user, officer):
    from engagements.services import engagement_create, engagement_update

    partner = PartnerFactory()
    engagement = engagement_create(
        actor=staff_user, title="Logged in one go", kind="call", starts_at=NOW, partners=[partner], staff=[staff_user]
    )
    activity = activity_selectors.recent_activity(officer)
    assert [(a.label, a.action, a.who) for a in activity] == [("Logged in one go", "created", "Sam Staff")]

    engagement_update(engagement=engagement, actor=officer, title="Renamed")
    top = activity_selectors.recent_activity(officer)[0]
    assert (top.label, top.action, top.who) == ("Renamed", "changed", "Omar Officer")


def test_chart_figures_follow_a_new_engagement_at_once(viewer, django_capture_on_commit_callbacks):
    partner = PartnerFactory(country="JP")
    EngagementFactory(partners=[partner], starts_at=days(-1))
    assert sum(chart_selectors.engagement_charts(viewer, now=NOW)["months"]["values"]) == 1
    with django_capture_on_commit_callbacks(execute=True):
        EngagementFactory(partners=[partner], starts_at=days(-2))
    assert sum(chart_selectors.engagement_charts(viewer, now=NOW)["months"]["values"]) == 2


def test_quiet_list_lays_each_users_own_restricted_meetings_over_the_shared_list(
    viewer, staff_user, other_staff, officer
):
    recent_secret = PartnerFactory(priority=1, name="A recent restricted meeting")
    EngagementFactory(partners=[recent_secret], starts_at=days(-120), title="Old open meeting")
    EngagementFactory(partners=[recent_secret], starts_at=days(-5), confidentiality="restricted", staff=[staff_user])
    old_secret = PartnerFactory(priority=1, name="B older restricted meeting")
    EngagementFactory(partners=[old_secret], starts_at=days(-300))
    EngagementFactory(partners=[old_secret], starts_at=days(-100), confidentiality="restricted", staff=[staff_user])
    middle = PartnerFactory(priority=1, name="C middle")
    EngagementFactory(partners=[middle], starts_at=days(-200))

    def seen(user):
        return [(p.name, p.last_contact.date()) for p in quiet_selectors.quiet_partners(user, now=NOW)]

    outsider = [
        ("B older restricted meeting", days(-300).date()),
        ("C middle", days(-200).date()),
        ("A recent restricted meeting", days(-120).date()),
    ]
    assert seen(viewer) == outsider
    assert seen(other_staff) == outsider  # the same shared entry, no overlay
    # The participant: A had contact five days ago; B's last contact is the restricted meeting.
    assert seen(staff_user) == [("C middle", days(-200).date()), ("B older restricted meeting", days(-100).date())]
    assert seen(officer) == seen(staff_user)
    assert seen(viewer) == outsider  # the overlay never leaks into the shared entry


def test_quiet_list_is_cached_but_follows_every_write_at_once(viewer, officer, django_capture_on_commit_callbacks):
    quiet = PartnerFactory(priority=1, name="Quiet ministry")
    EngagementFactory(partners=[quiet], starts_at=days(-120))
    assert [p.name for p in quiet_selectors.quiet_partners(viewer, now=NOW)] == ["Quiet ministry"]
    assert [p.name for p in quiet_selectors.quiet_partners(officer, now=NOW)] == ["Quiet ministry"]

    # A meeting logged with it: gone for everyone, without waiting for the cache to expire.
    with django_capture_on_commit_callbacks(execute=True):
        meeting = EngagementFactory(partners=[quiet], starts_at=days(-1))
    assert list(quiet_selectors.quiet_partners(viewer, now=NOW)) == []
    assert list(quiet_selectors.quiet_partners(officer, now=NOW)) == []

    # The meeting cancelled: quiet again; the partner renamed: the new name at once.
    with django_capture_on_commit_callbacks(execute=True):
        meeting.status = "cancelled"
        meeting.save()
    assert [p.name for p in quiet_selectors.quiet_partners(viewer, now=NOW)] == ["Quiet ministry"]
    with django_capture_on_commit_callbacks(execute=True):
        quiet.name = "Quiet ministry (renamed)"
        quiet.save()
    assert [p.name for p in quiet_selectors.quiet_partners(viewer, now=NOW)] == ["Quiet ministry (renamed)"]


def test_quiet_list_is_bounded_and_links_to_the_partner(officer):
    for i in range(quiet_selectors.QUIET_LIMIT + 2):
        PartnerFactory(priority=1, name=f"Quiet {i:02d}")
    quiet = quiet_selectors.quiet_partners(officer, now=NOW)
    assert len(quiet) == quiet_selectors.QUIET_LIMIT and quiet.has_more
    first = quiet.items[0]
    assert (first.name, first.last_contact) == ("Quiet 00", None)
    assert first.get_absolute_url() == f"/partners/{first.pk}/"


def test_recent_activity_hides_restricted_records_per_role_even_among_many_newer_rows(
    viewer, staff_user, other_staff, officer
):
    marker = f"LEAK-{uuid.uuid4()}"
    secret = EngagementFactory(title=f"Talks {marker}", confidentiality="restricted", staff=[staff_user])
    CommitmentFactory(engagement=secret, description=f"Promise {marker}")
    # Newer restricted records than a whole screenful, which only participants may see.
    for i in range(activity_selectors.ACTIVITY_LIMIT * activity_selectors.ACTIVITY_SCAN):
        EngagementFactory(title=f"Other secret {marker} {i}", confidentiality="restricted", staff=[other_staff])
    public = [CommitmentFactory(description=f"Open promise {i}") for i in range(3)]

    def labels(user):
        return [a.label for a in activity_selectors.recent_activity(user)]

    for_viewer = labels(viewer)
    assert not any(marker in label for label in for_viewer)
    assert {f"Open promise {i}" for i in range(3)} <= set(for_viewer)
    assert f"Talks {marker}" in labels(staff_user)  # behind 48 newer rows they may not see
    assert f"Talks {marker}" not in labels(other_staff)
    assert len(labels(officer)) == activity_selectors.ACTIVITY_LIMIT and public


@pytest.mark.parametrize("who", ["viewer", "staff_user", "other_staff", "officer"])
def test_probed_visibility_is_the_same_rule_as_the_models(request, who, staff_user):
    user = request.getfixturevalue(who)
    partner = PartnerFactory()
    for conf in ("public", "internal", "restricted"):
        for staff in ([], [staff_user]):
            engagement = EngagementFactory(partners=[partner], confidentiality=conf, staff=staff)
            CommitmentFactory(partner=partner, engagement=engagement)
    CommitmentFactory(partner=partner, engagement=None)
    from engagements.selectors import commitments_for, engagements_for

    assert set(common._probed_engagements(user)) == set(engagements_for(user))
    assert set(common._probed_commitments(user)) == set(commitments_for(user))


def test_timeline_pages_keep_the_order_across_the_boundary_with_same_day_items(viewer, staff_user):
    partner = PartnerFactory()
    size = partner_page.TIMELINE_PAGE_SIZE
    # Many items on the same days, of every type, so the page boundary falls inside a day.
    for i in range(size + 3):
        EngagementFactory(partners=[partner], starts_at=days(-(i // 4)) - dt.timedelta(hours=i % 4))
        CommitmentFactory(partner=partner, due_date=today_plus(-(i // 4)))
    hidden = EngagementFactory(partners=[partner], starts_at=days(0), confidentiality="restricted", staff=[staff_user])

    def pages(user):
        rows, page = [], 1
        while True:
            timeline = partner_page.partner_timeline(user, partner, page=page)
            rows += timeline.items
            if not timeline.has_next:
                return rows, page
            assert len(timeline.items) == size
            page += 1

    rows, last_page = pages(viewer)
    assert last_page == 3 and len(rows) == 2 * (size + 3)
    keys = [(i.type, i.id) for i in rows]
    assert len(set(keys)) == len(keys) and ("engagement", hidden.pk) not in keys
    # Newest day first; within a day timed engagements, latest first, then date-only items.
    order = [(-i.day.toordinal(), i.type != "engagement", -(i.at.timestamp() if i.at else 0), i.type, -i.id) for i in rows]
    assert order == sorted(order)
    assert ("engagement", hidden.pk) in {(i.type, i.id) for i in pages(staff_user)[0]}
