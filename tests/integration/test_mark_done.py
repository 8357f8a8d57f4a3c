"""Issue 17, point 3: one-click "mark done", and the reminder email's signed link.

The service (engagements.services.commitment_mark_done): idempotent on a
double click, version-checked like every edit, the note kept in history,
refused by accounts.access.may_mark_done. The page (/commitments/<id>/done/):
the no-JS POST from a list goes back where it came from; a GET (the email's
link) only shows a confirmation; the token is bound to one user and one
commitment, expires, and an altered one says so.
"""

import datetime as dt
import threading
from urllib.parse import urlparse

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from diplomacy_crm.services import EditConflict
from engagements import done_links, services
from engagements.models import Commitment
from tests.factories import CommitmentFactory, EngagementFactory, PartnerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def promise(staff_user):
    partner = PartnerFactory(name="Ville de Lyon", country="FR")
    return CommitmentFactory(
        description="Send the tramway study", partner=partner, owner=staff_user,
        due_date=timezone.localdate() - dt.timedelta(days=2),
    )


def _done_url(commitment, token=None) -> str:
    url = reverse("engagements:commitment-done", args=[commitment.pk])
    return f"{url}?t={token}" if token is not None else url


# --- the service -------------------------------------------------------------------------------------


def test_mark_done_writes_one_history_row_with_the_note_and_a_second_click_changes_nothing(staff_user, promise):
    assert services.commitment_mark_done(commitment=promise, user=staff_user, note="Sent by courier", version=promise.version)
    promise.refresh_from_db()
    assert promise.status == Commitment.Status.DONE and promise.completed_on == timezone.localdate()
    latest = promise.history.order_by("-history_id").first()
    assert latest.history_change_reason == "Marked done: Sent by courier" and latest.history_user == staff_user
    rows = promise.history.count()
    # The double click: the same (now stale) version, again.
    assert services.commitment_mark_done(commitment=promise, user=staff_user, note="again", version=1) is False
    assert promise.history.count() == rows


def test_a_stale_version_of_an_open_commitment_is_a_conflict(staff_user, officer, promise):
    seen = promise.version
    services.commitment_update(commitment=Commitment.objects.get(pk=promise.pk), actor=officer, description="Send the study, revised")
    with pytest.raises(EditConflict):
        services.commitment_mark_done(commitment=Commitment.objects.get(pk=promise.pk), user=staff_user, version=seen)
    assert Commitment.objects.get(pk=promise.pk).status == Commitment.Status.OPEN


def test_a_viewer_may_not_mark_done(viewer, promise):
    with pytest.raises(PermissionDenied):
        services.commitment_mark_done(commitment=promise, user=viewer)
    assert Commitment.objects.get(pk=promise.pk).status == Commitment.Status.OPEN


@pytest.mark.django_db(transaction=True)
def test_two_clicks_at_once_mark_it_done_once(postgres_required, staff_user, promise):
    results, errors = [], []
    barrier = threading.Barrier(2)

    def click():
        try:
            barrier.wait()
            results.append(services.commitment_mark_done(
                commitment=Commitment.objects.get(pk=promise.pk), user=staff_user, version=promise.version
            ))
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sorted(results) == [False, True]
    assert promise.history.filter(history_change_reason="Marked done").count() == 1


# --- the page ------------------------------------------------------------------------------------------


def test_the_list_button_without_javascript_marks_it_done_and_goes_back(client, staff_user, promise):
    client.force_login(staff_user)
    page = client.get("/commitments/").content.decode()
    assert 'crm-badge--overdue">Overdue' in page and f'action="/commitments/{promise.pk}/done/"' in page
    response = client.post(
        _done_url(promise), {"version": promise.version, "next": "/commitments/?status=open"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/commitments/?status=open"
    assert "Marked done: “Send the tramway study”." in response.content.decode()
    assert Commitment.objects.get(pk=promise.pk).status == Commitment.Status.DONE


def test_the_htmx_button_gets_its_replacement(client, staff_user, promise):
    client.force_login(staff_user)
    response = client.post(_done_url(promise), {"version": promise.version}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Marked done" in response.content.decode()
    response = client.post(_done_url(promise), {"version": promise.version}, HTTP_HX_REQUEST="true")
    assert "Already done" in response.content.decode()


def test_next_pointing_elsewhere_is_ignored(client, staff_user, promise):
    client.force_login(staff_user)
    response = client.post(_done_url(promise), {"next": "https://evil.example.com/"})
    assert response["Location"] == promise.get_absolute_url()


def test_the_buttons_are_on_the_dashboard_partner_engagement_and_commitment_pages(client, staff_user, promise):
    meeting = EngagementFactory(partners=[promise.partner])
    promise.engagement = meeting
    promise.save()
    client.force_login(staff_user)
    for path in ("/", f"/partners/{promise.partner.pk}/", f"/engagements/{meeting.pk}/", f"/commitments/{promise.pk}/"):
        page = client.get(path).content.decode()
        assert f'action="/commitments/{promise.pk}/done/"' in page, path
        assert 'crm-badge--overdue">Overdue' in page, path


def test_viewers_see_no_button_and_are_refused(client, viewer, promise):
    client.force_login(viewer)
    assert f"/commitments/{promise.pk}/done/" not in client.get("/commitments/").content.decode()
    assert client.post(_done_url(promise)).status_code == 403
    assert Commitment.objects.get(pk=promise.pk).status == Commitment.Status.OPEN


def test_due_soon_badge(client, staff_user, promise):
    promise.due_date = timezone.localdate() + dt.timedelta(days=3)
    promise.save()
    client.force_login(staff_user)
    page = client.get("/commitments/").content.decode()
    assert 'crm-badge--due-soon">Due soon' in page and "crm-badge--overdue" not in page


# --- the email's link ---------------------------------------------------------------------------------


def test_the_link_signs_in_first_then_confirms_without_changing_anything(client, staff_user, promise):
    url = _done_url(promise, done_links.make_token(user=staff_user, commitment=promise))
    response = client.get(url)
    assert response.status_code == 302 and urlparse(response["Location"]).path == "/accounts/login/"
    client.force_login(staff_user)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Mark this commitment done?" in html and "Send the tramway study" in html and 'name="note"' in html
    assert Commitment.objects.get(pk=promise.pk).status == Commitment.Status.OPEN  # a GET changes nothing
    response = client.post(_done_url(promise), {"version": promise.version, "note": "Posted today"})
    assert response.status_code == 302
    done = Commitment.objects.get(pk=promise.pk)
    assert done.status == Commitment.Status.DONE
    assert done.history.order_by("-history_id").first().history_change_reason == "Marked done: Posted today"


def test_an_altered_token_says_so(client, staff_user, promise):
    token = done_links.make_token(user=staff_user, commitment=promise)
    client.force_login(staff_user)
    response = client.get(_done_url(promise, token[:-3] + "abc"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "This link is not valid" in html and 'name="note"' not in html


def test_a_token_for_another_commitment_or_user_grants_nothing(client, staff_user, other_staff, promise):
    other = CommitmentFactory(owner=other_staff, description="Another promise")
    client.force_login(staff_user)
    # staff_user's token for their promise, on another commitment's page.
    response = client.get(_done_url(other, done_links.make_token(user=staff_user, commitment=promise)))
    assert response.status_code == 400 and "This link is not valid" in response.content.decode()
    # other_staff's token, opened by staff_user.
    response = client.get(_done_url(other, done_links.make_token(user=other_staff, commitment=other)))
    assert response.status_code == 400 and "sent to someone else" in response.content.decode()


def test_an_expired_token_says_so(client, staff_user, promise, time_machine):
    token = done_links.make_token(user=staff_user, commitment=promise)
    time_machine.move_to(timezone.now() + done_links.DONE_LINK_MAX_AGE + dt.timedelta(hours=1), tick=False)
    client.force_login(staff_user)
    response = client.get(_done_url(promise, token))
    assert response.status_code == 400 and "This link has expired" in response.content.decode()


def test_a_restricted_commitment_stays_hidden_from_outsiders_even_with_a_token(client, staff_user, other_staff):
    secret = EngagementFactory(confidentiality="restricted", staff=[staff_user])
    promise = CommitmentFactory(engagement=secret, owner=other_staff)
    client.force_login(other_staff)
    token = done_links.make_token(user=other_staff, commitment=promise)
    assert client.get(_done_url(promise, token)).status_code == 404
    assert client.post(_done_url(promise)).status_code == 404
    assert Commitment.objects.get(pk=promise.pk).status == Commitment.Status.OPEN


def test_the_partner_timeline_marks_an_overdue_commitment(client, viewer, promise):
    client.force_login(viewer)
    page = client.get(f"/partners/{promise.partner.pk}/").content.decode()
    timeline = page[page.index('id="timeline-heading"'):]
    assert 'crm-badge--overdue">Overdue' in timeline
