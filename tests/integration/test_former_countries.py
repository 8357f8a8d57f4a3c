"""Kosovo and the former countries (ISO 3166-3) as countries: stored, shown, filtered, imported (issue 16).

Real records name the U.S.S.R., Yugoslavia, Czechoslovakia and the German
Democratic Republic; Kosovo (XK) is a country of today. Forms list Kosovo
with the current countries, and the former ones last, in a group of their
own, so a new partner is not filed under a state that no longer exists by
mistake (diplomacy_crm.country_codes).
"""

import io
import re

import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from partners.models import Partner
from tests import factories
from tests.forms import form_data
from tests.integration.import_helpers import csv_bytes

pytestmark = pytest.mark.django_db

FORMER = {"SU": "U.S.S.R.", "YU": "Yugoslavia", "CS": "Czechoslovakia", "DD": "German Democratic Republic",
          "YD": "South Yemen", "AN": "Netherlands Antilles"}


@pytest.fixture
def api(officer):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=officer)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def _select(html: str, name: str) -> str:
    match = re.search(rf'<select name="{name}".*?</select>', html, re.S)
    assert match, name
    return match.group(0)


def test_the_partner_form_lists_former_countries_last_in_their_own_group(client, officer):
    client.force_login(officer)
    select = _select(client.get("/partners/new/").content.decode(), "country")
    current, _, former = select.partition('<optgroup label="Former countries (historical records)">')
    assert former, "no group of former countries"
    assert former.rstrip().endswith("</optgroup>\n</select>") or former.rstrip().endswith("</select>")
    for code, name in FORMER.items():
        assert f'<option value="{code}">{name}</option>' in former
        assert f'value="{code}"' not in current
    # Kosovo is a country of today: with the others, in alphabetical order.
    assert '<option value="XK">Kosovo</option>' in current
    assert current.index('value="KE"') < current.index('value="XK"') < current.index('value="KW"')
    assert '<option value="DE">Germany</option>' in current


def test_a_partner_in_a_former_country_is_saved_shown_and_filtered(client, officer):
    client.force_login(officer)
    data = form_data(client.get("/partners/new/").content.decode(), "name")
    data.update({"name": ["Embassy of the U.S.S.R."], "kind": ["diplomatic_mission"], "country": ["SU"],
                 "city": ["Washington"], "priority": ["2"], "status": ["active"]})
    response = client.post("/partners/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    embassy = Partner.objects.get(name="Embassy of the U.S.S.R.")
    assert embassy.country.code == "SU" and embassy.country.name == "U.S.S.R."
    factories.PartnerFactory(name="City of Belgrade", country="YU")
    factories.PartnerFactory(name="Pristina", country="XK")
    factories.PartnerFactory(name="Moscow", country="RU")

    page = client.get(embassy.get_absolute_url()).content.decode()
    assert "U.S.S.R." in page
    listed = client.get("/partners/", {"country": "SU"}).content.decode()
    assert "Embassy of the U.S.S.R." in listed and "Moscow" not in listed
    assert "Pristina" in client.get("/partners/", {"country": "XK"}).content.decode()
    # The list's filter offers them the same way: former countries last, in their own group.
    choice = _select(listed, "country")
    assert '<optgroup label="Former countries (historical records)">' in choice
    assert choice.index('value="ZW"') < choice.index('value="SU" selected')
    country_page = client.get("/countries/YU/")
    assert country_page.status_code == 200
    assert "Yugoslavia" in country_page.content.decode() and "City of Belgrade" in country_page.content.decode()

    # Editing a partner filed under a former country keeps it.
    url = f"/partners/{embassy.pk}/edit/"
    data = form_data(client.get(url).content.decode(), "name")
    assert data["country"] == ["SU"]
    data["city"] = ["Washington, D.C."]
    assert client.post(url, data).status_code == 302
    embassy.refresh_from_db()
    assert (embassy.country.code, embassy.city) == ("SU", "Washington, D.C.")


def test_the_api_accepts_filters_and_describes_them(api):
    for code in [*FORMER, "XK"]:
        response = api.post("/api/v1/partners/", {"name": f"Record in {code}", "kind": "other", "country": code},
                            format="json")
        assert response.status_code == 201, response.content
        assert response.json()["country"] == code
    found = api.get("/api/v1/partners/", {"country": "DD"}).json()
    names = [p["name"] for p in found.get("results", found)]
    assert names == ["Record in DD"]
    assert api.get("/api/v1/partners/", {"country": "QQ"}).status_code == 400
    refused = api.post("/api/v1/partners/", {"name": "Nowhere", "kind": "other", "country": "QQ"}, format="json")
    assert refused.status_code == 400 and "country" in refused.json()
    mission = api.post("/api/v1/trade-missions/", {"name": "Mission to Belgrade and Prague", "direction": "outbound",
                                                    "countries": ["YU", "CS"], "start_date": "1968-05-02",
                                                    "end_date": "1968-05-09"}, format="json")
    assert mission.status_code == 201, mission.content
    assert mission.json()["countries"] == ["YU", "CS"]
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/json").content.decode()
    assert '"SU"' in schema and '"XK"' in schema


def test_the_importer_reads_former_countries_by_code_and_name(tmp_path, topics):
    path = tmp_path / "partners.csv"
    path.write_bytes(csv_bytes([
        ["name", "kind", "country"],
        ["Embassy of the Soviet Union", "diplomatic_mission", "U.S.S.R."],
        ["Belgrade", "city", "Yugoslavia"],
        ["Prague", "city", "Czechoslovakia"],
        ["East Berlin", "city", "German Democratic Republic"],
        ["Leningrad", "city", "SU"],
        ["Pristina", "city", "Kosovo"],
        ["Prizren", "city", "XK"],
    ]))
    out = io.StringIO()
    call_command("import_data", "partners", str(path), stdout=out, stderr=io.StringIO())
    assert "7 created" in out.getvalue()
    assert dict(Partner.objects.values_list("name", "country")) == {
        "Embassy of the Soviet Union": "SU", "Belgrade": "YU", "Prague": "CS", "East Berlin": "DD",
        "Leningrad": "SU", "Pristina": "XK", "Prizren": "XK",
    }
