"""A refused request writes nothing: every create and edit page, given invalid input.

Each case fills the page's own form as a browser would (the values the page
shows, parsed from its HTML), makes one valid change and breaks one rule: a
field the form refuses, or a rule the model or the service holds (dates in
order, its own parent, attendees from the partners present). The answer is
the form again with the error next to the field, never a 500 or a redirect,
and the whole database, history included, is byte-for-byte what it was.
Deletes refused because the record is in use are swept in test_deletes.py.
"""

import datetime as dt

import pytest

from engagements.models import Engagement
from tests import factories
from tests.forms import form_data
from tests.snapshots import database_snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def records(db, staff_user):
    partner = factories.PartnerFactory(name="Port of Busan Authority", country="KR", city="Busan")
    contact = factories.ContactFactory(partner=partner, full_name="Hana Kim", email="hana@busan.example")
    stranger = factories.ContactFactory(full_name="Someone Else")
    other_partner = factories.PartnerFactory(name="Port of Incheon", country="KR")
    mission = factories.TradeMissionFactory(name="Korea ports mission")
    engagement = factories.EngagementFactory(title="Port call", partners=[partner], contacts=[contact], staff=[staff_user])
    return {
        "partner": partner,
        "contact": contact,
        "stranger": stranger,
        "other_partner": other_partner,
        "mission": mission,
        "engagement": engagement,
        "agreement": factories.AgreementFactory(title="Ports MOU", partners=[partner]),
        "commitment": factories.CommitmentFactory(description="Send the port study", partner=partner),
        "gift": factories.GiftFactory(description="Lacquered box", partner=partner),
    }


def _cases(r):
    """(url, field to change, valid new value, {fields that break a rule})."""
    p, e = r["partner"], r["engagement"]
    return [
        ("/partners/new/", "name", "Port of Incheon", {"kind": "not-a-kind"}),
        (f"/partners/{p.pk}/edit/", "name", "Renamed", {"parent": [str(p.pk)]}),  # its own parent (model rule)
        (f"/partners/{p.pk}/edit/", "city", "Changed", {"website": "not a url"}),
        ("/contacts/new/", "full_name", "Min-jun Park", {"partner": [str(p.pk)], "email": "not an email"}),
        (f"/contacts/{r['contact'].pk}/edit/", "title", "Changed", {"email": "not an email"}),
        ("/agreements/new/", "title", "Ports MOU 2", {"kind": "mou", "partners": [str(p.pk)],
                                                    "signed_on": "2025-05-02", "expires_on": "2025-05-01"}),
        (f"/agreements/{r['agreement'].pk}/edit/", "title", "Changed", {"signed_on": "2025-05-02",
                                                                       "expires_on": "2025-05-01"}),
        ("/engagements/new/", "title", "Another call", {"kind": "call", "partners": [str(p.pk)],
                                                       "starts_at": "2025-05-01T10:00", "ends_at": "2025-05-01T09:00"}),
        # The meeting is valid; its second promise breaks a commitment rule (the partner who made it, with two
        # partners present): the meeting and the first promise, written before it is checked, are rolled back.
        ("/engagements/new/?commitments=2", "title", "Call with two ports", {
            "kind": "call", "partners": [str(p.pk), str(r["other_partner"].pk)], "starts_at": "2025-05-01T10:00",
            "commitments-0-description": "Send the study", "commitments-0-made_by": "city",
            "commitments-0-due_date": "2025-06-01",
            "commitments-1-description": "They send theirs", "commitments-1-made_by": "partner",
            "commitments-1-partner": "", "commitments-1-no_due_date": "on"}),
        (f"/engagements/{e.pk}/edit/", "title", "Changed", {"ends_at": "2000-01-01T00:00"}),
        (f"/engagements/{e.pk}/edit/", "summary", "Changed", {"contacts": [str(r["stranger"].pk)]}),  # service rule
        (f"/engagements/{e.pk}/edit/", "title", "Changed", {"starts_at": "1700-01-01T10:00"}),
        ("/missions/new/", "name", "Japan ports mission", {"start_date": "2025-05-02", "end_date": "2025-05-01"}),
        (f"/missions/{r['mission'].pk}/edit/", "name", "Changed", {"end_date": "2000-01-01"}),
        ("/commitments/new/", "description", "Write back", {"made_by": "partner", "partner": ""}),
        (f"/commitments/{r['commitment'].pk}/edit/", "description", "Changed", {"made_by": "partner", "partner": ""}),
        ("/gifts/new/", "description", "A vase", {"direction": "given", "exchanged_on": "2025-05-01", "giver": "Mayor",
                                                 "recipient": "Envoy", "estimated_value": "-5"}),
        (f"/gifts/{r['gift'].pk}/edit/", "description", "Changed", {"estimated_value": "-5"}),
    ]


def test_refused_form_writes_change_nothing(client, officer, records):
    client.force_login(officer)
    for url, field, value, breaks in _cases(records):
        data = form_data(client.get(url).content.decode(), field)
        data[field] = [value]
        data.update({k: v if isinstance(v, list) else [v] for k, v in breaks.items()})
        before = database_snapshot()
        response = client.post(url, data)
        assert response.status_code == 200, (url, response.status_code)  # the form again, not a redirect
        body = response.content.decode()
        assert "usa-error-message" in body or "usa-alert--error" in body or "errorlist" in body, url
        assert database_snapshot() == before, (url, breaks)


def test_quick_adds_refuse_without_writing(client, staff_user, records):
    client.force_login(staff_user)
    before = database_snapshot()
    assert client.post("/partners/quick/", {"name": "", "kind": "city"}).status_code in (200, 400)
    # A person added on the meeting form is created with the meeting only: a refused meeting writes nobody.
    person = {"newcontact-TOTAL_FORMS": "1", "newcontact-INITIAL_FORMS": "0", "newcontact-0-full_name": "X",
              "newcontact-0-email": "not-an-email", "newcontact-0-partner": "999999"}
    assert client.post("/engagements/new/", {"title": "", **person}).status_code == 200
    assert database_snapshot() == before


def test_an_1876_engagement_is_edited_on_its_page(client, officer):
    engagement = factories.EngagementFactory(
        title="Visit of Emperor Pedro II",
        starts_at=dt.datetime(1876, 6, 21, 15, tzinfo=dt.UTC),
        ends_at=None,
        partners=[factories.PartnerFactory(name="Empire of Brazil", country="BR")],
    )
    versions = Engagement.history.filter(id=engagement.pk).count()
    client.force_login(officer)
    url = f"/engagements/{engagement.pk}/edit/"
    data = form_data(client.get(url).content.decode(), "title")
    data["title"] = ["Visit of Dom Pedro II"]
    response = client.post(url, data)
    assert response.status_code == 302
    engagement.refresh_from_db()
    assert engagement.title == "Visit of Dom Pedro II"
    # Not moved by the 2 seconds of 1876's local mean time, which the minute-wide field cannot show.
    assert engagement.starts_at == dt.datetime(1876, 6, 21, 15, tzinfo=dt.UTC)
    assert Engagement.history.filter(id=engagement.pk).count() == versions + 1
