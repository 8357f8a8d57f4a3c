"""The page tests' world (lists, details, forms): a small world with one restricted meeting.

The `world`, `client_for` and `as_user` fixtures are in tests/conftest.py;
this module holds the world's builder, its marker strings and `build_graph`.
Import the names a test needs: `from tests.pages_fixtures import SECRET, PUBLIC`.
"""

import datetime as dt

from django.utils import timezone

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

# Unique strings: a restricted record's text must never appear for outsiders.
SECRET = "ZQX-RESTRICTED-MARKER-41"
SECRET_PROMISE = "ZQX-RESTRICTED-PROMISE-77"
PUBLIC = "Open meeting on green hydrogen"
PASSWORD = "correct horse battery staple"

__all__ = ["SECRET", "SECRET_PROMISE", "PUBLIC", "PASSWORD", "build_world", "build_graph"]


def build_world(staff_user) -> dict:
    """Partners in Japan and Vietnam, a public and a restricted meeting (staff_user took part), commitments, a mission."""
    topic = TopicFactory(name="Climate and clean energy", slug="climate")
    japan = PartnerFactory(name="Ministry of Economy (Japan)", country="JP", kind="national_government", priority=1)
    vietnam = PartnerFactory(name="Office of the Prime Minister of Viet Nam", country="VN", city="Hanoi", kind="national_government")
    consul = ContactFactory(partner=japan, full_name="Kenji Sato", honorific="H.E.", title="Consul General")
    mission = TradeMissionFactory(name="Mayor's trade mission to Asia", objectives="Nonstop flights to Hanoi")
    public = EngagementFactory(
        title=PUBLIC,
        partners=[japan],
        contacts=[consul],
        topics=[topic],
        staff=[staff_user],
        summary="Hydrogen for the grid.",
        starts_at=timezone.now() - dt.timedelta(days=10),
    )
    restricted = EngagementFactory(
        title=f"Briefing {SECRET}",
        partners=[vietnam],
        staff=[staff_user],
        confidentiality=Engagement.Confidentiality.RESTRICTED,
        trade_mission=mission,
        summary=f"Human rights raised. {SECRET}",
        starts_at=timezone.now() - dt.timedelta(days=5),
    )
    open_promise = CommitmentFactory(description="Send the hydrogen study", engagement=public, partner=japan)
    secret_promise = CommitmentFactory(description=SECRET_PROMISE, engagement=restricted, partner=vietnam)
    agreement = AgreementFactory(title="Green hydrogen MOU", partners=[japan])
    return {
        "topic": topic,
        "japan": japan,
        "vietnam": vietnam,
        "consul": consul,
        "mission": mission,
        "public": public,
        "restricted": restricted,
        "open_promise": open_promise,
        "secret_promise": secret_promise,
        "agreement": agreement,
    }


def build_graph(n: int, staff: list, *, prefix: str = "Row") -> dict:
    """n engagements, each with 3 partners, 2 contacts, 2 staff, 2 commitments, a topic and a mission;
    every third one restricted; n agreements and contacts to match. Factories also write history rows.
    """
    topic = TopicFactory(name="Trade and investment", slug="trade")
    mission = TradeMissionFactory(name=f"{prefix} mission")
    engagements = []
    for i in range(n):
        partners = [PartnerFactory(name=f"{prefix} partner {i}-{k}") for k in range(3)]
        contacts = [ContactFactory(partner=partners[k]) for k in range(2)]
        engagement = EngagementFactory(
            title=f"{prefix} meeting {i}",
            partners=partners,
            contacts=contacts,
            staff=staff,
            topics=[topic],
            trade_mission=mission,
            confidentiality=Engagement.Confidentiality.RESTRICTED if i % 3 == 0 else Engagement.Confidentiality.INTERNAL,
        )
        for k in range(2):
            CommitmentFactory(engagement=engagement, partner=partners[k], owner=staff[0], trade_mission=mission if k else None)
        AgreementFactory(title=f"{prefix} agreement {i}", partners=partners[:2])
        mission.delegates.add(contacts[0])
        mission.partners.add(partners[0])
        engagements.append(engagement)
    return {"engagements": engagements, "mission": mission, "topic": topic}
