"""Helpers the browser tests share (not fixtures: those are in tests/browser/conftest.py)."""

import datetime as dt

from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from tests.factories import (
    AgreementFactory,
    CommitmentFactory,
    ContactFactory,
    EngagementFactory,
    PartnerFactory,
    TopicFactory,
    TradeMissionFactory,
)

SERIOUS = {"serious", "critical"}


def serious_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {len(v['nodes'])} element(s): "
        + ", ".join(str(n["target"]) for n in v["nodes"][:6])
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


def some_world(officer, staff_user):
    """A little of everything, so every page has rows to show."""
    climate = TopicFactory(name="Climate and clean energy", slug="climate")
    trade = TopicFactory(name="Trade and investment", slug="trade")
    government = PartnerFactory(name="Government of Viet Nam", kind="national_government", country="VN", priority=1)
    ministry = PartnerFactory(name="Ministry of Transport of Viet Nam", kind="national_government", country="VN",
                              parent=government, priority=1)
    tokyo = PartnerFactory(name="Tokyo Metropolitan Government", country="JP", priority=1)
    PartnerFactory(name="Urban 20", kind="city_network", country="", priority=1)
    ContactFactory(partner=government, full_name="Pham Minh Chinh", honorific="H.E.", title="Prime Minister",
                   form_of_address="Your Excellency", protocol_notes="Interpreter needed (Vietnamese).")
    ContactFactory(partner=government, full_name="Former Envoy", is_active=False)
    now = timezone.now()
    meetings = [
        EngagementFactory(title="Nonstop flights to Hanoi", partners=[government, ministry], topics=[trade],
                          staff=[staff_user], starts_at=now - dt.timedelta(days=20)),
        EngagementFactory(title="Green hydrogen call", partners=[tokyo], topics=[climate], kind="call",
                          starts_at=now - dt.timedelta(days=70)),
        EngagementFactory(title="U20 preparatory session", partners=[tokyo, government], topics=[climate],
                          status="planned", starts_at=now + dt.timedelta(days=4)),
    ]
    for i, meeting in enumerate(meetings):
        CommitmentFactory(engagement=meeting, partner=meeting.partners.first(), owner=officer if i else staff_user,
                          made_by=("city", "partner", "joint")[i], due_date=timezone.localdate() + dt.timedelta(days=i * 6 - 3))
    mission = TradeMissionFactory(name="Mayor's delegation to Asia", countries=["VN", "JP"])
    mission.partners.set([government, tokyo])
    AgreementFactory(title="Memorandum on urban air mobility", partners=[government])
    return {"government": government, "tokyo": tokyo, "mission": mission, "meeting": meetings[0]}
