"""People added on the meeting form are created with the meeting, or not at all.

The meeting form's "Attendee not in the list?" rows (and the attendee picker's
"Add …") travel with the meeting's POST: engagements.services.engagement_create
creates each person, with their history by the actor, in the meeting's
transaction, linked to the meeting and to their partner (chosen, or added
inline too). A refused or abandoned meeting leaves nobody behind, and what
the user typed comes back. The old endpoint that saved at once is gone.

The meeting form has a double-submit guard (a one-time token claimed in the
create's transaction, diplomacy_crm.services.create_once): two threads
posting the same form on PostgreSQL make one meeting and one person.
"""

import pytest

from engagements.models import Engagement
from partners.models import Contact, Partner
from tests import factories
from tests.forms import form_of
from tests.integration.test_edit_conflicts import together

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def busan(db):
    return factories.PartnerFactory(name="Port of Busan", country="KR", kind="company")


def meeting_form(client, partners=(), **fields) -> dict:
    """The meeting form as the page gives it (its token, its blank rows), filled in."""
    data = form_of(client.get("/engagements/new/"))
    assert data["submit_token"][0] and data["newcontact-TOTAL_FORMS"] == ["1"]
    data.update({"title": ["Port cooperation talks"], "kind": ["bilateral_meeting"], "partners": [str(p.pk) for p in partners]})
    data.update({name: [value] for name, value in fields.items()})
    return data


def person(index: int, name: str, partner: str = "", **fields) -> dict:
    row = {f"newcontact-{index}-full_name": name, f"newcontact-{index}-partner": partner}
    row.update({f"newcontact-{index}-{key}": value for key, value in fields.items()})
    return row


def test_a_meeting_refused_for_another_field_leaves_no_contact_and_keeps_the_person(staff_user, client_for, busan):
    client = client_for(staff_user)
    data = meeting_form(client, [busan], **person(0, "Min-jun Park", title="Harbour master", email="park@busanpa.example"))
    data["title"] = [""]
    response = client.post("/engagements/new/", data)
    assert response.status_code == 200
    assert not Contact.objects.filter(full_name="Min-jun Park").exists()
    assert not Engagement.objects.exists()
    body = response.content.decode()
    assert 'href="#id_title"' in body  # the error that refused it
    assert 'value="Min-jun Park"' in body and 'value="Harbour master"' in body and 'value="park@busanpa.example"' in body
    assert "<strong>Min-jun Park</strong> will be added when you save this meeting" in body
    # Corrected and sent again (the same page's form): the meeting and the person, once.
    data = {**form_of(response), "title": ["Port cooperation talks"]}
    assert client.post("/engagements/new/", data).status_code == 302
    contact = Contact.objects.get(full_name="Min-jun Park")
    assert (contact.title, contact.email, contact.partner) == ("Harbour master", "park@busanpa.example", busan)


def test_a_saved_meeting_creates_the_contact_once_with_history_by_the_actor(staff_user, client_for, busan):
    client = client_for(staff_user)
    data = meeting_form(client, [busan], **person(0, "Min-jun Park", partner=str(busan.pk), honorific="Dr."))
    response = client.post("/engagements/new/", data)
    engagement = Engagement.objects.get()
    assert response["Location"] == engagement.get_absolute_url()
    contact = Contact.objects.get()
    assert (contact.display_name, contact.partner) == ("Dr. Min-jun Park", busan)
    assert list(engagement.contacts.all()) == [contact]
    [row] = contact.history.all()
    assert (row.history_type, row.history_user) == ("+", staff_user)
    page = client.get(engagement.get_absolute_url()).content.decode()
    assert "Dr. Min-jun Park" in page
    # The same POST again (a reload): the first meeting, nobody new.
    assert client.post("/engagements/new/", data)["Location"] == engagement.get_absolute_url()
    assert Contact.objects.count() == 1 and Engagement.objects.count() == 1


def test_two_people_added_with_one_meeting(staff_user, client_for, busan):
    client = client_for(staff_user)
    incheon = factories.PartnerFactory(name="Incheon Port Authority", country="KR", kind="company")
    data = meeting_form(client, [busan, incheon], **{"newcontact-TOTAL_FORMS": "2"})
    data.update({k: [v] for k, v in {**person(0, "Min-jun Park", str(busan.pk)), **person(1, "Seo-yeon Kim", str(incheon.pk))}.items()})
    assert client.post("/engagements/new/", data).status_code == 302
    engagement = Engagement.objects.get()
    assert sorted((c.full_name, c.partner.name) for c in engagement.contacts.all()) == [
        ("Min-jun Park", "Port of Busan"), ("Seo-yeon Kim", "Incheon Port Authority")
    ]
    assert Contact.history.filter(history_type="+", history_user=staff_user).count() == 2


def test_a_person_of_a_partner_added_inline(staff_user, client_for):
    client = client_for(staff_user)
    new_partner = {"newpartner-name": "Busan Metropolitan City", "newpartner-kind": "city", "newpartner-country": "KR"}
    data = meeting_form(client, **new_partner, **person(0, "Park Heong-joon", "new", honorific="Mayor"))
    response = client.post("/engagements/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    engagement = Engagement.objects.get()
    partner = Partner.objects.get(name="Busan Metropolitan City")
    assert list(engagement.partners.all()) == [partner]
    assert [(c.display_name, c.partner) for c in engagement.contacts.all()] == [("Mayor Park Heong-joon", partner)]
    # Left blank, "works for" is the meeting's only partner, new or not.
    data = meeting_form(client, **{**new_partner, "newpartner-name": "Gwangyang City", "newpartner-create_anyway": "on"},
                        **person(0, "Jung In-hwa"))
    assert client.post("/engagements/new/", data).status_code == 302
    assert Contact.objects.get(full_name="Jung In-hwa").partner.name == "Gwangyang City"


@pytest.mark.parametrize(
    "row,field,message",
    [
        (person(0, "x" * 400), "full_name", "Ensure this value has at most"),
        (person(0, "Min-jun Park", email="not-an-email"), "email", "Enter a valid email address."),
        (person(0, "", title="Harbour master"), "full_name", "This field is required."),
        (person(0, "Min-jun Park", "999999"), "partner", "Choose one of the meeting"),
        (person(0, "Min-jun Park", "abc"), "partner", "Choose one of the meeting"),
    ],
)
def test_a_bad_person_is_a_form_error_and_nothing_is_written(staff_user, client_for, busan, row, field, message):
    client = client_for(staff_user)
    response = client.post("/engagements/new/", meeting_form(client, [busan], **row))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="id_newcontact-0-{field}-error"' in body and message in body
    assert not Engagement.objects.exists() and Contact.objects.count() == 0


def test_a_person_with_two_partners_to_choose_from_must_say_which(staff_user, client_for, busan):
    client = client_for(staff_user)
    incheon = factories.PartnerFactory(name="Incheon Port Authority", country="KR", kind="company")
    response = client.post("/engagements/new/", meeting_form(client, [busan, incheon], **person(0, "Min-jun Park")))
    assert response.status_code == 200
    assert "Say which of the meeting&#x27;s partners they work for." in response.content.decode()
    assert not Engagement.objects.exists() and Contact.objects.count() == 0


def test_the_meeting_form_sent_twice_at_once_creates_the_person_once(postgres_required, staff_user, client_for, busan):
    data = meeting_form(client_for(staff_user), [busan], **person(0, "Min-jun Park", str(busan.pk)))
    clients = [client_for(staff_user), client_for(staff_user)]
    answers = together(*(lambda c=c: c.post("/engagements/new/", data) for c in clients))
    engagement = Engagement.objects.get()
    assert [a.status_code for a in answers] == [302, 302]
    assert {a["Location"] for a in answers} == {engagement.get_absolute_url()}
    assert list(Contact.objects.values_list("full_name", flat=True)) == ["Min-jun Park"]
    assert Contact.history.count() == 1


def test_the_endpoint_that_saved_a_person_at_once_is_gone(staff_user, client_for, busan):
    client = client_for(staff_user)
    response = client.post("/contacts/quick/", {"newcontact-partner": busan.pk, "newcontact-full_name": "Min-jun Park"})
    assert response.status_code == 404
    assert not Contact.objects.exists()



def test_the_same_person_twice_in_one_form_is_refused(staff_user, client_for, busan):
    client = client_for(staff_user)
    data = meeting_form(client, [busan], **{"newcontact-TOTAL_FORMS": "2"})
    data.update({k: [v] for k, v in {**person(0, "Min-jun Park"), **person(1, " min-jun  PARK ")}.items()})
    body = client.post("/engagements/new/", data).content.decode()
    assert 'id="id_newcontact-1-full_name-error"' in body and "Already added above." in body
    assert not Engagement.objects.exists() and Contact.objects.count() == 0


def test_a_refused_meeting_offers_the_partners_chosen_for_each_person(staff_user, client_for, busan):
    client = client_for(staff_user)
    incheon = factories.PartnerFactory(name="Incheon Port Authority", country="KR", kind="company")
    data = meeting_form(client, [busan, incheon], **person(0, "Min-jun Park", str(incheon.pk)))
    data["starts_at"] = ["not a date"]
    body = client.post("/engagements/new/", data).content.decode()
    assert f'<option value="{incheon.pk}" selected>Incheon Port Authority (KR)</option>' in body
    assert f'<option value="{busan.pk}">Port of Busan (KR)</option>' in body


def test_a_person_named_like_markup_is_shown_as_text(staff_user, client_for, busan):
    client = client_for(staff_user)
    name = '<img src=x onerror=alert(1)>"><script>alert(2)</script>'
    data = meeting_form(client, [busan], **person(0, name))
    data["title"] = [""]
    refused = client.post("/engagements/new/", data).content.decode()
    assert "<script>alert(2)" not in refused and "<img src=x" not in refused
    data["title"] = ["Port cooperation talks"]
    assert client.post("/engagements/new/", data).status_code == 302
    page = client.get(Engagement.objects.get().get_absolute_url()).content.decode()
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page and "<script>alert(2)" not in page


def test_a_refused_person_is_named_in_the_error_summary(staff_user, client_for, busan):
    client = client_for(staff_user)
    body = client.post("/engagements/new/", meeting_form(client, [busan], **person(0, "Min-jun Park", email="nope"))).content.decode()
    start = body.index('id="error-summary"')
    summary = body[start:body.index("</div>\n<span id=\"form-errors\"", start)]
    assert "New attendee “Min-jun Park”: Email: Enter a valid email address." in summary
