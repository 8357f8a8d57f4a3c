"""Detail pages: who may open them, what they show, history, escaping."""

import pytest

from tests.factories import CommitmentFactory, EngagementFactory, PartnerFactory
from tests.world import PUBLIC, SECRET, SECRET_PROMISE

pytestmark = pytest.mark.django_db


def detail_urls(w):
    return {
        "engagement": (f"/engagements/{w['public'].pk}/", PUBLIC),
        "mission": (f"/missions/{w['mission'].pk}/", "Nonstop flights to Hanoi"),
        "commitment": (f"/commitments/{w['open_promise'].pk}/", "Send the hydrogen study"),
        "contact": (f"/contacts/{w['consul'].pk}/", "H.E. Kenji Sato"),
        "agreement": (f"/agreements/{w['agreement'].pk}/", "Green hydrogen MOU"),
    }


@pytest.mark.parametrize("page", ["engagement", "mission", "commitment", "contact", "agreement"])
@pytest.mark.parametrize("role", [None, "viewer", "staff_user", "other_staff", "officer", "superuser"])
def test_detail_pages_by_role(request, client_for, world, page, role):
    url, marker = detail_urls(world)[page]
    user = request.getfixturevalue(role) if role else None
    response = client_for(user).get(url)
    if user is None:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        return
    assert response.status_code == 200
    body = response.content.decode()
    assert marker in body
    assert body.count("<h1") == 1
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("role", ["viewer", "other_staff"])
def test_restricted_records_are_404_for_outsiders(request, client_for, world, role):
    client = client_for(request.getfixturevalue(role))
    for url in [f"/engagements/{world['restricted'].pk}/", f"/commitments/{world['secret_promise'].pk}/"]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert SECRET.encode() not in response.content
    # Edit pages: a viewer is refused (403) whatever the id, so nothing leaks;
    # staff who may edit get the same 404 as for a missing record.
    expected = 403 if role == "viewer" else 404
    for url in [f"/engagements/{world['restricted'].pk}/edit/", f"/commitments/{world['secret_promise'].pk}/edit/"]:
        response = client.get(url)
        assert response.status_code == expected, url
        assert SECRET.encode() not in response.content
    assert client.get("/engagements/999999/edit/").status_code == expected


@pytest.mark.parametrize("role", ["viewer", "other_staff"])
def test_mission_itinerary_leaves_out_restricted_meetings(request, client_for, world, role):
    body = client_for(request.getfixturevalue(role)).get(f"/missions/{world['mission'].pk}/").content.decode()
    assert SECRET not in body and SECRET_PROMISE not in body
    assert "No meetings on this mission yet." in body


@pytest.mark.parametrize("role", ["staff_user", "officer"])
def test_participants_and_officers_open_restricted_meetings(request, client_for, world, role):
    client = client_for(request.getfixturevalue(role))
    body = client.get(f"/engagements/{world['restricted'].pk}/").content.decode()
    assert SECRET in body and SECRET_PROMISE in body
    assert "Restricted." in body
    body = client.get(f"/missions/{world['mission'].pk}/").content.decode()
    assert SECRET in body and SECRET_PROMISE in body


def test_contact_page_lists_only_visible_meetings(client_for, world, viewer, officer):
    world["restricted"].contacts.add(world["consul"])
    world["restricted"].partners.add(world["japan"])
    url = f"/contacts/{world['consul'].pk}/"
    assert SECRET not in client_for(viewer).get(url).content.decode()
    body = client_for(officer).get(url).content.decode()
    assert SECRET in body and PUBLIC in body


def test_engagement_page_shows_the_whole_meeting(client_for, world, officer, staff_user):
    body = client_for(officer).get(f"/engagements/{world['public'].pk}/").content.decode()
    for text in [
        "Ministry of Economy (Japan)",  # partners
        "H.E. Kenji Sato",  # contact with honorific
        "Consul General",
        "Sam Staff",  # our staff
        "Climate and clean energy",  # topics
        "Hydrogen for the grid.",  # summary
        "Send the hydrogen study",  # its commitments
        "Internal",  # confidentiality badge
        "History",
        "Created",
    ]:
        assert text in body, text


def test_history_says_who_changed_what(client_for, world, officer, staff_user):
    from engagements import services

    engagement = world["public"]
    services.engagement_update(engagement=engagement, actor=staff_user, location="Tokyo City Hall", summary="New notes")
    body = client_for(officer).get(f"/engagements/{engagement.pk}/").content.decode()
    assert "Changed: location, summary" in body
    assert "Sam Staff" in body


def test_mission_page_has_objectives_delegates_itinerary_in_date_order(client_for, world, officer):
    mission = world["mission"]
    mission.delegates.add(world["consul"])
    early = EngagementFactory(title="Arrival in Hanoi", trade_mission=mission, starts_at=world["restricted"].starts_at.replace(year=2018))
    body = client_for(officer).get(f"/missions/{mission.pk}/").content.decode()
    assert "Nonstop flights to Hanoi" in body
    assert "H.E. Kenji Sato" in body
    assert body.index(early.title) < body.index(SECRET)


def test_commitment_page_links_its_meeting(client_for, world, viewer):
    body = client_for(viewer).get(f"/commitments/{world['open_promise'].pk}/").content.decode()
    assert f'href="/engagements/{world["public"].pk}/"' in body
    assert "Ministry of Economy (Japan)" in body


def test_partner_links_point_at_the_partner_history_page(client_for, world, viewer):
    body = client_for(viewer).get(f"/engagements/{world['public'].pk}/").content.decode()
    assert f'href="/partners/{world["japan"].pk}/"' in body


XSS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg onload=alert(1)>",
    "</textarea><script>alert(2)</script>",
    "{{ 7*7 }}{% debug %}",
]


@pytest.mark.parametrize("payload", XSS)
def test_markup_in_titles_and_notes_is_shown_escaped(client_for, db, officer, payload):
    partner = PartnerFactory(name=f"P {payload}")
    engagement = EngagementFactory(title=payload, summary=payload, outcomes=payload, location=payload, partners=[partner])
    commitment = CommitmentFactory(description=payload, engagement=engagement, partner=partner)
    client = client_for(officer)
    for url in [f"/engagements/{engagement.pk}/", f"/commitments/{commitment.pk}/", f"/engagements/{engagement.pk}/edit/"]:
        body = client.get(url).content.decode()
        assert "<script>alert" not in body, url
        assert "<img src=x" not in body, url
        assert "<svg onload" not in body, url
        assert "</textarea><script>" not in body, url
        if "{{" in payload:
            assert "{{ 7*7 }}{% debug %}" in body  # shown literally, never evaluated
