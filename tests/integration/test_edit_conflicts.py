"""Edits that cannot overwrite each other, and creates that cannot double (issue 14).

On PostgreSQL, with real concurrency: each request runs in its own thread,
with its own database connection, started together at a barrier.

- Two API PATCHes of different fields of one engagement, 20 times: both
  changes survive every time (before: one was lost in most pairs, because
  every save rewrote every column).
- Two people save the edit page of one engagement opened at the same
  version: one is saved, the other gets the conflict page (409) with what
  they typed and what changed since; sending it again keeps both changes.
- A stale If-Match is refused with 412 and changes nothing; the ETag moves
  with every write.
- The meeting form posted twice, one after the other or at the same time:
  one engagement, one set of commitments; the second answer opens the first.
"""

import threading

import pytest
from django.db import connection
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from engagements.models import Commitment, Engagement
from tests import factories
from tests.forms import form_of

pytestmark = [pytest.mark.django_db(transaction=True)]


def together(*calls):
    """Run each call in its own thread (own DB connection), all released at once; their results."""
    barrier = threading.Barrier(len(calls))
    results, errors = [None] * len(calls), []

    def run(index, call):
        try:
            barrier.wait(timeout=20)
            results[index] = call()
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@pytest.fixture
def meeting(staff_user):
    partner = factories.PartnerFactory(name="Consulate General of Japan")
    return factories.EngagementFactory(
        title="Courtesy call", summary="Discussed the port.", location="City Hall", partners=[partner], staff=[staff_user]
    )


# --- API -------------------------------------------------------------------------------------


def api_as(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_twenty_pairs_of_concurrent_patches_of_different_fields_keep_both(
    postgres_required, staff_user, other_staff, meeting
):
    url = f"/api/v1/engagements/{meeting.pk}/"
    api_as(staff_user), api_as(other_staff)  # tokens made before the threads
    lost = []
    for round_ in range(20):
        summary, location = f"Summary of round {round_}", f"Room {round_}"
        answers = together(
            lambda: api_as(staff_user).patch(url, {"summary": summary}, format="json"),
            lambda: api_as(other_staff).patch(url, {"location": location}, format="json"),
        )
        assert [a.status_code for a in answers] == [200, 200], [a.content for a in answers]
        meeting.refresh_from_db()
        if (meeting.summary, meeting.location) != (summary, location):
            lost.append((round_, meeting.summary, meeting.location))
    assert lost == []
    # One history row per write, each with the full resulting state and its own version.
    rows = list(meeting.history.filter(version__gt=1).order_by("version").values_list("version", "summary", "location"))
    assert [v for v, *_ in rows] == list(range(2, 42))
    assert rows[-1][1:] == ("Summary of round 19", "Room 19")
    assert meeting.version == 41


def test_a_stale_if_match_is_refused_with_412_and_changes_nothing(postgres_required, officer, meeting):
    client = api_as(officer)
    url = f"/api/v1/engagements/{meeting.pk}/"
    first = client.get(url)
    assert first.status_code == 200 and first["ETag"] == 'W/"1"'

    saved = client.patch(url, {"summary": "Agreed on a port visit."}, format="json", HTTP_IF_MATCH=first["ETag"])
    assert saved.status_code == 200, saved.content
    assert saved["ETag"] == 'W/"2"' == client.get(url)["ETag"]

    history_before = meeting.history.count()
    for method in ("patch", "put", "delete"):
        stale = getattr(client, method)(url, {"location": "Harbour office"}, format="json", HTTP_IF_MATCH=first["ETag"])
        assert stale.status_code == 412, (method, stale.content)
    meeting.refresh_from_db()
    assert (meeting.summary, meeting.location, meeting.version) == ("Agreed on a port visit.", "City Hall", 2)
    assert meeting.history.count() == history_before

    # The current tag, or none at all, proceeds; the tag moves with each write.
    current = client.patch(url, {"location": "Harbour office"}, format="json", HTTP_IF_MATCH='W/"2"')
    assert current.status_code == 200 and current["ETag"] == 'W/"3"'
    unconditional = client.patch(url, {"outcomes": "Visit in May."}, format="json")
    assert unconditional.status_code == 200 and unconditional["ETag"] == 'W/"4"'
    meeting.refresh_from_db()
    assert (meeting.summary, meeting.location, meeting.outcomes) == ("Agreed on a port visit.", "Harbour office", "Visit in May.")


def test_etags_on_create_and_if_match_star_or_current_proceeds(postgres_required, officer, meeting):
    client = api_as(officer)
    created = client.post(
        "/api/v1/engagements/",
        {"title": "Follow-up call", "kind": "call", "starts_at": "2026-11-20T10:00:00+01:00", "partners": [meeting.partners.get().pk]},
        format="json",
    )
    assert created.status_code == 201 and created["ETag"] == 'W/"1"'
    url = f"/api/v1/engagements/{meeting.pk}/"
    assert client.patch(url, {"status": "cancelled"}, format="json", HTTP_IF_MATCH="*")["ETag"] == 'W/"2"'
    assert client.patch(url, {"status": "held"}, format="json", HTTP_IF_MATCH='"1", W/"2"').status_code == 200
    meeting.refresh_from_db()
    assert meeting.partners.count() == 1  # not named in any PATCH: untouched
    assert client.delete(url, HTTP_IF_MATCH='W/"3"').status_code == 204
    assert not Engagement.objects.filter(pk=meeting.pk).exists()


def test_a_patch_writes_only_the_fields_it_names(postgres_required, staff_user, meeting):
    """Another writer's change to a field the PATCH does not name survives it (no stale rewrite)."""
    stale_copy = Engagement.objects.get(pk=meeting.pk)
    Engagement.objects.filter(pk=meeting.pk).update(location="Changed behind the API's back")
    from engagements.services import engagement_update

    engagement_update(engagement=stale_copy, actor=staff_user, summary="Only this")
    meeting.refresh_from_db()
    assert (meeting.summary, meeting.location) == ("Only this", "Changed behind the API's back")
    assert meeting.history.latest("history_id").location == "Changed behind the API's back"


# --- Pages -----------------------------------------------------------------------------------


def test_two_stale_form_saves_one_is_saved_the_other_gets_the_conflict_page(
    postgres_required, staff_user, other_staff, meeting, client_for
):
    sam, olga = client_for(staff_user), client_for(other_staff)
    url = f"/engagements/{meeting.pk}/edit/"
    sams_form, olgas_form = form_of(sam.get(url)), form_of(olga.get(url))
    assert sams_form["version"] == olgas_form["version"] == ["1"]
    sams_form["summary"] = ["Sam's notes: the port visit is agreed for May."]
    olgas_form["location"] = ["Olga's room: Harbour office, 3rd floor"]

    sam_answer, olga_answer = together(lambda: sam.post(url, sams_form), lambda: olga.post(url, olgas_form))

    assert sorted([sam_answer.status_code, olga_answer.status_code]) == [302, 409]
    loser, winner = (olga, staff_user) if sam_answer.status_code == 302 else (sam, other_staff)
    conflict = olga_answer if sam_answer.status_code == 302 else sam_answer
    typed = olgas_form if loser is olga else sams_form
    page = conflict.content.decode()
    assert "someone changed this record while you were editing it" in page
    assert winner.get_full_name() in page  # who changed it
    kept = form_of(conflict)
    assert kept["summary"] == typed["summary"] and kept["location"] == typed["location"]  # nothing typed is lost
    assert kept["version"] == ["2"]
    meeting.refresh_from_db()
    assert meeting.version == 2 and meeting.history.filter(version__gt=1).count() == 1

    # Sent again from the conflict page: saved on top of the other change, both kept.
    again = loser.post(url, kept)
    assert again.status_code == 302
    meeting.refresh_from_db()
    assert meeting.version == 3
    assert {meeting.summary, meeting.location} >= {typed["summary"][0], typed["location"][0]}


def test_the_conflict_page_says_who_changed_what_since(postgres_required, staff_user, other_staff, meeting, client_for):
    sam, olga = client_for(staff_user), client_for(other_staff)
    url = f"/engagements/{meeting.pk}/edit/"
    sams_form, olgas_form = form_of(sam.get(url)), form_of(olga.get(url))
    sams_form["summary"] = ["Discussed the port <b>and</b> the ferry."]
    assert sam.post(url, sams_form).status_code == 302
    olgas_form["location"] = ["Harbour office"]
    conflict = olga.post(url, olgas_form)
    assert conflict.status_code == 409
    page = conflict.content.decode()
    assert "Sam Staff" in page
    assert "Discussed the port." in page  # was
    assert "Discussed the port &lt;b&gt;and&lt;/b&gt; the ferry." in page  # now, escaped
    assert 'value="Harbour office"' in page  # Olga's input
    meeting.refresh_from_db()
    assert meeting.location == "City Hall"


# --- Double submit ---------------------------------------------------------------------------


def meeting_form(client, partner) -> dict:
    data = form_of(client.get("/engagements/new/?commitments=2"))  # two commitment rows, as "Add a commitment" twice
    assert data["submit_token"][0]
    data.update(
        {
            "title": ["Port cooperation talks"],
            "kind": ["bilateral_meeting"],
            "partners": [str(partner.pk)],
            "commitments-0-description": ["Send the draft MoU"],
            "commitments-0-due_date": ["2030-01-15"],
            "commitments-1-description": ["Invite the delegation"],
            "commitments-1-no_due_date": ["on"],
        }
    )
    return data


def test_the_meeting_form_sent_twice_makes_one_engagement(postgres_required, staff_user, client_for):
    partner = factories.PartnerFactory(name="Port of Busan")
    client = client_for(staff_user)
    data = meeting_form(client, partner)
    first = client.post("/engagements/new/", data)
    second = client.post("/engagements/new/", data)
    engagement = Engagement.objects.get()
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == engagement.get_absolute_url()
    assert sorted(Commitment.objects.values_list("description", flat=True)) == ["Invite the delegation", "Send the draft MoU"]
    # A fresh page is a fresh form: it logs another meeting.
    assert client.post("/engagements/new/", meeting_form(client, partner)).status_code == 302
    assert Engagement.objects.count() == 2


def test_the_meeting_form_sent_twice_at_once_makes_one_engagement(postgres_required, staff_user, client_for):
    partner = factories.PartnerFactory(name="Port of Busan")
    data = meeting_form(client_for(staff_user), partner)
    clients = [client_for(staff_user), client_for(staff_user)]
    answers = together(*(lambda c=c: c.post("/engagements/new/", data) for c in clients))
    engagement = Engagement.objects.get()
    assert [a.status_code for a in answers] == [302, 302]
    assert {a["Location"] for a in answers} == {engagement.get_absolute_url()}
    assert Commitment.objects.filter(engagement=engagement).count() == 2
    assert Commitment.objects.count() == 2
