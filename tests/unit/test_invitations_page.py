"""The "Import an invitation" page (/engagements/invitation/): upload an .ics → the planned meeting, or a clear error."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from engagements.models import Engagement
from tests import factories

ICS = Path(__file__).resolve().parent.parent / "data" / "ics"
URL = "/engagements/invitation/"

pytestmark = pytest.mark.django_db


def upload(name: str, content: bytes | None = None, **extra) -> dict:
    data = content if content is not None else (ICS / name).read_bytes()
    return {"file": SimpleUploadedFile(name, data, content_type="text/calendar"), "confidentiality": "internal", **extra}


def test_the_page_explains_itself_to_staff_and_is_linked_from_the_list(client_for):
    client = client_for("staff")
    body = client.get(URL).content.decode()
    assert "<h1>Import an invitation</h1>" in body
    assert 'name="file"' in body and 'accept=".ics,text/calendar"' in body
    assert "planned for its first occurrence" in body
    assert 'href="/engagements/invitation/"' in client.get("/engagements/").content.decode()


def test_viewers_are_refused_and_not_offered_the_link(client_for):
    client = client_for("viewer")
    assert client.get(URL).status_code == 403
    assert client.post(URL, upload("outlook_request.ics")).status_code == 403
    assert Engagement.objects.count() == 0
    assert "Import an invitation" not in client.get("/engagements/").content.decode()


def test_an_uploaded_invitation_opens_its_planned_meeting(client_for, staff_user):
    partner = factories.PartnerFactory(name="Consulate General of Germany", country="DE")
    factories.ContactFactory(partner=partner, full_name="Ute Brandt", email="ute.brandt@bonn-consulate.example")
    client = client_for(staff_user)
    response = client.post(URL, upload("outlook_request.ics", confidentiality="restricted"), follow=True)
    engagement = Engagement.objects.get()
    assert response.redirect_chain == [(engagement.get_absolute_url(), 302)]
    body = response.content.decode()
    assert "Planned from the invitation: Treffen mit dem Generalkonsul – Wasserstoff" in body
    assert "Rathaus Bonn, Raum 3" in body and "Ute Brandt" in body and "Consulate General of Germany" in body
    assert "Berlin time" in body  # the venue's clock beside the office's
    assert engagement.confidentiality == "restricted" and staff_user in engagement.staff.all()
    # the same file again: nothing new, and the user is told so
    response = client.post(URL, upload("outlook_request.ics"), follow=True)
    assert "Already up to date from the invitation" in response.content.decode()
    assert Engagement.objects.count() == 1


def test_a_file_with_several_events_lists_what_was_planned(client_for):
    response = client_for("officer").post(URL, upload("tokyo_two_events.ics"))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("Planned: <a href=\"/engagements/") == 2
    assert "Hydrogen plant visit" in body and "Follow-up with the Governor&#x27;s office" in body


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("malformed.ics", None, "This is not a readable calendar file (.ics)"),
        ("letter.ics", b"Dear colleague,\r\nplease find attached...", "This is not a readable calendar file (.ics)"),
        ("empty.ics", b"", "The submitted file is empty."),
        ("outlook_cancel.ics", None, "This cancels a meeting that is not in the CRM: nothing to do."),
    ],
)
def test_a_bad_file_is_a_form_error_and_writes_nothing(client_for, name, content, message):
    response = client_for("staff").post(URL, upload(name, content))
    body = response.content.decode()
    assert response.status_code == 200
    assert "usa-error-message" in body and message in body
    assert Engagement.objects.count() == 0


def test_a_missing_file_and_an_unknown_confidentiality_are_form_errors(client_for):
    response = client_for("staff").post(URL, {"confidentiality": "secret"})
    body = response.content.decode()
    assert "This field is required." in body and "Select a valid choice." in body
    assert Engagement.objects.count() == 0


def test_a_file_over_the_limit_is_refused_with_its_size(client_for, settings):
    settings.INVITATION_MAX_BYTES = 1024
    response = client_for("staff").post(URL, upload("outlook_request.ics"))
    assert "too large for an invitation (more than 1 KB)" in response.content.decode()
    assert Engagement.objects.count() == 0


def test_the_page_costs_the_same_queries_whatever_the_data(client_for, django_assert_max_num_queries):
    client = client_for("staff")
    client.get(URL)  # warm the session
    factories.EngagementFactory.create_batch(5)
    with django_assert_max_num_queries(8):
        assert client.get(URL).status_code == 200
