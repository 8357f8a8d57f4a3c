"""List pages: login, roles, confidentiality in rows/counts/CSV, filters, sorting, pagination, CSV safety."""

import csv
import io

import pytest

from engagements.models import Commitment, Engagement
from partners.models import Partner
from tests.factories import CommitmentFactory, ContactFactory, EngagementFactory, PartnerFactory
from tests.world import PUBLIC, SECRET, SECRET_PROMISE

pytestmark = pytest.mark.django_db

LISTS = {
    "/partners/": "Ministry of Economy (Japan)",
    "/contacts/": "Kenji Sato",
    "/engagements/": PUBLIC,
    "/missions/": "Mayor&#x27;s trade mission to Asia",
    "/commitments/": "Send the hydrogen study",
    "/agreements/": "Green hydrogen MOU",
}


def rows_of(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.mark.parametrize("url", LISTS)
def test_it_sends_anonymous_visitors_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("url,marker", LISTS.items())
@pytest.mark.parametrize("role", ["viewer", "staff_user", "officer", "superuser"])
def test_every_role_reads_every_list(request, client_for, world, url, marker, role):
    response = client_for(request.getfixturevalue(role)).get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert marker in body
    assert body.count("<h1") == 1
    assert "Showing 1–" in body


@pytest.mark.parametrize("url", ["/engagements/", "/commitments/", "/engagements/?format=csv", "/commitments/?format=csv"])
@pytest.mark.parametrize("role", ["viewer", "other_staff"])
def test_it_hides_restricted_meetings_from_outsiders(request, client_for, world, url, role):
    response = client_for(request.getfixturevalue(role)).get(url)
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert SECRET.encode() not in body
    assert SECRET_PROMISE.encode() not in body
    if not response.streaming:
        assert "of <strong>1</strong>" in body.decode()  # the count leaves the hidden row out too


@pytest.mark.parametrize("url", ["/engagements/", "/commitments/", "/engagements/?format=csv", "/commitments/?format=csv"])
@pytest.mark.parametrize("role", ["staff_user", "officer", "superuser"])
def test_it_shows_restricted_meetings_to_officers_and_participants(request, client_for, world, url, role):
    response = client_for(request.getfixturevalue(role)).get(url)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert SECRET.encode() in body or SECRET_PROMISE.encode() in body
    if not response.streaming:
        assert "of <strong>2</strong>" in body.decode()


def test_partner_list_counts_only_visible_open_commitments(client_for, world, viewer, officer):
    rows = {r["name"]: r for r in rows_of(client_for(viewer).get("/partners/?format=csv"))}
    assert rows["Office of the Prime Minister of Viet Nam"]["open_commitments"] == "0"
    assert rows["Office of the Prime Minister of Viet Nam"]["last_engagement_at"] == ""
    assert rows["Ministry of Economy (Japan)"]["open_commitments"] == "1"
    rows = {r["name"]: r for r in rows_of(client_for(officer).get("/partners/?format=csv"))}
    assert rows["Office of the Prime Minister of Viet Nam"]["open_commitments"] == "1"
    assert rows["Office of the Prime Minister of Viet Nam"]["last_engagement_at"] != ""


def test_partner_list_shows_last_contact_and_open_commitments(client_for, world, officer):
    body = client_for(officer).get("/partners/").content.decode()
    assert "Last contact" in body and "Open commitments" in body
    assert world["public"].starts_at.strftime("%Y") in body


@pytest.mark.parametrize(
    "url,shown,hidden",
    [
        ("/partners/?country=VN", "Viet Nam", "Ministry of Economy"),
        ("/partners/?priority=1", "Ministry of Economy", "Prime Minister of Viet Nam"),
        ("/partners/?q=prime+minister", "Prime Minister of Viet Nam", "Ministry of Economy"),
        ("/engagements/?country=JP", PUBLIC, SECRET),
        ("/engagements/?topic=climate", PUBLIC, SECRET),
        ("/engagements/?confidentiality=restricted", SECRET, PUBLIC),
        ("/commitments/?q=hydrogen", "Send the hydrogen study", SECRET_PROMISE),
        ("/contacts/?q=sato", "Kenji Sato", "Nobody"),
        ("/agreements/?status=draft", "No matching records", "Green hydrogen MOU"),
        ("/missions/?country=VN", "trade mission to Asia", "No matching records"),
        ("/missions/?country=FR", "No matching records", "trade mission to Asia"),
    ],
)
def test_filters_narrow_the_list(client_for, world, officer, url, shown, hidden):
    body = client_for(officer).get(url).content.decode()
    assert shown in body
    assert hidden not in body


@pytest.mark.parametrize(
    "url,field",
    [
        ("/partners/?priority=9", "priority"),
        ("/partners/?country=XX", "country"),
        ("/engagements/?starts_after=notadate", "starts_after"),
        ("/engagements/?kind=party", "kind"),
        ("/engagements/?partner=-1", "partner"),
        ("/commitments/?due_before=2025-02-30", "due_before"),
        ("/commitments/?owner=nobody", "owner"),
        ("/agreements/?expires_before=yesterday", "expires_before"),
        ("/contacts/?partner=abc", "partner"),
        ("/missions/?status=lost", "status"),
        ("/partners/?ordering=password", "ordering"),
        ("/engagements/?q=%00", "q"),
    ],
)
def test_an_invalid_filter_is_a_form_error_next_to_its_field(client_for, world, officer, url, field):
    response = client_for(officer).get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Some filter values are not valid" in body
    assert "usa-error-message" in body
    assert f'id="id_{field}-error"' in body
    if field != "ordering":
        assert 'aria-invalid="true"' in body
    csv_response = client_for(officer).get(url + "&format=csv")
    assert csv_response.status_code == 400


def test_unknown_parameters_and_bad_page_numbers_are_harmless(client_for, world, officer):
    client = client_for(officer)
    for url in ["/engagements/?nonsense=1", "/engagements/?page=abc", "/engagements/?page=999999", "/engagements/?page=-1"]:
        response = client.get(url)
        assert response.status_code == 200
        assert PUBLIC in response.content.decode()


def test_clicking_a_header_sorts_and_the_header_says_so(client_for, db, officer):
    for name in ["Bravo", "Alpha", "Charlie"]:
        PartnerFactory(name=name)
    client = client_for(officer)
    body = client.get("/partners/?ordering=-name").content.decode()
    assert body.index("Charlie") < body.index("Bravo") < body.index("Alpha")
    assert 'aria-sort="descending"' in body
    assert 'href="?ordering=name"' in body  # clicking again reverses
    body = client.get("/partners/?ordering=name&kind=city").content.decode()
    assert body.index("Alpha") < body.index("Bravo") < body.index("Charlie")
    assert 'name="ordering" value="name"' in body  # the filter form keeps the sort


def test_engagements_sort_by_date_both_ways(client_for, world, officer):
    client = client_for(officer)
    body = client.get("/engagements/?ordering=starts_at").content.decode()
    assert body.index(PUBLIC) < body.index(SECRET)
    body = client.get("/engagements/?ordering=-starts_at").content.decode()
    assert body.index(SECRET) < body.index(PUBLIC)


def test_pages_hold_25_rows_and_links_keep_the_filter(client_for, db, officer):
    for i in range(30):
        PartnerFactory(name=f"Sister city {i:02}", country="MX")
    PartnerFactory(name="Elsewhere", country="FR")
    client = client_for(officer)
    first = client.get("/partners/?country=MX&ordering=name").content.decode()
    assert first.count('data-label="Name"') == 25
    assert "of <strong>30</strong>" in first
    assert 'href="?country=MX&amp;ordering=name&amp;page=2"' in first
    second = client.get("/partners/?country=MX&ordering=name&page=2").content.decode()
    assert second.count('data-label="Name"') == 5
    assert "Sister city 29" in second and "Elsewhere" not in second


def test_csv_has_exactly_the_filtered_visible_rows_of_all_pages(client_for, db, viewer, staff_user):
    japan = PartnerFactory(name="Japan partner", country="JP")
    for i in range(30):
        EngagementFactory(title=f"Call {i}", partners=[japan])
    EngagementFactory(title="Elsewhere", partners=[PartnerFactory(country="FR")])
    EngagementFactory(title=SECRET, partners=[japan], confidentiality="restricted", staff=[staff_user])
    response = client_for(viewer).get("/engagements/?country=JP&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = rows_of(response)
    assert sorted(r["title"] for r in rows) == sorted(f"Call {i}" for i in range(30))
    assert {r["partners"] for r in rows} == {"Japan partner"}
    staff_rows = rows_of(client_for(staff_user).get("/engagements/?country=JP&format=csv"))
    assert len(staff_rows) == 31


@pytest.mark.parametrize("payload", ["=HYPERLINK(\"http://evil.example\",\"x\")", "+cmd|' /C calc'!A0", "-1+1", "@SUM(A1:A2)", "\tTab", "\rCR"])
def test_csv_neutralises_formulas(client_for, db, officer, payload):
    partner = PartnerFactory(name=payload)
    ContactFactory(partner=partner, full_name=payload)
    CommitmentFactory(description=payload, partner=partner)
    client = client_for(officer)
    assert rows_of(client.get("/partners/?format=csv"))[0]["name"] == "'" + payload
    assert rows_of(client.get("/contacts/?format=csv"))[0]["full_name"] == "'" + payload
    assert rows_of(client.get("/commitments/?format=csv"))[0]["description"] == "'" + payload


def test_csv_keeps_ordinary_text_untouched(client_for, db, officer):
    PartnerFactory(name="Secretaría de Relaciones Exteriores — 東京都")
    rows = rows_of(client_for(officer).get("/partners/?format=csv"))
    assert rows[0]["name"] == "Secretaría de Relaciones Exteriores — 東京都"


def test_a_title_with_markup_is_shown_escaped_in_lists(client_for, db, officer):
    payload = '"><img src=x onerror=alert(1)><script>alert(1)</script>'
    partner = PartnerFactory(name=payload)
    EngagementFactory(title=payload, partners=[partner])
    client = client_for(officer)
    for url in ["/engagements/", "/partners/"]:
        body = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body
        assert "<img src=x" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_commitment_filters_overdue_and_owner(client_for, db, officer, staff_user):
    import datetime as dt

    from django.utils import timezone

    CommitmentFactory(description="Late promise", due_date=timezone.localdate() - dt.timedelta(days=3), owner=staff_user)
    CommitmentFactory(description="Future promise", owner=officer)
    client = client_for(officer)
    body = client.get("/commitments/?overdue=true").content.decode()
    assert "Late promise" in body and "Future promise" not in body
    body = client.get(f"/commitments/?owner={officer.username}").content.decode()
    assert "Future promise" in body and "Late promise" not in body


def test_list_pages_offer_add_buttons_by_permission(client_for, world, viewer, staff_user, officer):
    assert "Log a meeting" not in client_for(viewer).get("/engagements/").content.decode()
    assert 'href="/engagements/new/"' in client_for(staff_user).get("/engagements/").content.decode()
    assert "Add agreement" not in client_for(staff_user).get("/agreements/").content.decode()
    assert "Add agreement" in client_for(officer).get("/agreements/").content.decode()


def test_archived_partners_are_marked(client_for, db, officer):
    PartnerFactory(name="Old friend", status=Partner.Status.INACTIVE)
    body = client_for(officer).get("/partners/?status=inactive").content.decode()
    assert "Old friend" in body and "Archived" in body


def test_model_state_is_untouched_by_list_reads(client_for, world, officer):
    before = (Engagement.objects.count(), Commitment.objects.count())
    client_for(officer).get("/engagements/?format=csv")
    assert (Engagement.objects.count(), Commitment.objects.count()) == before
