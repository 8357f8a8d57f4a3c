"""Create, edit, delete pages and quick logging: permissions, services, errors next to fields."""

import datetime as dt

import pytest
from django.utils import timezone

from engagements.models import Commitment, Engagement, TradeMission
from partners.models import Agreement, Contact, Partner
from tests.factories import CommitmentFactory, ContactFactory, EngagementFactory

pytestmark = pytest.mark.django_db


def meeting(partners, **extra) -> dict:
    """A quick-logging POST: the meeting and 3 commitment rows (blank unless given)."""
    data = {
        "title": "Call with the Consul General",
        "kind": "call",
        "status": "held",
        "starts_at": "2025-06-02T10:00",
        "ends_at": "",
        "time_zone": "America/Los_Angeles",
        "location": "City Hall",
        "partners": [p.pk for p in partners],
        "confidentiality": "internal",
        "commitments-TOTAL_FORMS": "3",
        "commitments-INITIAL_FORMS": "0",
        "commitments-MIN_NUM_FORMS": "0",
        "commitments-MAX_NUM_FORMS": "20",
    }
    for i in range(3):
        data.update({f"commitments-{i}-made_by": "city", f"commitments-{i}-priority": "2", f"commitments-{i}-description": ""})
    data.update(extra)
    return data


# --- Quick logging -------------------------------------------------------------


def test_quick_logging_page_for_staff(client_for, staff_user):
    body = client_for(staff_user).get("/engagements/new/").content.decode()
    assert "Log a meeting" in body
    assert "America/Los_Angeles (office)" in body
    assert 'name="commitments-TOTAL_FORMS" value="0"' in body  # rows come on demand
    assert "data-add-commitment" in body
    assert 'data-lookup-url="/partners/lookup/"' in body
    assert "Partner not in the list?" in body
    assert body.count("<h1") == 1


@pytest.mark.parametrize("role,status", [(None, 302), ("viewer", 403), ("staff_user", 200), ("officer", 200)])
def test_quick_logging_permissions(request, client_for, role, status):
    user = request.getfixturevalue(role) if role else None
    assert client_for(user).get("/engagements/new/").status_code == status


def test_quick_logging_saves_the_meeting_and_its_commitments_together(client_for, staff_user, world):
    japan, consul = world["japan"], world["consul"]
    data = meeting(
        [japan],
        contacts=[consul.pk],
        staff=[staff_user.pk],
        **{"commitments-0-description": "Send the hydrogen roadmap", "commitments-0-owner": staff_user.pk, "commitments-0-due_date": "2025-07-01"},
    )
    client = client_for(staff_user)
    response = client.post("/engagements/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    engagement = Engagement.objects.get(title="Call with the Consul General")
    assert response["Location"] == f"/engagements/{engagement.pk}/"
    assert list(engagement.contacts.all()) == [consul]
    assert engagement.owner == staff_user
    promise = engagement.commitments.get()
    assert promise.description == "Send the hydrogen roadmap"
    assert promise.partner == japan  # the only partner present
    assert promise.due_date == dt.date(2025, 7, 1)
    page = client.get(response["Location"]).content.decode()
    assert "Logged “Call with the Consul General” with 1 commitment." in page


def test_a_bad_commitment_row_saves_nothing_and_says_which_row(client_for, staff_user, world):
    before = (Engagement.objects.count(), Commitment.objects.count())
    # Two partners and "made by the partner" without naming which: the service refuses it.
    data = meeting(
        [world["japan"], world["vietnam"]],
        **{
            "commitments-0-description": "A fine promise",
            "commitments-0-due_date": "2025-07-01",
            "commitments-1-description": "Open nonstop flights",
            "commitments-1-due_date": "2025-07-01",
            "commitments-1-made_by": "partner",
        },
    )
    response = client_for(staff_user).post("/engagements/new/", data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Name the partner who made" in body
    assert (Engagement.objects.count(), Commitment.objects.count()) == before
    assert "Call with the Consul General" in body  # what was typed is kept


def test_an_invalid_commitment_date_saves_nothing(client_for, staff_user, world):
    before = Engagement.objects.count()
    data = meeting([world["japan"]], **{"commitments-0-description": "Promise", "commitments-0-due_date": "2025-02-30"})
    response = client_for(staff_user).post("/engagements/new/", data)
    assert response.status_code == 200
    assert 'id="id_commitments-0-due_date-error"' in response.content.decode()
    assert Engagement.objects.count() == before


def test_blank_commitment_rows_are_skipped(client_for, staff_user, world):
    response = client_for(staff_user).post("/engagements/new/", meeting([world["japan"]]))
    assert response.status_code == 302
    assert Engagement.objects.get(title="Call with the Consul General").commitments.count() == 0


def test_more_rows_than_the_three_blank_ones(client_for, staff_user, world):
    data = meeting([world["japan"]], **{"commitments-TOTAL_FORMS": "4", "commitments-3-description": "Fourth", "commitments-3-made_by": "city", "commitments-3-priority": "1", "commitments-3-no_due_date": "on"})
    assert client_for(staff_user).post("/engagements/new/", data).status_code == 302
    assert Commitment.objects.filter(description="Fourth", priority=1).exists()


def test_start_time_is_read_in_the_chosen_zone(client_for, staff_user, world):
    data = meeting([world["japan"]], time_zone="Asia/Tokyo", starts_at="2025-06-02T10:00")
    assert client_for(staff_user).post("/engagements/new/", data).status_code == 302
    engagement = Engagement.objects.get(title="Call with the Consul General")
    assert engagement.starts_at == dt.datetime(2025, 6, 2, 1, 0, tzinfo=dt.UTC)


def test_start_time_defaults_to_the_office_zone(client_for, staff_user, world):
    assert client_for(staff_user).post("/engagements/new/", meeting([world["japan"]])).status_code == 302
    engagement = Engagement.objects.get(title="Call with the Consul General")
    assert engagement.starts_at == dt.datetime(2025, 6, 2, 17, 0, tzinfo=dt.UTC)  # 10:00 PDT


def test_a_time_skipped_by_daylight_saving_is_refused(client_for, staff_user, world):
    response = client_for(staff_user).post("/engagements/new/", meeting([world["japan"]], starts_at="2025-03-09T02:30"))
    assert response.status_code == 200
    assert 'id="id_starts_at-error"' in response.content.decode()
    assert not Engagement.objects.filter(title="Call with the Consul General").exists()


@pytest.mark.parametrize(
    "field,value",
    [("title", ""), ("title", "x" * 301), ("title", "bad\x00title"), ("starts_at", "not a date"), ("starts_at", "10000-01-01T00:00"),
     ("kind", "party"), ("partners", "999999"), ("time_zone", "Mars/Olympus"), ("confidentiality", "secret"), ("follow_up_by", "2025-13-01")],
)
def test_bad_meeting_values_are_errors_next_to_the_field(client_for, staff_user, world, field, value):
    data = meeting([world["japan"]])
    data[field] = value
    response = client_for(staff_user).post("/engagements/new/", data)
    assert response.status_code == 200
    assert f'id="id_{field}-error"' in response.content.decode()
    assert not Engagement.objects.filter(kind="call").exists()


def test_attendees_must_come_from_the_partners_present(client_for, staff_user, world):
    stranger = ContactFactory(partner=world["vietnam"])
    response = client_for(staff_user).post("/engagements/new/", meeting([world["japan"]], contacts=[stranger.pk]))
    assert response.status_code == 200
    assert 'id="id_contacts-error"' in response.content.decode()
    assert "Not from a partner of this engagement" in response.content.decode()


def test_a_restricted_meeting_keeps_its_author_in_the_room(client_for, staff_user, world):
    data = meeting([world["japan"]], confidentiality="restricted", staff=[])
    assert client_for(staff_user).post("/engagements/new/", data).status_code == 302
    engagement = Engagement.objects.get(title="Call with the Consul General")
    assert staff_user in engagement.staff.all()


def test_ends_before_start_is_an_error(client_for, staff_user, world):
    response = client_for(staff_user).post("/engagements/new/", meeting([world["japan"]], ends_at="2025-06-02T09:00"))
    assert 'id="id_ends_at-error"' in response.content.decode()


def test_checking_a_partner_added_inline_saves_nothing(client_for, staff_user):
    client = client_for(staff_user)
    response = client.post(
        "/partners/quick/",
        {"newpartner-name": "Consulate General of Korea", "newpartner-kind": "diplomatic_mission", "newpartner-country": "KR"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert not Partner.objects.filter(name="Consulate General of Korea").exists()
    body = response.content.decode()
    assert "<strong>Consulate General of Korea</strong> (KR) will be added when you save this meeting" in body
    assert 'value="Consulate General of Korea"' in body  # the fields stay in the meeting form


def test_a_partner_added_inline_is_created_with_the_meeting(client_for, staff_user):
    data = meeting([], **{"newpartner-name": "Consulate General of Korea", "newpartner-kind": "diplomatic_mission",
                          "newpartner-country": "KR", "newpartner-city": ""})
    response = client_for(staff_user).post("/engagements/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    engagement = Engagement.objects.get(title="Call with the Consul General")
    assert [p.name for p in engagement.partners.all()] == ["Consulate General of Korea"]


def test_a_refused_meeting_leaves_no_inline_partner(client_for, staff_user):
    data = meeting([], title="", **{"newpartner-name": "Consulate General of Korea", "newpartner-kind": "diplomatic_mission",
                                    "newpartner-country": "KR"})
    response = client_for(staff_user).post("/engagements/new/", data)
    assert response.status_code == 200
    assert not Partner.objects.filter(name="Consulate General of Korea").exists()
    body = response.content.decode()
    assert 'value="Consulate General of Korea"' in body  # kept for the next try
    assert 'href="#id_title"' in body  # the error summary links to the field


def test_a_meeting_needs_a_partner_unless_one_is_added_inline(client_for, staff_user):
    response = client_for(staff_user).post("/engagements/new/", meeting([]))
    assert response.status_code == 200
    assert 'id="id_partners-error"' in response.content.decode()
    assert not Engagement.objects.filter(title="Call with the Consul General").exists()


def test_a_commitment_needs_a_due_date_or_no_due_date(client_for, staff_user, world):
    data = meeting([world["japan"]], **{"commitments-0-description": "Send the slides"})
    response = client_for(staff_user).post("/engagements/new/", data)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_commitments-0-due_date-error"' in body
    assert "Give a due date, or tick “No due date”." in body
    assert 'href="#id_commitments-0-due_date"' in body
    assert "Commitment 1: Due:" in body
    assert not Engagement.objects.filter(title="Call with the Consul General").exists()
    data["commitments-0-no_due_date"] = "on"
    assert client_for(staff_user).post("/engagements/new/", data).status_code == 302
    assert Commitment.objects.get(description="Send the slides").due_date is None


def test_a_follow_up_before_the_meeting_is_an_error(client_for, staff_user, world):
    data = meeting([world["japan"]], follow_up_by="2025-06-01")
    response = client_for(staff_user).post("/engagements/new/", data)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="id_follow_up_by-error"' in body and "cannot be before the meeting" in body
    assert not Engagement.objects.filter(title="Call with the Consul General").exists()
    data["follow_up_by"] = "2025-06-02"  # the same day is fine
    assert client_for(staff_user).post("/engagements/new/", data).status_code == 302


def test_a_follow_up_before_the_meeting_is_refused_by_the_service_too(staff_user, world):
    from django.core.exceptions import ValidationError

    from engagements import services

    with pytest.raises(ValidationError) as refused:
        services.engagement_create(
            actor=staff_user, title="Backdated", kind="call", status="held",
            starts_at=timezone.make_aware(dt.datetime(2025, 6, 2, 10)), follow_up_by=dt.date(2025, 5, 1),
            partners=[world["japan"]],
        )
    assert "follow_up_by" in refused.value.message_dict
    assert not Engagement.objects.filter(title="Backdated").exists()


@pytest.mark.parametrize("asked,rows", [("", 0), ("2", 2), ("999", 20), ("x", 0)])
def test_commitment_rows_on_demand_without_javascript(client_for, staff_user, asked, rows):
    body = client_for(staff_user).get(f"/engagements/new/?commitments={asked}").content.decode()
    assert f'name="commitments-TOTAL_FORMS" value="{rows}"' in body
    assert body.count("data-commitment-row>") == rows + 1  # + the template for the button


def test_inline_partner_errors_come_back_in_the_fragment(client_for, staff_user):
    response = client_for(staff_user).post("/partners/quick/", {"newpartner-name": "", "newpartner-kind": "nope"})
    assert response.status_code == 200
    assert "HX-Trigger" not in response
    assert 'id="id_newpartner-name-error"' in response.content.decode()
    assert 'id="id_newpartner-kind-error"' in response.content.decode()


def test_viewer_cannot_add_partners_inline(client_for, viewer):
    assert client_for(viewer).post("/partners/quick/", {"newpartner-name": "X", "newpartner-kind": "city"}).status_code == 403


def test_partner_lookup_returns_json(client_for, viewer, world):
    data = client_for(viewer).get("/partners/lookup/?q=viet").json()
    assert data["results"] == [
        {"id": world["vietnam"].pk, "name": world["vietnam"].name, "country": "VN", "text": f"{world['vietnam'].name} (VN)", "inactive": False}
    ]
    assert client_for(viewer).get("/partners/lookup/?q=%00" + "x" * 5000).status_code == 200


def test_contact_lookup_returns_the_partners_people(client_for, viewer, world):
    other = ContactFactory(partner=world["vietnam"], full_name="Nguyen Van A")
    data = client_for(viewer).get(f"/contacts/lookup/?partner={world['japan'].pk}").json()
    assert [r["id"] for r in data["results"]] == [world["consul"].pk]
    data = client_for(viewer).get(f"/contacts/lookup/?partner={world['japan'].pk}&partner={world['vietnam'].pk}").json()
    assert {r["id"] for r in data["results"]} == {world["consul"].pk, other.pk}
    assert client_for(viewer).get("/contacts/lookup/").json() == {"results": []}
    assert client_for(viewer).get("/contacts/lookup/?partner=abc").json() == {"results": []}


def test_lookups_need_login(client):
    assert client.get("/partners/lookup/?q=a").status_code == 302
    assert client.get("/contacts/lookup/?partner=1").status_code == 302


# --- Editing engagements -----------------------------------------------------------


def test_staff_edit_a_meeting_and_history_records_it(client_for, staff_user, world):
    engagement = world["public"]
    client = client_for(staff_user)
    page = client.get(f"/engagements/{engagement.pk}/edit/").content.decode()
    assert "Edit engagement" in page and engagement.title in page
    local = timezone.localtime(engagement.starts_at).strftime("%Y-%m-%dT%H:%M")
    assert f'value="{local}"' in page  # shown in office time
    data = meeting([world["japan"]], title="Renamed meeting", starts_at=local, contacts=[world["consul"].pk], staff=[staff_user.pk])
    response = client.post(f"/engagements/{engagement.pk}/edit/", data)
    assert response.status_code == 302
    engagement.refresh_from_db()
    assert engagement.title == "Renamed meeting"
    assert engagement.history.first().history_user == staff_user


def test_viewer_cannot_edit(client_for, viewer, world):
    assert client_for(viewer).get(f"/engagements/{world['public'].pk}/edit/").status_code == 403
    assert client_for(viewer).post(f"/engagements/{world['public'].pk}/edit/", {}).status_code == 403


# --- Partners, contacts, agreements ---------------------------------------------------


def test_staff_may_add_a_partner_but_not_edit_one(client_for, staff_user, world):
    client = client_for(staff_user)
    response = client.post("/partners/new/", {"name": "Tokyo Metropolitan Government", "kind": "city", "country": "JP", "priority": "1", "status": "active"})
    partner = Partner.objects.get(name="Tokyo Metropolitan Government")
    assert response.status_code == 302 and response["Location"] == f"/partners/{partner.pk}/"
    assert client.get(f"/partners/{partner.pk}/edit/").status_code == 403


def test_partner_create_returns_to_next(client_for, staff_user):
    response = client_for(staff_user).post(
        "/partners/new/?next=/engagements/new/", {"name": "Seoul", "kind": "city", "priority": "2", "status": "active"}
    )
    assert response["Location"] == "/engagements/new/"
    response = client_for(staff_user).post(
        "/partners/new/?next=https://evil.example/", {"name": "Busan", "kind": "city", "priority": "2", "status": "active"}
    )
    assert response["Location"].startswith("/partners/")


def test_officer_edits_and_archives_a_partner(client_for, officer, world):
    client = client_for(officer)
    japan = world["japan"]
    assert "Edit partner" in client.get(f"/partners/{japan.pk}/edit/").content.decode()
    response = client.post(
        f"/partners/{japan.pk}/edit/",
        {"name": "METI", "kind": "national_government", "country": "JP", "priority": "1", "status": "active", "parent": japan.pk},
    )
    assert response.status_code == 200
    assert 'id="id_parent-error"' in response.content.decode()  # a partner cannot belong to itself
    assert "Archive" in client.get(f"/partners/{japan.pk}/archive/").content.decode()
    assert client.post(f"/partners/{japan.pk}/archive/").status_code == 302
    japan.refresh_from_db()
    assert japan.status == Partner.Status.INACTIVE


def test_contact_create_edit_and_delete(client_for, staff_user, officer, world):
    client = client_for(staff_user)
    response = client.post(
        "/contacts/new/",
        {"partner": world["japan"].pk, "full_name": "Yuki Mori", "honorific": "Ms.", "email": "not-an-email", "is_active": "on"},
    )
    assert 'id="id_email-error"' in response.content.decode()
    response = client.post("/contacts/new/", {"partner": world["japan"].pk, "full_name": "Yuki Mori", "honorific": "Ms.", "is_active": "on"})
    contact = Contact.objects.get(full_name="Yuki Mori")
    assert response["Location"] == f"/contacts/{contact.pk}/"
    response = client.post(f"/contacts/{contact.pk}/edit/", {"partner": world["japan"].pk, "full_name": "Yuki Mori", "title": "Director"})
    assert response.status_code == 302
    contact.refresh_from_db()
    assert contact.title == "Director" and contact.is_active is False
    assert client.post(f"/contacts/{contact.pk}/delete/").status_code == 403
    officer_client = client_for(officer)
    assert "Delete “Yuki Mori”?" in officer_client.get(f"/contacts/{contact.pk}/delete/").content.decode()
    assert officer_client.post(f"/contacts/{contact.pk}/delete/").status_code == 302
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_agreements_are_for_officers(client_for, staff_user, officer, world):
    assert client_for(staff_user).get("/agreements/new/").status_code == 403
    client = client_for(officer)
    data = {"title": "Sister-city agreement", "kind": "sister_city", "partners": [world["japan"].pk], "status": "in_force", "signed_on": "2024-05-01", "expires_on": "2020-01-01"}
    response = client.post("/agreements/new/", data)
    assert 'id="id_expires_on-error"' in response.content.decode()
    data["expires_on"] = "2029-05-01"
    response = client.post("/agreements/new/", data)
    agreement = Agreement.objects.get(title="Sister-city agreement")
    assert response["Location"] == f"/agreements/{agreement.pk}/"
    assert list(agreement.partners.all()) == [world["japan"]]
    data["title"] = "Renamed agreement"
    assert client.post(f"/agreements/{agreement.pk}/edit/", data).status_code == 302
    assert "Renamed agreement" in client.get(f"/agreements/{agreement.pk}/").content.decode()


# --- Missions and commitments -----------------------------------------------------------


def test_officer_creates_a_mission(client_for, officer, staff_user, world):
    assert client_for(staff_user).get("/missions/new/").status_code == 403
    client = client_for(officer)
    data = {"name": "Seoul mission", "direction": "outbound", "status": "planned", "countries": ["KR"], "start_date": "2026-05-10", "end_date": "2026-05-01"}
    assert 'id="id_end_date-error"' in client.post("/missions/new/", data).content.decode()
    data["end_date"] = "2026-05-15"
    data["delegates"] = [world["consul"].pk]
    response = client.post("/missions/new/", data)
    mission = TradeMission.objects.get(name="Seoul mission")
    assert response["Location"] == f"/missions/{mission.pk}/"
    assert list(mission.delegates.all()) == [world["consul"]]
    data["outcomes"] = "Two MOUs"
    assert client.post(f"/missions/{mission.pk}/edit/", data).status_code == 302
    assert "Two MOUs" in client.get(f"/missions/{mission.pk}/").content.decode()


def test_deleting_a_meeting_with_commitments_explains_why_not(client_for, officer, staff_user, world):
    assert client_for(staff_user).post(f"/engagements/{world['public'].pk}/delete/").status_code == 403
    client = client_for(officer)
    response = client.post(f"/engagements/{world['public'].pk}/delete/", follow=True)
    assert "cannot be deleted" in response.content.decode()
    assert Engagement.objects.filter(pk=world["public"].pk).exists()
    lonely = EngagementFactory(title="Cancelled call")
    assert client.post(f"/engagements/{lonely.pk}/delete/").status_code == 302
    assert not Engagement.objects.filter(pk=lonely.pk).exists()


def test_officer_deletes_commitments_and_missions(client_for, officer, world):
    client = client_for(officer)
    promise = CommitmentFactory(description="Drop me")
    assert client.post(f"/commitments/{promise.pk}/delete/").status_code == 302
    assert not Commitment.objects.filter(pk=promise.pk).exists()
    # The world's mission has meetings: the delete is refused, and the page says why.
    response = client.post(f"/missions/{world['mission'].pk}/delete/")
    assert response.status_code == 409
    assert "cannot be deleted" in response.content.decode()
    assert TradeMission.objects.filter(pk=world["mission"].pk).exists()
    lonely = TradeMission.objects.create(name="Never went", start_date=dt.date(2020, 1, 1), end_date=dt.date(2020, 1, 2))
    assert client.post(f"/missions/{lonely.pk}/delete/").status_code == 302
    assert not TradeMission.objects.filter(pk=lonely.pk).exists()


@pytest.mark.parametrize("url,field", [("/partners/new/", "name"), ("/missions/new/", "name"), ("/gifts/new/", "description")])
def test_every_form_page_lists_its_errors_in_a_summary_linking_to_the_fields(client_for, officer, url, field):
    body = client_for(officer).post(url, {"submit_token": ""}).content.decode()  # bound, every field empty
    assert 'id="error-summary"' in body and "data-error-summary" in body and 'tabindex="-1"' in body
    assert f'href="#id_{field}"' in body
    assert f'id="id_{field}-error"' in body  # and the message next to the field
