"""Briefing books: /partners/<id>/briefing/ and /engagements/<id>/briefing/, as HTML and as PDF."""

import datetime as dt
import io

import pytest
from django.utils import timezone
from pypdf import PdfReader

from dashboard.briefing import pdf as briefing
from engagements.models import Commitment, Engagement
from tests.factories import AgreementFactory, CommitmentFactory, ContactFactory, EngagementFactory, PartnerFactory, TopicFactory

pytestmark = pytest.mark.django_db

MARKER = "ZQX-BRIEFING-LEAK-7781"
PROMISE_MARKER = "ZQX-BRIEFING-PROMISE-7782"


@pytest.fixture
def partner_world(staff_user):
    parent = PartnerFactory(name="Government of Japan", country="JP", kind="national_government")
    partner = PartnerFactory(
        name="Ministry of Economy, Trade and Industry", parent=parent, country="JP", description="Leads on hydrogen."
    )
    partner.topics.set([TopicFactory(name="Climate and clean energy", slug="climate")])
    minister = ContactFactory(
        partner=partner, full_name="Haruka Tanaka", honorific="H.E.", title="Minister",
        form_of_address="Your Excellency", protocol_notes="Vegetarian; bows before handshakes.",
    )
    ContactFactory(partner=partner, full_name="Former Aide", honorific="Mr.", is_active=False)
    now = timezone.now()
    mayor_meeting = EngagementFactory(
        title="Mayor meets the Minister", partners=[partner], contacts=[minister], city_officials="The MAYOR, Deputy Mayor",
        starts_at=now - dt.timedelta(days=40), outcomes="Agreed a hydrogen pilot.",
    )
    EngagementFactory(
        title="Staff-level call", partners=[partner], city_officials="Director of trade",
        starts_at=now - dt.timedelta(days=5), outcomes="Timeline for the pilot.",
    )
    restricted = EngagementFactory(
        title=f"Private talks {MARKER}", partners=[partner], staff=[staff_user],
        confidentiality=Engagement.Confidentiality.RESTRICTED, city_officials="Mayor",
        starts_at=now - dt.timedelta(days=2), outcomes=f"Sensitive {MARKER}",
    )
    CommitmentFactory(description="Send the hydrogen feasibility study", partner=partner, engagement=mayor_meeting)
    CommitmentFactory(
        description="Nominate a pilot site in Japan", partner=partner, made_by=Commitment.MadeBy.PARTNER,
        engagement=mayor_meeting,
    )
    CommitmentFactory(description=PROMISE_MARKER, partner=partner, engagement=restricted)
    AgreementFactory(title="Hydrogen cooperation MOU", partners=[partner], signed_on=dt.date(2023, 4, 2))
    upcoming = EngagementFactory(
        title="Ministerial visit to City Hall", partners=[partner, parent], contacts=[minister], status="planned",
        starts_at=now + dt.timedelta(days=7), staff=[staff_user],
    )
    return {"partner": partner, "parent": parent, "mayor_meeting": mayor_meeting, "restricted": restricted,
            "upcoming": upcoming}


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_anonymous_is_sent_to_login(client, partner_world):
    for url in (f"/partners/{partner_world['partner'].pk}/briefing/", f"/engagements/{partner_world['upcoming'].pk}/briefing/"):
        assert client.get(url).status_code == 302


def test_partner_briefing_page_has_what_an_officer_needs(client, viewer, partner_world):
    partner = partner_world["partner"]
    client.force_login(viewer)
    response = client.get(f"/partners/{partner.pk}/briefing/")
    assert response.status_code == 200
    body = response.content.decode()
    for text in (
        "Ministry of Economy, Trade and Industry", "Government of Japan", "H.E. Haruka Tanaka", "Your Excellency",
        "Vegetarian", "Send the hydrogen feasibility study", "Nominate a pilot site in Japan", "We owe", "They owe",
        "Hydrogen cooperation MOU", "Apr 2, 2023", "Agreed a hydrogen pilot.", "Climate and clean energy",
        "/static/css/briefing.css",
    ):
        assert text in body, text
    # The last time the Mayor met them: the viewer cannot see the later restricted one.
    assert response.context["briefing"].mayor_meeting == partner_world["mayor_meeting"]
    assert 'class="usa-nav' not in body  # no navigation chrome
    assert body.index("H.E. Haruka Tanaka") < body.index("Mr. Former Aide")  # in post first
    assert MARKER not in body and PROMISE_MARKER not in body


def test_participant_sees_the_restricted_meeting_as_the_last_with_the_mayor(client, staff_user, partner_world):
    client.force_login(staff_user)
    response = client.get(f"/partners/{partner_world['partner'].pk}/briefing/")
    assert response.context["briefing"].mayor_meeting == partner_world["restricted"]
    assert MARKER in response.content.decode() and PROMISE_MARKER in response.content.decode()


def test_partner_briefing_pdf_holds_open_commitments_and_honorifics(client, officer, partner_world):
    client.force_login(officer)
    response = client.get(f"/partners/{partner_world['partner'].pk}/briefing/", {"format": "pdf"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = " ".join(_pdf_text(response.content).split())
    for expected in ("H.E. Haruka Tanaka", "Send the hydrogen feasibility study", "Nominate a pilot site in Japan", "We owe", "They owe"):
        assert expected in text, expected
    assert MARKER in text  # an officer sees restricted outcomes


@pytest.mark.parametrize("who", ["viewer", "other_staff"])
def test_pdf_never_leaks_restricted_text(client, partner_world, who, request):
    client.force_login(request.getfixturevalue(who))
    response = client.get(f"/partners/{partner_world['partner'].pk}/briefing/", {"format": "pdf"})
    text = _pdf_text(response.content)
    assert "H.E. Haruka Tanaka" in text
    assert MARKER not in text and PROMISE_MARKER not in text


def test_the_pdf_stylesheet_is_read_from_disk_and_nothing_else_is_fetched():
    assert briefing.static_path("http://testserver/static/css/briefing.css").name == "briefing.css"
    assert briefing.static_path("http://testserver/static/css/briefing.0123456789ab.css").name == "briefing.css"
    assert briefing.static_path("http://testserver/static/../settings.py") is None
    assert briefing.static_path("https://evil.example/track.png") is None
    fetcher = briefing.StaticFetcher()
    with pytest.raises(ValueError):
        fetcher.fetch("https://evil.example/track.png")
    assert b".briefing" in fetcher.fetch("http://testserver/static/css/briefing.css").read()


def test_engagement_briefing_condenses_its_partners(client, staff_user, partner_world):
    upcoming = partner_world["upcoming"]
    client.force_login(staff_user)
    response = client.get(f"/engagements/{upcoming.pk}/briefing/")
    assert response.status_code == 200
    body = response.content.decode()
    local = timezone.localtime(upcoming.starts_at)
    assert local.strftime("%H:%M") in body and "America/Los_Angeles" in body
    for text in ("Ministerial visit to City Hall", "H.E. Haruka Tanaka", "Vegetarian", "Government of Japan",
                 "Send the hydrogen feasibility study", "Hydrogen cooperation MOU", "Agreed a hydrogen pilot."):
        assert text in body, text
    assert PROMISE_MARKER in body  # staff_user took part in the restricted meeting

    pdf = client.get(f"/engagements/{upcoming.pk}/briefing/", {"format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf"
    assert "Ministerial visit to City Hall" in " ".join(_pdf_text(pdf.content).split())


def test_engagement_briefing_hides_restricted_things(client, viewer, other_staff, partner_world):
    for user in (viewer, other_staff):
        client.force_login(user)
        body = client.get(f"/engagements/{partner_world['upcoming'].pk}/briefing/").content.decode()
        assert MARKER not in body and PROMISE_MARKER not in body
        assert client.get(f"/engagements/{partner_world['restricted'].pk}/briefing/").status_code == 404


def test_unknown_records_are_404(client, officer):
    client.force_login(officer)
    assert client.get("/partners/999999/briefing/").status_code == 404
    assert client.get("/engagements/999999/briefing/").status_code == 404


def _graph(n: int, staff_user):
    partner = PartnerFactory(name="Budget partner")
    others = [PartnerFactory(name=f"Co-partner {i}") for i in range(n)]
    for i in range(n):
        ContactFactory(partner=partner)
        ContactFactory(partner=others[i])
        e = EngagementFactory(
            partners=[partner, others[i]], city_officials="Mayor" if i % 2 else "",
            confidentiality=Engagement.Confidentiality.RESTRICTED if i % 3 == 0 else Engagement.Confidentiality.INTERNAL,
        )
        CommitmentFactory(engagement=e, partner=partner)
        CommitmentFactory(engagement=e, partner=others[i], made_by=Commitment.MadeBy.PARTNER)
        AgreementFactory(partners=[partner, others[i]])
    upcoming = EngagementFactory(partners=[partner, *others[:15]], contacts=[], status="planned",
                                 starts_at=timezone.now() + dt.timedelta(days=3))
    return partner, upcoming


# Partner: session, user, role (groups with their permissions, one query), partner (+topics), children,
# contacts, agreements, open commitments, timeline, last engagements, Mayor meeting, own permissions.
EXPECTED_PARTNER = 13
# Engagement: session, user, role, engagement, its partners (+parents), their topics, its contacts,
# staff, topics, contacts in post, agreements, open commitments, earlier engagements, own permissions.
EXPECTED_ENGAGEMENT = 14


@pytest.mark.parametrize("size", [3, 40])
def test_briefing_query_counts_are_pinned_and_independent_of_size(client, staff_user, django_assert_num_queries, size):
    partner, upcoming = _graph(size, staff_user)
    client.force_login(staff_user)
    with django_assert_num_queries(EXPECTED_PARTNER):
        response = client.get(f"/partners/{partner.pk}/briefing/")
    assert response.status_code == 200 and "Budget partner" in response.content.decode()
    with django_assert_num_queries(EXPECTED_ENGAGEMENT):
        response = client.get(f"/engagements/{upcoming.pk}/briefing/")
    assert response.status_code == 200 and "Co-partner 0" in response.content.decode()
