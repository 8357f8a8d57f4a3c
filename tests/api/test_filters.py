"""Every filter of the contract, through the API: it selects, and a bad value is a 400 keyed by the parameter.

The filtersets are the HTML lists' own (partners/filters.py, engagements/filters.py).
"""

import datetime as dt

import pytest
from django.utils import timezone

from tests import factories

from .resources import API

pytestmark = pytest.mark.django_db


def ids(client, path):
    response = client.get(API + path)
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def officer_api(client_as):
    return client_as("officer")


def test_partner_filters(officer_api, officer):
    topic = factories.TopicFactory(slug="ports")
    a = factories.PartnerFactory(
        name="Port of Busan", kind="company", country="KR", priority=1, owner=officer, status="active"
    )
    a.topics.set([topic])
    b = factories.PartnerFactory(name="Embassy of France", kind="diplomatic_mission", country="FR", priority=3,
                                 status="inactive")  # fmt: skip
    assert ids(officer_api, "partners/?kind=company") == {a.pk}
    assert ids(officer_api, "partners/?country=FR") == {b.pk}
    assert ids(officer_api, "partners/?topic=ports") == {a.pk}
    assert ids(officer_api, "partners/?priority=3") == {b.pk}
    assert ids(officer_api, "partners/?owner=omar_officer") == {a.pk}
    assert ids(officer_api, "partners/?status=inactive") == {b.pk}
    assert ids(officer_api, "partners/?q=busan") == {a.pk}
    assert ids(officer_api, "partners/?q=embassy+france") == {b.pk}


def test_contact_filters(officer_api, api_world):
    a = factories.ContactFactory(full_name="Yuki Tanaka", partner=api_world["partner"], is_active=True)
    b = factories.ContactFactory(full_name="Marie Curie", is_active=False)
    assert ids(officer_api, f"contacts/?partner={b.partner_id}") == {b.pk}
    assert ids(officer_api, "contacts/?is_active=false") == {b.pk}
    assert a.pk in ids(officer_api, "contacts/?is_active=true")
    assert ids(officer_api, "contacts/?q=tanaka") == {a.pk}


def test_engagement_filters(officer_api, api_world):
    fr = factories.PartnerFactory(country="FR")
    topic = api_world["topic"]  # slug "climate"
    now = timezone.now()
    a = factories.EngagementFactory(title="Ports forum", kind="multilateral_forum", status="held",
                                    partners=[api_world["partner"]], topics=[topic], trade_mission=api_world["mission"],
                                    starts_at=now - dt.timedelta(days=40))  # fmt: skip
    b = factories.EngagementFactory(title="Call with Paris", kind="call", status="planned", partners=[fr],
                                    confidentiality="public", starts_at=now + dt.timedelta(days=5))  # fmt: skip
    assert ids(officer_api, f"engagements/?partner={fr.pk}") == {b.pk}
    assert ids(officer_api, "engagements/?kind=multilateral_forum") == {a.pk}
    assert ids(officer_api, "engagements/?status=planned") == {b.pk}
    assert ids(officer_api, "engagements/?country=JP") == {a.pk}
    assert ids(officer_api, "engagements/?topic=climate") == {a.pk}
    assert ids(officer_api, f"engagements/?trade_mission={api_world['mission'].pk}") == {a.pk}
    assert ids(officer_api, "engagements/?confidentiality=public") == {b.pk}
    cut = (now - dt.timedelta(days=1)).isoformat().replace("+", "%2B")
    assert ids(officer_api, f"engagements/?starts_after={cut}") == {b.pk}
    assert ids(officer_api, f"engagements/?starts_before={cut}") == {a.pk}
    assert ids(officer_api, "engagements/?q=paris") == {b.pk}


def test_trade_mission_filters(officer_api):
    a = factories.TradeMissionFactory(direction="outbound", countries=["VN", "TH"], status="completed",
                                      start_date=dt.date(2018, 10, 8), end_date=dt.date(2018, 10, 14))  # fmt: skip
    b = factories.TradeMissionFactory(direction="inbound", countries=["DE"], status="planned",
                                      start_date=dt.date(2026, 5, 1), end_date=dt.date(2026, 5, 3))  # fmt: skip
    assert ids(officer_api, "trade-missions/?direction=inbound") == {b.pk}
    assert ids(officer_api, "trade-missions/?country=TH") == {a.pk}
    assert ids(officer_api, "trade-missions/?status=completed") == {a.pk}
    assert ids(officer_api, "trade-missions/?starts_after=2020-01-01") == {b.pk}
    assert ids(officer_api, "trade-missions/?starts_before=2020-01-01") == {a.pk}


def test_commitment_filters(officer_api, officer, api_world):
    today = timezone.localdate()
    late = factories.CommitmentFactory(status="open", owner=officer, due_date=today - dt.timedelta(days=3),
                                       partner=api_world["partner"])  # fmt: skip
    later = factories.CommitmentFactory(status="in_progress", due_date=today + dt.timedelta(days=30))
    factories.CommitmentFactory(status="done", completed_on=today, due_date=today - dt.timedelta(days=9))
    assert ids(officer_api, "commitments/?status=in_progress") == {later.pk}
    assert ids(officer_api, "commitments/?owner=omar_officer") == {late.pk}
    assert ids(officer_api, f"commitments/?partner={api_world['partner'].pk}") == {late.pk}
    assert ids(officer_api, f"commitments/?due_after={today.isoformat()}") == {later.pk}
    assert late.pk in ids(officer_api, f"commitments/?due_before={today.isoformat()}")
    assert ids(officer_api, "commitments/?overdue=true") == {late.pk}


def test_agreement_filters(officer_api, api_world):
    a = factories.AgreementFactory(kind="sister_city", status="in_force", partners=[api_world["partner"]],
                                   expires_on=dt.date(2026, 1, 1))  # fmt: skip
    b = factories.AgreementFactory(kind="mou", status="draft", expires_on=dt.date(2030, 1, 1))
    assert ids(officer_api, "agreements/?kind=sister_city") == {a.pk}
    assert ids(officer_api, f"agreements/?partner={api_world['partner'].pk}") == {a.pk}
    assert ids(officer_api, "agreements/?status=draft") == {b.pk}
    assert ids(officer_api, "agreements/?expires_before=2027-01-01") == {a.pk}


INVALID = [
    ("partners", "kind", "embassy"),
    ("partners", "country", "XX"),
    ("partners", "country", "jp"),
    ("partners", "topic", "no-such-topic"),
    ("partners", "priority", "7"),
    ("partners", "owner", "nobody"),
    ("partners", "status", "asleep"),
    ("partners", "q", "x" * 10_000),
    ("partners", "q", "nul\x00byte"),
    ("partners", "ordering", "password"),
    ("contacts", "partner", "abc"),
    ("contacts", "partner", "0"),
    ("engagements", "partner", "-1"),
    ("engagements", "kind", "party"),
    ("engagements", "status", "done"),
    ("engagements", "country", "Japan"),
    ("engagements", "topic", "x" * 300),
    ("engagements", "trade_mission", "one"),
    ("engagements", "confidentiality", "secret"),
    ("engagements", "starts_after", "notadate"),
    ("engagements", "starts_before", "2025-02-30T10:00"),
    ("engagements", "ordering", "-nonexistent"),
    ("trade-missions", "direction", "sideways"),
    ("trade-missions", "country", "ZZ"),
    ("trade-missions", "status", "lost"),
    ("trade-missions", "starts_after", "2025-13-01"),
    ("trade-missions", "starts_before", "10000-01-01"),
    ("commitments", "status", "forgotten"),
    ("commitments", "owner", "ghost"),
    ("commitments", "partner", "1.5e400"),
    ("commitments", "due_before", "yesterday"),
    ("commitments", "due_after", "0000-01-01"),
    ("agreements", "kind", "treaty"),
    ("agreements", "partner", "x"),
    ("agreements", "status", "signed"),
    ("agreements", "expires_before", "2025-02-30"),
    ("partners", "topic", "a\x00b"),
    ("partners", "owner", "x\x00"),
    ("commitments", "owner", "\x00"),
    ("engagements", "starts_after", "\x00"),
    ("engagements", "starts_after", "9999-12-31T23:59:59"),
    ("engagements", "starts_before", "0001-01-01T00:00:00+14:00"),
    ("engagements", "starts_after", "2025-03-09T02:30"),
    ("engagements", "partner", str(2**63)),
    ("commitments", "engagement", "99999999999999999999999"),
    ("gifts", "partner", "1.5"),
    ("gifts", "direction", "sideways"),
]


@pytest.mark.parametrize(("resource", "param", "value"), INVALID, ids=lambda v: str(v)[:20])
def test_an_invalid_filter_value_is_a_400_keyed_by_the_parameter(resource, param, value, officer_api):
    response = officer_api.get(f"{API}{resource}/", {param: value})
    assert response.status_code == 400, response.content
    assert list(response.json()) == [param]


def test_unknown_parameters_are_ignored(officer_api, api_world):
    assert officer_api.get(f"{API}partners/?colour=blue&password=x").status_code == 200
