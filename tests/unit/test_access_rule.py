"""Every form of the confidentiality rule agrees, per role, on the same data.

The rule (contract, "Roles"; accounts/access.py): a signed-in, active user
with a role reads everything except restricted engagements and the
commitments and gifts that come from them; officers and superusers see
those too, and so do the staff who took part. A user with no role, or an
inactive one, reads nothing.

`expected()` writes that rule once more, in plain Python over the test's own
records: the oracle. Each form the code uses (the QuerySets' `visible_to`,
`engagement_q`, the probed form, `may_see_engagement`, the cache classes, the
dashboard's selectors, search, the calendar feed, the partner/contact/
agreement getters) must give the oracle's answer for every member of the
cast. Runs on SQLite and on PostgreSQL (the search then reads its stored
vectors), whichever DATABASE_URL says.
"""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from accounts import access
from dashboard import common
from dashboard.calendar.ics import user_feed
from dashboard.country import selectors as country_page
from dashboard.home import activity as activity_selectors
from dashboard.home import charts as chart_selectors
from dashboard.home import quiet as quiet_selectors
from dashboard.home import selectors as home
from dashboard.partner import selectors as partner_page
from dashboard.search import selectors as search
from engagements.models import Commitment, Engagement, Gift, TradeMission
from partners.models import Agreement, Contact, Partner, Topic
from tests.world import make_cast_member, make_superuser, make_user
from tests.factories import (
    AgreementFactory,
    CommitmentFactory,
    ContactFactory,
    EngagementFactory,
    GiftFactory,
    PartnerFactory,
    TopicFactory,
    TradeMissionFactory,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()
WORD = "zeppelin"  # in every record's title, so search finds them all

CAST = ["viewer", "staff_user", "other_staff", "officer", "superuser", "no_role", "inactive"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()




@dataclass
class World:
    engagements: list
    commitments: list
    gifts: list
    partners: list
    contacts: list
    agreements: list
    topics: list
    missions: list


def build_access_world(staff_user, other_staff) -> World:
    """Restricted (one attended by staff_user, one by nobody of the cast), internal and public
    engagements, each with a commitment and a gift; a commitment and a gift without engagement.
    Held in the past, planned in the next days and one cancelled, over two priority-1 partners."""
    topic = TopicFactory(name=f"{WORD} topic", slug="zeppelin-topic")
    quiet_a = PartnerFactory(name=f"{WORD} city A", priority=1)
    quiet_b = PartnerFactory(name=f"{WORD} city B", priority=1)
    ordinary = PartnerFactory(name=f"{WORD} chamber", priority=2)
    contact = ContactFactory(partner=quiet_a, full_name=f"{WORD} Consul")
    agreement = AgreementFactory(title=f"{WORD} memorandum", partners=[quiet_a])
    mission = TradeMissionFactory(name=f"{WORD} mission")
    mission.partners.set([quiet_a])

    def meeting(name, conf, *, staff=(), partners=(quiet_a,), days=-3, status="held"):
        return EngagementFactory(
            title=f"{WORD} {name}",
            confidentiality=conf,
            staff=list(staff),
            partners=list(partners),
            topics=[topic],
            starts_at=NOW + dt.timedelta(days=days),
            status=status,
        )

    engagements = [
        meeting("restricted attended", "restricted", staff=[staff_user], partners=[quiet_a]),
        meeting("restricted unattended", "restricted", partners=[quiet_b], days=-5),
        meeting("restricted upcoming", "restricted", staff=[staff_user], partners=[ordinary], days=2, status="planned"),
        meeting("internal", "internal", staff=[other_staff], partners=[ordinary], days=-40),
        meeting("public upcoming", "public", partners=[ordinary], days=3, status="planned"),
        meeting("internal cancelled", "internal", partners=[quiet_b], days=-1, status="cancelled"),
        meeting("public long ago", "public", partners=[quiet_a, quiet_b], days=-200),
    ]
    commitments, gifts = [], []
    for i, engagement in enumerate(engagements[:5]):
        commitments.append(
            CommitmentFactory(
                description=f"{WORD} promise {i}",
                engagement=engagement,
                partner=engagement.partners.first(),
                owner=staff_user if i % 2 else other_staff,
            )
        )
        gifts.append(GiftFactory(description=f"{WORD} box {i}", engagement=engagement, partner=engagement.partners.first()))
    commitments.append(CommitmentFactory(description=f"{WORD} promise alone", engagement=None, partner=quiet_b, owner=staff_user))
    gifts.append(GiftFactory(description=f"{WORD} box alone", engagement=None, partner=quiet_b))
    return World(engagements, commitments, gifts, [quiet_a, quiet_b, ordinary], [contact], [agreement], [topic], [mission])


def may_use(user) -> bool:
    return user.is_active and (user.is_superuser or user.groups.exists())


def sees_all(user) -> bool:
    return user.is_active and (user.is_superuser or user.groups.filter(name="officer").exists())


def expected(user, access_world) -> dict:
    """The rule in plain Python: pk sets per model."""
    if not may_use(user):
        return {"engagement": set(), "commitment": set(), "gift": set(), "other": False}

    def sees(engagement):
        if engagement is None or engagement.confidentiality != "restricted" or sees_all(user):
            return True
        return engagement.staff.filter(pk=user.pk).exists()

    return {
        "engagement": {e.pk for e in access_world.engagements if sees(e)},
        "commitment": {c.pk for c in access_world.commitments if sees(c.engagement)},
        "gift": {g.pk for g in access_world.gifts if sees(g.engagement)},
        "other": True,
    }


def pks(queryset) -> set:
    return set(queryset.values_list("pk", flat=True))


# --- The cast and the world, made once per module ----------------------------------------------
# Built in a transaction opened for the module and rolled back at its end (as the security suite's
# matrix_world); every test runs in its own savepoint (pytest-django's `db`), so its writes vanish,
# and gets its users loaded afresh, so nothing cached on a user object carries over. The tests only
# read the world.
@pytest.fixture(scope="module")
def _module_world(django_db_setup, django_db_blocker):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            users = {name: make_cast_member(User, role) for name, role in CAST_ROLES.items()}
            users["superuser"] = make_superuser(User)
            users["no_role"] = make_user(User, "nora_norole", first_name="Nora", last_name="Norole")
            users["inactive"] = make_user(User, "ivan_inactive", "officer", is_active=False)
            world = build_access_world(users["staff_user"], users["other_staff"])
            yield {name: user.pk for name, user in users.items()}, world
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


CAST_ROLES = {"viewer": "viewer", "staff_user": "staff", "other_staff": "other_staff", "officer": "officer"}


def _member(name: str):
    @pytest.fixture(name=name)
    def member(_module_world, db, django_user_model):
        return django_user_model.objects.get(pk=_module_world[0][name])

    member.__doc__ = f"The module's {name}, loaded afresh for each test."
    return member


viewer, staff_user, other_staff, officer = (_member(name) for name in CAST_ROLES)
superuser, no_role, inactive = _member("superuser"), _member("no_role"), _member("inactive")


@pytest.fixture
def access_world(_module_world, db) -> World:
    return _module_world[1]


@pytest.fixture(params=CAST)
def user(request, access_world):
    return request.getfixturevalue(request.param)


def test_the_cast_covers_every_case(access_world, viewer, staff_user, other_staff, officer, superuser, no_role, inactive):
    """Each member of the cast sees a different slice, so agreement below is not agreement on nothing."""
    seen = {name: frozenset(expected(u, access_world)["engagement"]) for name, u in locals().items() if name in CAST}
    assert seen["viewer"] == seen["other_staff"]
    assert seen["officer"] == seen["superuser"] == {e.pk for e in access_world.engagements}
    assert seen["no_role"] == seen["inactive"] == frozenset()
    assert seen["viewer"] < seen["staff_user"] < seen["officer"]


def test_querysets_and_q_forms_agree(user, access_world):
    want = expected(user, access_world)
    assert pks(Engagement.objects.visible_to(user)) == want["engagement"]
    assert pks(Engagement.objects.filter(access.engagement_q(user))) == want["engagement"]
    assert pks(Engagement.objects.filter(access.probed_engagement_q(user))) == want["engagement"]
    for model in (Commitment, Gift):
        key = model._meta.model_name
        assert pks(model.objects.visible_to(user)) == want[key]
        assert pks(model.objects.filter(access.engagement_q(user, via="engagement__"))) == want[key]
        assert pks(model.objects.filter(access.probed_engagement_q(user, via="engagement__"))) == want[key]


def test_the_one_record_predicate_agrees(user, access_world):
    want = expected(user, access_world)
    for engagement in access_world.engagements:
        assert access.may_see_engagement(user, engagement) is (engagement.pk in want["engagement"]), engagement.title
    assert access.may_see_engagement(user, None) is want["other"]
    assert access.may_use_crm(user) is want["other"]
    assert access.sees_all_restricted(user) is (want["other"] and sees_all(user))


def test_visibility_classes_share_their_rows_and_add_only_attendance(user, access_world, viewer, staff_user, other_staff):
    want = expected(user, access_world)
    cls = access.visibility_class(user)
    class_rows = pks(Engagement.objects.filter(access.class_engagement_q(cls)))
    beyond = pks(Engagement.objects.filter(access.beyond_class_q(user)))
    assert class_rows | beyond == want["engagement"]
    assert not class_rows & beyond
    for model in (Commitment, Gift):
        shared = pks(model.objects.filter(access.class_engagement_q(cls, via="engagement__")))
        own = pks(model.objects.filter(engagement__in=Engagement.objects.filter(access.beyond_class_q(user))))
        assert shared | own == want[model._meta.model_name]
    # Users of one class see its rows at least, and exactly them when they took part in nothing restricted.
    for other in (viewer, staff_user, other_staff):
        if access.visibility_class(other) == cls:
            assert class_rows <= expected(other, access_world)["engagement"]
            if not pks(Engagement.objects.filter(access.beyond_class_q(other))):
                assert expected(other, access_world)["engagement"] == class_rows
    assert cls == {True: {True: access.ALL, False: access.OPEN}[sees_all(user)], False: access.NONE}[want["other"]]


def test_dashboard_selectors_agree(user, access_world):
    want = expected(user, access_world)
    assert pks(common._probed_engagements(user)) == want["engagement"]
    assert pks(common._probed_commitments(user)) == want["commitment"]
    visible = [e for e in access_world.engagements if e.pk in want["engagement"]]

    today = timezone.localdate(NOW)
    start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    end = start + dt.timedelta(days=home.UPCOMING_DAYS + 1)
    upcoming = {e.pk for e in visible if e.status != "cancelled" and start <= e.starts_at < end}
    assert {e.pk for e in home.upcoming_engagements(user, now=NOW)} == upcoming

    mine, others = home.commitments_due(user, now=NOW)
    assert {c.pk for c in mine} | {c.pk for c in others} == want["commitment"]

    activity = {(a.kind, a.object_id) for a in activity_selectors.recent_activity(user, limit=50)}
    assert activity == {("engagement", pk) for pk in want["engagement"]} | {("commitment", pk) for pk in want["commitment"]}

    from django.conf import settings

    cutoff = NOW - dt.timedelta(days=settings.CRM["QUIET_AFTER_DAYS"])
    quiet = {
        p.pk
        for p in access_world.partners
        if p.priority == 1
        and not any(e.status != "cancelled" and e.starts_at >= cutoff and p in e.partners.all() for e in visible)
    }
    assert {q.pk for q in quiet_selectors.quiet_partners(user, now=NOW)} == (quiet if want["other"] else set())

    window_start, window_end, _ = chart_selectors._chart_window(NOW)
    # The charts count engagements held by now (the last contact's rule, engagements.selectors.held_by_q).
    charted = [e for e in visible if e.status == "held" and e.starts_at <= NOW and window_start <= e.starts_at < window_end]
    charts = chart_selectors.engagement_charts(user, now=NOW)
    assert sum(charts["months"]["values"]) == len(charted)
    assert sum(charts["topics"]["values"]) == len(charted)  # every meeting has the one topic


def test_partner_pages_agree(user, access_world):
    want = expected(user, access_world)
    partner = access_world.partners[0]
    timeline = partner_page.partner_timeline(user, partner)
    by_type = {}
    for item in timeline.items:
        by_type.setdefault(item.type, set()).add(item.id)
    assert by_type.get("engagement", set()) == {e.pk for e in access_world.engagements if e.pk in want["engagement"] and partner in e.partners.all()}
    assert by_type.get("commitment", set()) == {c.pk for c in access_world.commitments if c.pk in want["commitment"] and c.partner_id == partner.pk}
    assert by_type.get("mission", set()) == ({access_world.missions[0].pk} if want["other"] else set())

    overview = country_page.country_overview(user, "JP", now=NOW)
    assert {e.pk for e in overview.engagements} == want["engagement"]
    assert {p.pk for p in overview.partners} == ({p.pk for p in access_world.partners} if want["other"] else set())
    assert {a.pk for a in overview.agreements} == ({a.pk for a in access_world.agreements} if want["other"] else set())
    assert {m.pk for m in overview.missions} == set()  # the mission is to Viet Nam

    if want["other"]:
        history = partner_page.partner_history(user, partner.pk, now=NOW)
        assert {c.pk for c in history.we_owe + history.they_owe} == {
            c.pk for c in access_world.commitments if c.pk in want["commitment"] and c.partner_id == partner.pk
        }
    else:
        with pytest.raises(Http404):
            partner_page.partner_history(user, partner.pk, now=NOW)


def test_records_without_confidentiality_follow_may_use_crm(user, access_world):
    """Partners, contacts, agreements, topics: all for a user of the CRM, nothing (404) for anyone else."""
    want = expected(user, access_world)["other"]
    pairs = [
        (access.partners_for, access.access_partner, Partner, access_world.partners),
        (access.contacts_for, access.access_contact, Contact, access_world.contacts),
        (access.agreements_for, access.access_agreement, Agreement, access_world.agreements),
    ]
    for listing, getter, model, records in pairs:
        assert pks(listing(user)) == (pks(model.objects.all()) if want else set())
        for record in records:
            if want:
                assert getter(user, record.pk).pk == record.pk
                assert getter(user, record.pk, model.objects.only("pk")).pk == record.pk
            else:
                with pytest.raises(Http404):
                    getter(user, record.pk)
    assert pks(access.topics_for(user)) == (pks(Topic.objects.all()) if want else set())
    assert pks(TradeMission.objects.visible_to(user)) == ({access_world.missions[0].pk} if want else set())


def test_search_agrees(user, access_world):
    want = expected(user, access_world)
    results = search.search(user, WORD, type_key="engagement")
    assert {h.obj.pk for h in results.group.hits} == want["engagement"]
    results = search.search(user, WORD, type_key="commitment")
    assert {h.obj.pk for h in results.group.hits} == want["commitment"]
    everything = {
        "partner": {p.pk for p in access_world.partners},
        "contact": {c.pk for c in access_world.contacts},
        "agreement": {a.pk for a in access_world.agreements},
        "mission": {m.pk for m in access_world.missions},
    }
    for key, all_pks in everything.items():
        hits = {h.obj.pk for h in search.search(user, WORD, type_key=key).group.hits}
        assert hits == (all_pks if want["other"] else set()), key


def test_calendar_feed_agrees(user, access_world):
    want = expected(user, access_world)
    feed = user_feed(user, now=NOW)
    uids = {str(event["uid"]).split("@")[0] for event in feed.walk("VEVENT")}
    since = NOW - dt.timedelta(days=90)  # FEED_PAST_DAYS
    engagements = {
        f"engagement-{e.pk}"
        for e in access_world.engagements
        if e.pk in want["engagement"] and e.status != "cancelled" and e.starts_at >= since
    }
    commitments = {
        f"commitment-{c.pk}" for c in access_world.commitments if c.pk in want["commitment"] and c.owner_id == user.pk
    }
    assert uids == engagements | commitments


@pytest.mark.parametrize("who", CAST)
def test_the_role_lookup_also_loads_the_group_permissions_django_would(request, who, django_user_model, django_assert_num_queries):
    """accounts.roles reads the role with the groups' permissions in one query; `has_perm` then asks for no more
    than the user's own permissions, and finds what Django alone would have found."""
    user = request.getfixturevalue(who)
    fresh = django_user_model.objects.get(pk=user.pk)
    django_way = fresh.get_all_permissions()
    asked = django_user_model.objects.get(pk=user.pk)
    # Superusers and inactive users are answered without a query; Django gives them all/no permissions.
    with django_assert_num_queries(0 if user.is_superuser or not user.is_active else 1):
        access.may_use_crm(asked)
        access.visibility_class(asked)
    with django_assert_num_queries({"superuser": 2, "inactive": 0}.get(who, 1)):
        assert asked.get_all_permissions() == django_way


def test_api_querysets_agree(user, access_world):
    from api import selectors as api

    want = expected(user, access_world)
    assert pks(api.api_engagements(user)) == want["engagement"]
    assert pks(api.api_commitments(user)) == want["commitment"]
    assert pks(api.api_gifts(user)) == want["gift"]
    everything = want["other"]
    assert pks(api.api_partners(user)) == (pks(Partner.objects.all()) if everything else set())
    assert pks(api.api_contacts(user)) == (pks(Contact.objects.all()) if everything else set())
    assert pks(api.api_agreements(user)) == (pks(Agreement.objects.all()) if everything else set())
    assert pks(api.api_topics(user)) == (pks(Topic.objects.all()) if everything else set())
    assert pks(api.api_missions(user)) == (pks(TradeMission.objects.all()) if everything else set())


def test_detail_pages_fetch_through_the_rule(user, access_world, client):
    """Each detail page shows a record exactly when the rule says so (its title in the page), else refuses."""
    want = expected(user, access_world)
    if user.is_active:
        client.force_login(user)  # an inactive user cannot sign in at all
    pages = [(f"/partners/{p.pk}/", p.name, want["other"]) for p in access_world.partners[:1]]
    pages += [(f"/contacts/{c.pk}/", c.full_name, want["other"]) for c in access_world.contacts]
    pages += [(f"/agreements/{a.pk}/", a.title, want["other"]) for a in access_world.agreements]
    pages += [(f"/missions/{m.pk}/", m.name, want["other"]) for m in access_world.missions]
    pages += [(f"/engagements/{e.pk}/", e.title, e.pk in want["engagement"]) for e in access_world.engagements]
    pages += [(f"/commitments/{c.pk}/", c.description, c.pk in want["commitment"]) for c in access_world.commitments]
    for url, text, visible in pages:
        response = client.get(url)
        body = response.content.decode()
        if visible:
            assert response.status_code == 200 and text in body, url
        else:
            assert response.status_code in (302, 403, 404) and text not in body, (url, response.status_code)
