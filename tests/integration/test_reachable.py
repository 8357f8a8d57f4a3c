"""Issue 17, point 4: every capability reachable from the pages, and "Undo" after a delete.

Each link is found on the page a user sees, followed, and what it leads to
is checked: each record's history (and restore, for officers), an
engagement's briefing and .ics file, the importer and the duplicate finder
in the navigation for the roles that may use them. A delete's message
offers Undo, which brings the record back with its relations, for the
person who deleted it, never for an outsider.
"""

import html
import re

import pytest
from django.utils import timezone

from engagements.models import Commitment, Engagement
from tests.factories import (
    AgreementFactory,
    CommitmentFactory,
    ContactFactory,
    EngagementFactory,
    GiftFactory,
    PartnerFactory,
    TopicFactory,
    TradeMissionFactory,
)

pytestmark = pytest.mark.django_db


def _links(page: str) -> dict[str, str]:
    """Link text -> href, for every <a> on the page."""
    return {
        html.unescape(re.sub(r"<[^>]+>", "", text)).strip(): html.unescape(href)
        for href, text in re.findall(r'<a [^>]*?href="([^"]+)"[^>]*>(.*?)</a>', page, flags=re.S)
    }


@pytest.fixture
def records():
    partner = PartnerFactory(name="Ville de Lyon", country="FR")
    contact = ContactFactory(partner=partner, full_name="Grégory Doucet")
    meeting = EngagementFactory(title="Tramway exchange", partners=[partner], contacts=[contact])
    return {
        "partner": (partner, f"/partners/{partner.pk}/", "Ville de Lyon"),
        "contact": (contact, f"/contacts/{contact.pk}/", "Grégory Doucet"),
        "engagement": (meeting, f"/engagements/{meeting.pk}/", "Tramway exchange"),
        "commitment": (
            c := CommitmentFactory(description="Send the tramway study", partner=partner, engagement=meeting),
            f"/commitments/{c.pk}/", "Send the tramway study",
        ),
        "agreement": (a := AgreementFactory(title="Lyon memorandum", partners=[partner]), f"/agreements/{a.pk}/", "Lyon memorandum"),
        "mission": (m := TradeMissionFactory(name="Delegation to Lyon"), f"/missions/{m.pk}/", "Delegation to Lyon"),
        "gift": (g := GiftFactory(engagement=meeting, description="Silk scarf"), f"/gifts/{g.pk}/edit/", "Silk scarf"),
    }


@pytest.mark.parametrize("kind", ["partner", "contact", "engagement", "commitment", "agreement", "mission", "gift"])
def test_each_record_page_links_to_its_history_and_restore(client, officer, records, kind):
    record, path, title = records[kind]
    client.force_login(officer)
    links = _links(client.get(path).content.decode())
    history = links["History and restore"]
    assert history == f"/history/{kind}/{record.pk}/"
    page = client.get(history).content.decode()
    assert "History of" in page and html.escape(title)[:20] in page
    assert f"/history/{kind}/{record.pk}/restore/" in page  # an officer's restore buttons


def test_non_officers_get_the_history_without_restore(client, staff_user, records):
    record, path, _ = records["engagement"]
    client.force_login(staff_user)
    links = _links(client.get(path).content.decode())
    assert "History and restore" not in links
    page = client.get(links["Full history"]).content.decode()
    assert "History of" in page and "/restore/" not in page


def test_the_engagement_page_links_to_its_briefing_and_calendar_file(client, viewer, records):
    meeting, path, _ = records["engagement"]
    client.force_login(viewer)
    links = _links(client.get(path).content.decode())
    briefing = client.get(links["Briefing"])
    assert briefing.status_code == 200 and "Tramway exchange" in briefing.content.decode()
    ics = client.get(links["Add to calendar (.ics)"])
    assert ics["Content-Type"].startswith("text/calendar")
    assert "SUMMARY:Tramway exchange" in ics.content.decode()


@pytest.mark.parametrize(
    ("who", "import_shown", "duplicates_shown"),
    [("officer", True, True), ("staff_user", True, False), ("viewer", False, False)],
)
def test_import_and_duplicates_are_in_the_navigation_for_who_may_use_them(client, request, who, import_shown, duplicates_shown):
    client.force_login(request.getfixturevalue(who))
    links = _links(client.get("/").content.decode())
    assert ("Import" in links) is import_shown
    assert ("Duplicates" in links) is duplicates_shown
    if import_shown:
        assert "<h1>Import</h1>" in client.get(links["Import"]).content.decode()
    else:
        assert client.get("/import/").status_code == 403
    if duplicates_shown:
        page = client.get(links["Duplicates"]).content.decode()
        assert "Likely duplicates" in page
        # The current section is Duplicates alone, not Import too.
        assert page.count('aria-current="page"') == 1 and re.search(r'href="/import/duplicates/" aria-current="page"', page)


# --- Undo after a delete ---------------------------------------------------------------------------------------


def _undo_action(page: str) -> str:
    return html.unescape(re.search(r'<form method="post" action="([^"]+)" class="crm-undo">', page).group(1))


def test_undo_brings_a_deleted_engagement_back_with_its_relations(client, officer, staff_user):
    partners = [PartnerFactory(name="Ville de Lyon"), PartnerFactory(name="Métropole de Lyon")]
    contact = ContactFactory(partner=partners[0])
    topic = TopicFactory(name="Transport", slug="transport")
    meeting = EngagementFactory(title="Tramway exchange", partners=partners, contacts=[contact], topics=[topic],
                                staff=[staff_user])
    pk = meeting.pk
    client.force_login(officer)
    response = client.post(f"/engagements/{pk}/delete/", follow=True)
    page = response.content.decode()
    assert "“Tramway exchange” deleted." in page and ">Undo</button>" in page
    assert not Engagement.objects.filter(pk=pk).exists()
    action = _undo_action(page)
    assert action.startswith(f"/history/engagement/{pk}/undo/")
    response = client.post(action, follow=True)
    assert response.redirect_chain[-1][0] == f"/engagements/{pk}/"
    assert "“Tramway exchange” is back" in response.content.decode()
    back = Engagement.objects.get(pk=pk)
    assert {p.name for p in back.partners.all()} == {"Ville de Lyon", "Métropole de Lyon"}
    assert list(back.contacts.all()) == [contact] and list(back.topics.all()) == [topic]
    assert list(back.staff.all()) == [staff_user]
    # A second press changes nothing.
    rows = back.history.count()
    assert "already back" in client.post(action, follow=True).content.decode()
    assert back.history.count() == rows


def test_an_outsider_cannot_undo(client, officer, staff_user, viewer):
    meeting = EngagementFactory(title="Tramway exchange", partners=[PartnerFactory()])
    pk = meeting.pk
    client.force_login(officer)
    action = _undo_action(client.post(f"/engagements/{pk}/delete/", follow=True).content.decode())
    for outsider in (staff_user, viewer):
        client.force_login(outsider)
        assert client.post(action).status_code == 403
        assert not Engagement.objects.filter(pk=pk).exists()
    client.logout()
    assert client.post(action).status_code == 302  # to the login page
    assert not Engagement.objects.filter(pk=pk).exists()


def test_a_restricted_record_deleted_stays_hidden_from_outsiders(client, officer, other_staff):
    secret = EngagementFactory(title="Restricted talks", confidentiality="restricted", partners=[PartnerFactory()])
    pk = secret.pk
    client.force_login(officer)
    action = _undo_action(client.post(f"/engagements/{pk}/delete/", follow=True).content.decode())
    client.force_login(other_staff)
    assert client.post(action).status_code == 404
    assert not Engagement.objects.filter(pk=pk).exists()


def test_undo_a_commitment_delete(client, officer):
    partner = PartnerFactory(name="Ville de Lyon")
    promise = CommitmentFactory(description="Send the tramway study", partner=partner, due_date=timezone.localdate())
    pk = promise.pk
    client.force_login(officer)
    page = client.post(f"/commitments/{pk}/delete/", follow=True).content.decode()
    client.post(_undo_action(page))
    back = Commitment.objects.get(pk=pk)
    assert back.description == "Send the tramway study" and back.partner == partner
