"""Invitations applied on PostgreSQL (engagements.invitations.apply_calendar): an Outlook invitation, its update and
its cancellation; idempotence, also for two copies applied at once by real threads; attendees matched to contacts,
partners and our staff; history rows naming the actor; rights."""

import datetime as dt
import threading
from pathlib import Path

import pytest
from django.db import connection

from engagements.invitations import InvitationError, apply_calendar
from engagements.models import Engagement
from tests import factories

ICS = Path(__file__).resolve().parent.parent / "data" / "ics"
UTC = dt.UTC

pytestmark = pytest.mark.django_db


def ics(name: str) -> bytes:
    return (ICS / name).read_bytes()


@pytest.fixture
def consulate(db):
    """The German consulate in Bonn, its consul general (organizer, written in capitals in the file) and a deputy."""
    partner = factories.PartnerFactory(name="Consulate General of Germany", country="DE", city="Bonn")
    ute = factories.ContactFactory(partner=partner, full_name="Ute Brandt", email="ute.brandt@bonn-consulate.example")
    klaus = factories.ContactFactory(partner=partner, full_name="Klaus Weber", email="Klaus.Weber@Bonn-Consulate.example")
    factories.ContactFactory(partner=partner, full_name="Left post", email="ute.brandt@bonn-consulate.example", is_active=False)
    return partner, ute, klaus


@pytest.fixture
def ana(staff_user):
    staff_user.email = "Ana.Ruiz@City.example"
    staff_user.save(update_fields=["email"])
    return staff_user


def test_an_outlook_invitation_becomes_a_planned_meeting_with_its_people(postgres_required, consulate, ana, officer):
    partner, ute, klaus = consulate
    [outcome] = apply_calendar(ics("outlook_request.ics"), actor=officer)
    engagement = Engagement.objects.get(pk=outcome.engagement.pk)
    assert outcome.action == "created"
    assert engagement.status == "planned" and engagement.kind == "bilateral_meeting"
    assert engagement.title == "Treffen mit dem Generalkonsul – Wasserstoff"
    assert engagement.starts_at == dt.datetime(2027, 4, 15, 8, 0, tzinfo=UTC)
    assert engagement.ends_at == dt.datetime(2027, 4, 15, 9, 30, tzinfo=UTC)
    assert engagement.venue_timezone == "Europe/Berlin"
    assert engagement.venue_time == "10:00–11:30 Berlin time"  # 01:00 in the office (Los Angeles), same day
    assert engagement.location == "Rathaus Bonn, Raum 3" and not engagement.is_virtual
    assert engagement.summary.startswith("Gespräch über Wasserstoff")
    assert engagement.confidentiality == "internal"
    assert set(engagement.contacts.all()) == {ute, klaus}  # matched whatever the case; not the one who left post
    assert list(engagement.partners.all()) == [partner]
    assert list(engagement.staff.all()) == [ana]  # an attendee who is one of us
    assert engagement.owner == officer
    assert engagement.ical_sequence == 0 and engagement.ical_uid.startswith("040000008200E00074C5B7101A82E008")
    [row] = engagement.history.all()
    assert row.history_user == officer and row.history_type == "+"


def test_applying_the_same_invitation_twice_changes_nothing(postgres_required, consulate, officer):
    [first] = apply_calendar(ics("outlook_request.ics"), actor=officer)
    [second] = apply_calendar(ics("outlook_request.ics"), actor=officer)
    assert (first.action, second.action) == ("created", "unchanged")
    assert second.engagement.pk == first.engagement.pk
    assert Engagement.objects.count() == 1
    assert Engagement.objects.get().history.count() == 1


def test_an_update_moves_the_meeting_and_a_cancellation_cancels_it(postgres_required, consulate, officer, staff_user):
    [created] = apply_calendar(ics("outlook_request.ics"), actor=officer)
    [updated] = apply_calendar(ics("outlook_update.ics"), actor=staff_user)
    engagement = Engagement.objects.get()
    assert updated.action == "updated" and updated.engagement.pk == created.engagement.pk
    assert engagement.title == "Treffen mit dem Generalkonsul – verschoben"
    assert engagement.starts_at == dt.datetime(2027, 4, 16, 12, 0, tzinfo=UTC)
    assert engagement.location == "Generalkonsulat, Saal B"
    assert engagement.ical_sequence == 1
    assert engagement.contacts.count() == 2  # nobody removed: the update names fewer people
    # an old copy of the first invitation, arriving late, does not move it back
    [late] = apply_calendar(ics("outlook_request.ics"), actor=officer)
    assert late.action == "unchanged"
    assert Engagement.objects.get().title.endswith("verschoben")

    [cancelled] = apply_calendar(ics("outlook_cancel.ics"), actor=officer)
    engagement.refresh_from_db()
    assert cancelled.action == "cancelled" and engagement.status == "cancelled"
    assert engagement.title.endswith("verschoben")  # a cancellation changes only the status
    rows = list(engagement.history.order_by("history_date"))
    assert [(r.history_type, r.history_user) for r in rows] == [("+", officer), ("~", staff_user), ("~", officer)]
    assert [r.status for r in rows] == ["planned", "planned", "cancelled"]
    [again] = apply_calendar(ics("outlook_cancel.ics"), actor=officer)
    assert again.action == "unchanged" and engagement.history.count() == 3


def test_a_cancelled_meeting_invited_again_comes_back_planned(postgres_required, consulate, officer):
    apply_calendar(ics("outlook_request.ics"), actor=officer)
    apply_calendar(ics("outlook_cancel.ics"), actor=officer)
    text = ics("outlook_update.ics").replace(b"SEQUENCE:1", b"SEQUENCE:3").replace(b"DTSTAMP:20270305", b"DTSTAMP:20270320")
    [outcome] = apply_calendar(text, actor=officer)
    assert outcome.action == "updated"
    assert Engagement.objects.get().status == "planned"


def test_a_later_stamp_at_the_same_sequence_updates(postgres_required, officer):
    apply_calendar(ics("apple_floating_duration.ics"), actor=officer)
    text = ics("apple_floating_duration.ics").replace(b"DTSTAMP:20270201T080000Z", b"DTSTAMP:20270202T080000Z")
    [outcome] = apply_calendar(text.replace(b"Breakfast", b"Lunch"), actor=officer)
    assert outcome.action == "updated" and Engagement.objects.get().title == "Lunch with the consul"


def test_a_cancellation_of_an_unknown_meeting_does_nothing(postgres_required, officer):
    assert apply_calendar(ics("outlook_cancel.ics"), actor=officer) == []
    assert Engagement.objects.count() == 0


def test_confidentiality_is_the_callers_and_kept_on_update(postgres_required, consulate, staff_user, other_staff):
    [outcome] = apply_calendar(ics("outlook_request.ics"), actor=staff_user, confidentiality="restricted")
    engagement = outcome.engagement
    assert engagement.confidentiality == "restricted"
    assert staff_user in engagement.staff.all()  # the one who brought it keeps seeing it
    # another staff member holding the update may not change a restricted meeting they cannot see
    with pytest.raises(InvitationError, match="may not change it"):
        apply_calendar(ics("outlook_update.ics"), actor=other_staff)
    [updated] = apply_calendar(ics("outlook_update.ics"), actor=staff_user, confidentiality="public")
    assert updated.action == "updated" and Engagement.objects.get().confidentiality == "restricted"


def test_a_viewer_may_not_plan_an_invitation(postgres_required, viewer):
    with pytest.raises(InvitationError, match="may not add engagements"):
        apply_calendar(ics("google_meet.ics"), actor=viewer)
    assert Engagement.objects.count() == 0


def test_an_online_invitation_is_a_call_and_several_events_are_planned_together(postgres_required, officer):
    [meet] = apply_calendar(ics("google_meet.ics"), actor=officer)
    assert meet.engagement.kind == "call" and meet.engagement.is_virtual
    assert meet.engagement.venue_timezone == ""
    outcomes = apply_calendar(ics("tokyo_two_events.ics"), actor=officer)
    assert [(o.action, o.engagement.venue_timezone) for o in outcomes] == [("created", "Asia/Tokyo")] * 2
    assert [o.engagement.kind for o in outcomes] == ["bilateral_meeting", "call"]


def test_an_all_day_event_is_the_day_in_the_office(postgres_required, officer, settings):
    [outcome] = apply_calendar(ics("apple_allday.ics"), actor=officer)
    engagement = Engagement.objects.get(pk=outcome.engagement.pk)
    assert engagement.starts_at == dt.datetime(2027, 6, 2, 7, 0, tzinfo=UTC)  # midnight in Los Angeles (PDT)
    assert engagement.ends_at - engagement.starts_at == dt.timedelta(days=1)


def test_a_file_with_one_bad_event_writes_nothing(postgres_required, officer):
    good = ics("tokyo_two_events.ics")
    bad = good.replace(b"DTSTART;TZID=Asia/Tokyo:20270513T150000", b"DTSTART;TZID=Asia/Tokyo:21990513T150000").replace(
        b"DTEND;TZID=Asia/Tokyo:20270513T160000", b"DTEND;TZID=Asia/Tokyo:22000513T160000"
    )
    with pytest.raises(InvitationError, match="between 1800 and 2199"):
        apply_calendar(bad, actor=officer)
    assert Engagement.objects.count() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_two_copies_applied_at_once_make_one_engagement(postgres_required, officer, round_):
    barrier = threading.Barrier(2)
    results, errors = [], []

    def apply():
        try:
            barrier.wait(timeout=10)
            results.append(apply_calendar(ics("outlook_request.ics"), actor=officer)[0])
        except Exception as exc:  # noqa: BLE001 (reported by the assertion below)
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=apply) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(r.action for r in results) == ["created", "unchanged"]
    assert len({r.engagement.pk for r in results}) == 1
    assert Engagement.objects.count() == 1
    assert Engagement.objects.get().history.count() == 1


def test_the_api_shows_the_invitation_uid_read_only(postgres_required, officer, client_for):
    [outcome] = apply_calendar(ics("google_meet.ics"), actor=officer)
    client = client_for(officer)
    url = f"/api/v1/engagements/{outcome.engagement.pk}/"
    row = client.get(url).json()
    assert row["ical_uid"] == "7kukuqrfedlm2f9t0vqh5sl2ak@google.com"
    response = client.patch(url, {"ical_uid": "forged@example", "title": "Renamed"}, content_type="application/json")
    assert response.status_code == 200, response.content
    outcome.engagement.refresh_from_db()
    assert outcome.engagement.ical_uid == "7kukuqrfedlm2f9t0vqh5sl2ak@google.com"
    assert outcome.engagement.title == "Renamed"
