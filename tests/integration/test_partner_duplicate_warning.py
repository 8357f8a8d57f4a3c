"""A new partner is checked for duplicates (issue 17, point 8): no silent second "City of Paris, FR".

A name like an existing partner's (partners.similarity, the duplicates page's
rule) in the same country or of the same kind stops the save with a warning
that links to the existing partner; ticking "Add it anyway" creates it.
The page form and the meeting form's quick-add behave alike; editing a
partner and the API are not checked (the API creates as before).
"""

import re

import pytest
from django.utils.html import escape

from partners.models import Partner
from tests import factories
from tests.forms import form_data

pytestmark = pytest.mark.django_db

WARNING = "A partner with a similar name is already in the CRM"


@pytest.fixture
def paris(db):
    return factories.PartnerFactory(name="City of Paris", country="FR", kind="city", city="Paris")


def _new_partner(client, **values) -> dict:
    data = form_data(client.get("/partners/new/").content.decode(), "name")
    data.update({"kind": ["city"], "priority": ["2"], "status": ["active"]})
    data.update({k: [v] for k, v in values.items()})
    return data


def test_a_similar_name_in_the_same_country_warns_with_a_link_then_adds_when_confirmed(client, officer, paris):
    client.force_login(officer)
    data = _new_partner(client, name="Paris", country="FR", city="Paris")
    response = client.post("/partners/new/", data)
    assert response.status_code == 200
    page = response.content.decode()
    assert WARNING in page
    assert f'<a href="{paris.get_absolute_url()}">City of Paris</a>' in page
    assert escape("same name but for “city”; same country (France); same kind (City or region)") in page
    assert 'name="create_anyway"' in page
    assert Partner.objects.filter(name="Paris").count() == 0  # nothing written yet
    # What was typed is kept.
    kept = form_data(page, "name")
    assert kept["name"] == ["Paris"] and kept["country"] == ["FR"]

    kept["create_anyway"] = ["on"]
    done = client.post("/partners/new/", kept)
    assert done.status_code == 302
    assert Partner.objects.filter(name="Paris", country="FR").count() == 1


def test_the_exact_same_name_is_caught_and_other_places_are_not(client, officer, paris):
    client.force_login(officer)
    again = client.post("/partners/new/", _new_partner(client, name="City of Paris", country="FR"))
    assert WARNING in again.content.decode() and "same name;" in again.content.decode()
    assert Partner.objects.filter(name="City of Paris").count() == 1
    # Another name of another country and kind: no warning, created at once.
    other = client.post("/partners/new/", _new_partner(client, name="Embassy of Paraguay", country="US",
                                                       kind="diplomatic_mission"))
    assert other.status_code == 302
    # A city's name that is a national government's plus "City": not the same body.
    factories.PartnerFactory(name="Government of Mexico", country="MX", kind="national_government")
    mexico_city = client.post("/partners/new/", _new_partner(client, name="Government of Mexico City", country="MX"))
    assert mexico_city.status_code == 302, WARNING in mexico_city.content.decode()


def test_the_same_kind_in_another_country_warns_too(client, officer):
    client.force_login(officer)
    factories.PartnerFactory(name="Embassy of Japan", country="US", kind="diplomatic_mission")
    response = client.post("/partners/new/", _new_partner(client, name="Embassy of Japan", country="",
                                                          kind="diplomatic_mission"))
    assert WARNING in response.content.decode()
    assert "same kind (Diplomatic mission)" in response.content.decode()


def test_editing_a_partner_is_not_checked(client, officer, paris):
    client.force_login(officer)
    twin = factories.PartnerFactory(name="Paris", country="FR", kind="city")
    url = f"/partners/{twin.pk}/edit/"
    data = form_data(client.get(url).content.decode(), "name")
    assert "create_anyway" not in data
    data["city"] = ["Paris"]
    assert client.post(url, data).status_code == 302


def test_the_quick_add_warns_and_adds_when_confirmed(client, staff_user, paris):
    client.force_login(staff_user)
    data = {"newpartner-name": "Ville de Paris", "newpartner-kind": "city", "newpartner-country": "FR",
            "newpartner-city": ""}
    response = client.post("/partners/quick/", data, HTTP_HX_REQUEST="true")
    fragment = response.content.decode()
    assert WARNING in fragment
    assert re.search(rf'<a href="{paris.get_absolute_url()}" target="_blank" rel="noopener">City of Paris', fragment)
    assert "HX-Trigger" not in response.headers
    assert not Partner.objects.filter(name="Ville de Paris").exists()
    data["newpartner-create_anyway"] = "on"
    confirmed = client.post("/partners/quick/", data, HTTP_HX_REQUEST="true").content.decode()
    # Confirmed: it travels with the meeting and is created only when the meeting is saved.
    assert "<strong>Ville de Paris</strong>" in confirmed and "will be added when you save this meeting" in confirmed
    assert not Partner.objects.filter(name="Ville de Paris").exists()
    meeting = {
        "title": "Call with the Mayor of Paris's office", "kind": "call", "status": "held",
        "starts_at": "2025-06-02T10:00", "time_zone": "America/Los_Angeles", "confidentiality": "internal",
        "commitments-TOTAL_FORMS": "0", "commitments-INITIAL_FORMS": "0",
        "commitments-MIN_NUM_FORMS": "0", "commitments-MAX_NUM_FORMS": "20", **data,
    }
    unconfirmed = {k: v for k, v in meeting.items() if k != "newpartner-create_anyway"}
    refused = client.post("/engagements/new/", unconfirmed)
    assert refused.status_code == 200 and WARNING in refused.content.decode()
    assert not Partner.objects.filter(name="Ville de Paris").exists()
    saved = client.post("/engagements/new/", meeting)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    added = Partner.objects.get(name="Ville de Paris")
    assert list(added.engagements.values_list("title", flat=True)) == ["Call with the Mayor of Paris's office"]


def test_the_api_creates_as_before(officer, paris):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=officer)[0].key}")
    response = api.post("/api/v1/partners/", {"name": "City of Paris", "kind": "city", "country": "FR"}, format="json")
    assert response.status_code == 201
    assert Partner.objects.filter(name="City of Paris").count() == 2
