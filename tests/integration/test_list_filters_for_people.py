"""Filters for people (issue 17, point 6): folded `q` on every list and API filter, pickers instead of
raw ids, "Any" instead of "---------", date inputs, chips that remove a filter, a page-size choice,
and a form that still works as a plain GET without JavaScript. Real PostgreSQL.
"""

import datetime as dt
import re

import pytest
from django.utils import timezone

from tests import factories
from tests.api.conftest import token_client

pytestmark = pytest.mark.django_db


LISTS = ["/partners/", "/contacts/", "/engagements/", "/missions/", "/commitments/", "/agreements/", "/gifts/"]


def rows_of(body: str) -> str:
    """The results table of a list page (the filter form and chips stripped)."""
    start = body.find("<tbody>")
    return body[start: body.find("</tbody>", start)] if start >= 0 else ""


@pytest.fixture
def sao_paulo(db):
    city = factories.PartnerFactory(name="Prefeitura de São Paulo", city="São Paulo", country="BR")
    other = factories.PartnerFactory(name="City of Sapporo", city="Sapporo", country="JP")
    return city, other


@pytest.mark.parametrize("q", ["Sao Paulo", "sao paulo", "SÃO PAULO", "são paulo", "PREFEITURA SAO"])
def test_sao_paulo_finds_sao_paulo_on_the_partner_list(client_for, officer, sao_paulo, q):
    body = client_for(officer).get("/partners/", {"q": q}).content.decode()
    table = rows_of(body)
    assert "Prefeitura de São Paulo" in table
    assert "City of Sapporo" not in table


@pytest.mark.parametrize("q", ["Sao Paulo", "SAO PAULO", "são paulo"])
def test_sao_paulo_finds_sao_paulo_in_the_api(officer, sao_paulo, q):
    city, _ = sao_paulo
    response = token_client(officer).get("/api/v1/partners/", {"q": q})
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == [city.name]


def test_every_list_and_api_filter_folds_accents_across_joins(client_for, officer, staff_user, sao_paulo):
    city, _ = sao_paulo
    factories.ContactFactory(partner=city, full_name="José Ñúñez")
    meeting = factories.EngagementFactory(title="Café com a Prefeitura", partners=[city], staff=[staff_user])
    factories.CommitmentFactory(description="Enviar o relatório", partner=city, engagement=meeting, owner=officer)
    factories.AgreementFactory(title="Memorando de Cooperação", partners=[city])
    factories.TradeMissionFactory(name="Missão a São Paulo", cities="São Paulo")
    factories.GiftFactory(description="Livro sobre a história da cidade", partner=city, giver="Prefeitura")
    client = client_for(officer)
    api = token_client(officer)
    cases = [
        ("/contacts/", "jose nunez", "José Ñúñez", "contacts/"),
        ("/contacts/", "SAO PAULO", "José Ñúñez", "contacts/"),  # the partner's name, through the join
        ("/engagements/", "cafe", "Café com a Prefeitura", "engagements/"),
        ("/commitments/", "relatorio", "Enviar o relatório", "commitments/"),
        ("/commitments/", "sao paulo", "Enviar o relatório", "commitments/"),
        ("/agreements/", "cooperacao", "Memorando de Cooperação", "agreements/"),
        ("/missions/", "missao sao", "Missão a São Paulo", "trade-missions/"),
        ("/gifts/", "historia", "Livro sobre a história da cidade", "gifts/"),
    ]
    for path, q, expected, api_path in cases:
        body = client.get(path, {"q": q}).content.decode()
        assert expected in rows_of(body), (path, q)
        response = api.get(f"/api/v1/{api_path}", {"q": q})
        assert response.status_code == 200, (api_path, response.content)
        assert response.json()["count"] == 1, (api_path, q)


def test_wildcards_in_q_are_literal(client_for, officer, sao_paulo):
    body = client_for(officer).get("/partners/", {"q": "%"}).content.decode()
    assert "No matching records" in body
    body = client_for(officer).get("/partners/", {"q": "S_o"}).content.decode()
    assert "No matching records" in body


def test_filter_forms_offer_pickers_dates_and_any_never_raw_ids(client_for, officer):
    mission = factories.TradeMissionFactory(name="Mayor's delegation to Asia")
    client = client_for(officer)
    for path in LISTS:
        body = client.get(path).content.decode()
        assert "---------" not in body, path
        assert "Partner id" not in body and "Trade mission id" not in body and "Engagement id" not in body, path
        assert "Apply filters" in body and "<noscript>" in body, path  # the no-JS fallback only
        assert 'data-autofilter' in body, path
    body = client.get("/commitments/").content.decode()
    assert re.search(r'<select name="partner"[^>]*data-typeahead[^>]*data-lookup-url="/partners/lookup/"', body)
    assert re.search(r'<select name="trade_mission"[^>]*data-typeahead', body)
    assert f'<option value="{mission.pk}">Mayor&#x27;s delegation to Asia' in body
    assert re.search(r'<input type="date" name="due_before"', body)
    assert 'name="engagement"' not in body  # only shown when a link set it
    body = client.get("/partners/").content.decode()
    assert re.search(r'<select name="country"[^>]*data-typeahead', body)
    assert re.search(r'<select name="owner"[^>]*data-typeahead', body)
    assert ">Any</option>" in body


def test_owners_are_offered_and_shown_by_name(client_for, officer, staff_user):
    partner = factories.PartnerFactory(name="Vietnam Airlines", owner=staff_user)
    factories.CommitmentFactory(description="Send the route-incentive package", partner=partner, owner=staff_user,
                                due_date=timezone.localdate() + dt.timedelta(days=3))
    client = client_for(officer)
    body = client.get("/commitments/").content.decode()
    assert '<option value="sam_staff">Sam Staff</option>' in body
    body = client.get("/commitments/", {"owner": "sam_staff"}).content.decode()
    assert "Owner: <strong>Sam Staff</strong>" in body  # the chip reads the name, not the username
    body = client.get(partner.get_absolute_url()).content.decode()
    assert "owner Sam Staff" in body and "owner sam_staff" not in body


def test_a_chosen_partner_shows_by_name_in_the_picker_and_the_chip(client_for, officer, sao_paulo):
    city, other = sao_paulo
    factories.ContactFactory(partner=city, full_name="Ana Souza")
    factories.ContactFactory(partner=other, full_name="Kenji Sato")
    body = client_for(officer).get("/contacts/", {"partner": city.pk}).content.decode()
    assert f'<option value="{city.pk}" selected>Prefeitura de São Paulo (BR)</option>' in body
    assert "Partner: <strong>Prefeitura de São Paulo (BR)</strong>" in body
    assert "Ana Souza" in rows_of(body) and "Kenji Sato" not in rows_of(body)


def test_a_chip_links_to_the_list_without_its_filter(client_for, officer, sao_paulo):
    client = client_for(officer)
    body = client.get("/partners/", {"country": "BR", "kind": "", "q": "prefeitura", "page": "1"}).content.decode()
    chips = dict(re.findall(r'<a class="crm-chip" href="([^"]+)" data-chip="(\w+)"', body))
    by_name = {name: href.replace("&amp;", "&") for href, name in chips.items()}
    assert set(by_name) == {"country", "q"}  # empty parameters make no chip
    assert "Country: <strong>Brazil</strong>" in body
    assert by_name["country"] == "/partners/?kind=&q=prefeitura"  # the page number goes too
    assert by_name["q"] == "/partners/?country=BR&kind="
    # Following the chip removes the filter: the other partner is back.
    body = client.get(by_name["country"]).content.decode()
    assert "crm-chip" in body and 'data-chip="country"' not in body
    body = client.get("/partners/?country=BR").content.decode()
    assert "City of Sapporo" not in rows_of(body)
    body = client.get(re.findall(r'<a class="crm-chip" href="([^"]+)"', body)[0].replace("&amp;", "&")).content.decode()
    assert "City of Sapporo" in rows_of(body) and "crm-chip" not in body


def test_page_size_choice(client_for, officer):
    factories.PartnerFactory.create_batch(60)
    client = client_for(officer)

    def shown(params):
        body = client.get("/partners/", params).content.decode()
        return rows_of(body).count("<tr"), body

    count, body = shown({})
    assert count == 25 and "Showing 1–25 of <strong>60</strong>" in body
    assert '<option value="25" selected>25</option>' in body
    count, body = shown({"per_page": "50"})
    assert count == 50 and '<option value="50" selected>50</option>' in body
    assert "per_page=50" in body  # pagination links keep the size
    assert 'data-chip="per_page"' not in body  # a display choice, not a filter
    count, _ = shown({"per_page": "100"})
    assert count == 60
    for bad in ("7", "-1", "abc", "100000", "1e9"):
        count, body = shown({"per_page": bad})
        assert count == 25, bad
    response = token_client(officer).get("/api/v1/partners/", {"per_page": "abc"})
    assert response.status_code == 200 and len(response.json()["results"]) == 25


def test_plain_get_without_javascript_filters_and_keeps_the_values(client_for, officer, staff_user, sao_paulo):
    city, other = sao_paulo
    soon = timezone.localdate() + dt.timedelta(days=10)
    factories.CommitmentFactory(description="Early one", partner=city, owner=officer, due_date=soon)
    factories.CommitmentFactory(description="Late one", partner=other, owner=officer, due_date=soon + dt.timedelta(days=30))
    # What the browser sends when the Apply button (inside <noscript>) submits the form: every field, empty or not.
    params = {"q": "", "status": "", "made_by": "", "owner": "", "partner": "", "trade_mission": "", "overdue": "",
              "due_before": (soon + dt.timedelta(days=1)).isoformat(), "due_after": "", "per_page": "25"}
    body = client_for(officer).get("/commitments/", params).content.decode()
    assert "Early one" in rows_of(body) and "Late one" not in rows_of(body)
    assert f'value="{params["due_before"]}"' in body  # the date input shows what was chosen
    assert "Due before: <strong>" in body
    # A starts_after date (no time) is accepted by the engagements' date-time filter.
    body = client_for(officer).get("/engagements/", {"starts_after": soon.isoformat()}).content.decode()
    assert "Some filter values are not valid" not in body


def test_commitment_titled_by_its_promise_and_planned_meetings_ask_who_will_be_there(client_for, officer):
    partner = factories.PartnerFactory(name="Vietnam Airlines")
    commitment = factories.CommitmentFactory(description="Send Vietnam Airlines the route-incentive package",
                                             partner=partner, owner=officer)
    body = client_for(officer).get(commitment.get_absolute_url()).content.decode()
    h1 = re.search(r"<h1[^>]*>(.*?)</h1>", body, re.S).group(1)
    assert h1.strip() == "Send Vietnam Airlines the route-incentive package"
    assert "Commitment with Vietnam Airlines" not in body
    planned = factories.EngagementFactory(title="Courtesy visit", status="planned",
                                          starts_at=timezone.now() + dt.timedelta(days=3))
    held = factories.EngagementFactory(title="Working lunch", status="held",
                                       starts_at=timezone.now() - dt.timedelta(days=3))
    assert "Who will be there" in client_for(officer).get(planned.get_absolute_url()).content.decode()
    body = client_for(officer).get(held.get_absolute_url()).content.decode()
    assert "Who was there" in body and "Who will be there" not in body


def test_dashboard_has_one_log_a_meeting_button(client_for, staff_user):
    body = client_for(staff_user).get("/").content.decode()
    assert body.count(">Log a meeting<") == 1
    assert client_for(staff_user).get("/partners/").content.decode().count(">Log a meeting<") == 1


def test_the_partner_pickers_lookup_folds_accents_too(client_for, officer, sao_paulo):
    city, _ = sao_paulo
    factories.ContactFactory(partner=city, full_name="José Ñúñez")
    client = client_for(officer)
    results = client.get("/partners/lookup/", {"q": "sao paulo"}).json()["results"]
    assert [r["name"] for r in results] == [city.name]
    results = client.get("/contacts/lookup/", {"q": "jose nunez"}).json()["results"]
    assert len(results) == 1
