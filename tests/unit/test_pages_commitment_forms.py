"""The commitment pages: adding one to a meeting, what it may be linked to, its due date, editing it."""

import re

import pytest
from django.utils import timezone

from engagements.models import Commitment
from tests.world import SECRET

pytestmark = pytest.mark.django_db


def test_staff_adds_a_commitment_to_a_meeting(client_for, staff_user, world):
    client = client_for(staff_user)
    page = client.get(f"/commitments/new/?engagement={world['public'].pk}").content.decode()
    assert world["public"].title in page
    response = client.post(
        "/commitments/new/",
        {"description": "Invite the minister", "made_by": "joint", "partner": world["japan"].pk, "status": "done", "priority": "1", "engagement": world["public"].pk, "no_due_date": "on"},
    )
    commitment = Commitment.objects.get(description="Invite the minister")
    assert response["Location"] == f"/commitments/{commitment.pk}/"
    assert commitment.completed_on == timezone.localdate()  # done: completion date filled in
    assert commitment.engagement == world["public"]


def test_a_commitment_cannot_be_linked_to_a_hidden_meeting(client_for, other_staff, world):
    response = client_for(other_staff).post(
        "/commitments/new/",
        {"description": "Sneaky", "made_by": "city", "status": "open", "priority": "2", "engagement": world["restricted"].pk},
    )
    assert response.status_code == 200
    assert "Engagement:" in response.content.decode()
    assert SECRET not in response.content.decode()
    assert not Commitment.objects.filter(description="Sneaky").exists()


def test_commitment_rule_errors_show_on_the_field(client_for, staff_user):
    response = client_for(staff_user).post("/commitments/new/", {"description": "They promised", "made_by": "partner", "status": "open", "priority": "2", "no_due_date": "on"})
    assert 'id="id_partner-error"' in response.content.decode()


def test_a_commitment_needs_a_due_date_or_an_explicit_no_due_date(client_for, staff_user, world):
    """As in the meeting form (issue 17): a date left out by mistake is refused; "No due date" says so."""
    client = client_for(staff_user)
    data = {"description": "Send the photos", "made_by": "city", "status": "open", "priority": "2"}
    refused = client.post("/commitments/new/", data)
    assert refused.status_code == 200
    assert "Give a due date, or tick “No due date”." in refused.content.decode()
    assert not Commitment.objects.filter(description="Send the photos").exists()
    assert client.post("/commitments/new/", {**data, "no_due_date": "on"}).status_code == 302
    undated = Commitment.objects.get(description="Send the photos")
    assert undated.due_date is None
    # Its edit page starts with the box ticked; a dated one's does not.
    page = client.get(f"/commitments/{undated.pk}/edit/").content.decode()
    assert re.search(r'<input type="checkbox" name="no_due_date"[^>]*checked', page)
    dated = world["open_promise"]
    assert dated.due_date is not None
    page = client.get(f"/commitments/{dated.pk}/edit/").content.decode()
    assert not re.search(r'<input type="checkbox" name="no_due_date"[^>]*checked', page)
    # Clearing the date of a dated one without the tick is refused and changes nothing.
    refused = client.post(f"/commitments/{dated.pk}/edit/", {**data, "description": dated.description})
    assert refused.status_code == 200 and "No due date" in refused.content.decode()
    dated.refresh_from_db()
    assert dated.due_date is not None


def test_editing_a_commitment(client_for, staff_user, world):
    commitment = world["open_promise"]
    response = client_for(staff_user).post(
        f"/commitments/{commitment.pk}/edit/",
        {"description": commitment.description, "made_by": "city", "status": "in_progress", "priority": "2", "engagement": world["public"].pk, "no_due_date": "on"},
    )
    assert response.status_code == 302
    commitment.refresh_from_db()
    assert commitment.status == "in_progress"
