"""Every record form: a stale save gets the conflict page with the input kept; a create page posted twice makes one record.

Sequential (runs on SQLite too); the concurrent versions, on PostgreSQL, are
in test_edit_conflicts.py. Each case opens the pages as a browser would (the
hidden version and one-time token included), so what is tested is what a
person gets.
"""

import pytest

from engagements.models import Commitment, Engagement, Gift, TradeMission
from partners.models import Agreement, Contact, Partner
from tests import factories
from tests.forms import form_of
from tests.world import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def officers(django_user_model):
    return (
        make_user(django_user_model, "omar_officer", "officer", first_name="Omar", last_name="Officer"),
        make_user(django_user_model, "ola_officer", "officer", first_name="Ola", last_name="Second"),
    )


# kind: (make the record, edit url, field the first person changes, field the second one changes)
EDITS = {
    "partner": (lambda: factories.PartnerFactory(name="Lyon"), "/partners/{}/edit/", "city", "description"),
    "contact": (lambda: factories.ContactFactory(), "/contacts/{}/edit/", "title", "protocol_notes"),
    "agreement": (
        lambda: factories.AgreementFactory(partners=[factories.PartnerFactory()]),
        "/agreements/{}/edit/",
        "title",
        "summary",
    ),
    "mission": (lambda: factories.TradeMissionFactory(), "/missions/{}/edit/", "objectives", "outcomes"),
    "engagement": (
        lambda: factories.EngagementFactory(partners=[factories.PartnerFactory()]),
        "/engagements/{}/edit/",
        "summary",
        "location",
    ),
    "commitment": (lambda: factories.CommitmentFactory(), "/commitments/{}/edit/", "description", "priority"),
    "gift": (lambda: factories.GiftFactory(), "/gifts/{}/edit/", "description", "giver"),
}


@pytest.mark.parametrize("kind", EDITS)
def test_a_stale_save_shows_the_conflict_page_and_keeps_the_input(kind, officers, client_for):
    make, url, first_field, second_field = EDITS[kind]
    record = make()
    url = url.format(record.pk)
    first, second = client_for(officers[0]), client_for(officers[1])
    firsts, seconds = form_of(first.get(url)), form_of(second.get(url))
    firsts[first_field] = ["1" if first_field == "priority" else "Changed first, by Omar"]
    seconds[second_field] = ["3" if second_field == "priority" else "Typed second, by Ola <i>with care</i>"]

    assert first.post(url, firsts).status_code == 302
    conflict = second.post(url, seconds)

    assert conflict.status_code == 409
    page = conflict.content.decode()
    assert "Omar Officer" in page and "Changed first, by Omar" in page  # who, and what they changed
    kept = form_of(conflict)
    assert kept[second_field] == seconds[second_field]  # the second person's input is still there
    record.refresh_from_db()
    assert str(getattr(record, second_field)) != seconds[second_field][0]  # and not saved yet
    assert record.version == 2

    # Sending the conflict page's form saves on top of the first change.
    assert second.post(url, kept).status_code == 302
    record.refresh_from_db()
    assert record.version == 3
    assert str(getattr(record, second_field)) == seconds[second_field][0]


def test_an_edit_form_without_a_version_saves_as_before(officers, client_for):
    partner = factories.PartnerFactory(name="Lyon")
    client = client_for(officers[0])
    data = form_of(client.get(f"/partners/{partner.pk}/edit/"))
    del data["version"]
    data["city"] = ["Lyon 2e"]
    assert client.post(f"/partners/{partner.pk}/edit/", data).status_code == 302
    partner.refresh_from_db()
    assert (partner.city, partner.version) == ("Lyon 2e", 2)


# kind: (create url, model, the values a person types(world))
CREATES = {
    "partner": ("/partners/new/", Partner, lambda: {"name": "Lyon", "kind": "city", "country": "FR", "priority": "2", "status": "active"}),
    "contact": ("/contacts/new/", Contact, lambda: {"partner": str(factories.PartnerFactory().pk), "full_name": "A. Person"}),
    "agreement": (
        "/agreements/new/",
        Agreement,
        lambda: {"title": "MoU", "kind": "mou", "partners": [str(factories.PartnerFactory().pk)], "status": "draft"},
    ),
    "mission": (
        "/missions/new/",
        TradeMission,
        lambda: {"name": "Mission", "direction": "outbound", "status": "planned", "countries": ["JP"],
                 "start_date": "2026-12-01", "end_date": "2026-12-05"},
    ),
    "commitment": ("/commitments/new/", Commitment, lambda: {"description": "Send the letter", "made_by": "city", "status": "open", "priority": "2", "no_due_date": "on"}),
    "engagement": (
        "/engagements/new/",
        Engagement,
        lambda: {"title": "Call", "kind": "call", "status": "held", "partners": [str(factories.PartnerFactory().pk)]},
    ),
    "gift": (
        "/gifts/new/",
        Gift,
        lambda: {"direction": "received", "exchanged_on": "2026-11-01", "giver": "H.E.", "recipient": "The Mayor",
                 "description": "Vase", "currency": "USD", "disposition": "pending"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("kind", CREATES)
def test_a_create_page_posted_twice_makes_one_record(kind, officers, client_for):
    url, model, typed = CREATES[kind]
    client = client_for(officers[0])
    data = {**form_of(client.get(url)), **typed()}
    assert data["submit_token"][0]
    before = model.objects.count()
    first = client.post(url, data)
    second = client.post(url, data)
    assert first.status_code == 302, first.content.decode()[:2000]
    assert second.status_code == 302 and second["Location"] == first["Location"]
    assert model.objects.count() == before + 1
    assert "already been saved" in client.get(second["Location"]).content.decode()


def test_a_token_is_one_persons(officers, client_for):
    """Someone else's token (leaked, replayed) neither creates nor leads to the other person's record."""
    first, second = client_for(officers[0]), client_for(officers[1])
    url, model, typed = CREATES["partner"]
    data = {**form_of(first.get(url)), **typed()}
    assert first.post(url, data).status_code == 302
    replay = second.post(url, {**data, "name": "Lyon again"})
    assert replay.status_code == 200 and "already sent" in replay.content.decode()
    assert model.objects.count() == 1


def test_a_malformed_token_is_no_token_not_a_500(officers, client_for):
    client = client_for(officers[0])
    url, model, typed = CREATES["partner"]
    response = client.post(url, {**form_of(client.get(url)), **typed(), "submit_token": "not-a-uuid"})
    assert response.status_code == 302 and model.objects.count() == 1


def test_the_conflict_page_lists_changed_links_too(officers, client_for):
    japan, korea = factories.PartnerFactory(name="Consulate General of Japan"), factories.PartnerFactory(name="Port of Busan")
    meeting = factories.EngagementFactory(partners=[japan])
    url = f"/engagements/{meeting.pk}/edit/"
    first, second = client_for(officers[0]), client_for(officers[1])
    firsts, seconds = form_of(first.get(url)), form_of(second.get(url))
    firsts["partners"] = [str(japan.pk), str(korea.pk)]
    assert first.post(url, firsts).status_code == 302
    seconds["summary"] = ["Ola's notes"]
    conflict = second.post(url, seconds)
    assert conflict.status_code == 409
    page = conflict.content.decode()
    assert "Consulate General of Japan; Port of Busan" in page
