"""Reading .ics invitations (engagements.invitations.read_calendar): real Outlook-, Google- and Apple-style files
from tests/data/ics/, their time zones, all-day and floating times, folded UTF-8 lines, and unreadable files."""

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engagements.invitations import InvitationError, read_calendar

ICS = Path(__file__).resolve().parent.parent / "data" / "ics"
LA = ZoneInfo("America/Los_Angeles")
UTC = dt.UTC


@pytest.fixture(autouse=True)
def office_in_los_angeles(settings):
    settings.TIME_ZONE = "America/Los_Angeles"


def read(name: str):
    return read_calendar((ICS / name).read_bytes())


def test_outlook_windows_zone_is_read_as_its_iana_zone():
    method, [invite] = read("outlook_request.ics")
    assert method == "REQUEST"
    # 10:00 in Bonn (CEST, UTC+2) on 15 April 2027
    assert invite.starts_at == dt.datetime(2027, 4, 15, 8, 0, tzinfo=UTC)
    assert invite.ends_at == dt.datetime(2027, 4, 15, 9, 30, tzinfo=UTC)
    assert invite.venue_timezone == "Europe/Berlin"
    assert invite.sequence == 0
    assert invite.stamp == dt.datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def test_outlook_folded_utf8_lines_are_unfolded_and_unescaped():
    _, [invite] = read("outlook_request.ics")
    assert invite.title == "Treffen mit dem Generalkonsul – Wasserstoff"
    assert invite.location == "Rathaus Bonn, Raum 3"
    assert invite.summary.startswith("Gespräch über Wasserstoff und Städtepartnerschaft.\nAgenda: Grüne Energie, ")
    # the UID is folded over two lines; it is read whole
    assert invite.uid.startswith("040000008200E00074C5B7101A82E008") and invite.uid.endswith("C4D5E6F7081" "92A3B4C5D6E7F")
    assert not invite.is_virtual and not invite.cancelled


def test_organizer_and_attendees_are_lowercased_addresses_without_mailto():
    _, [invite] = read("outlook_request.ics")
    assert invite.emails == (
        "ute.brandt@bonn-consulate.example",
        "ana.ruiz@city.example",
        "klaus.weber@bonn-consulate.example",
        "someone@unknown.example",
    )


def test_outlook_cancellation_is_a_cancel_with_its_sequence():
    method, [invite] = read("outlook_cancel.ics")
    assert method == "CANCEL"
    assert invite.cancelled and invite.sequence == 2


def test_google_meet_invitation_is_virtual_in_utc_and_keeps_no_venue_zone():
    _, [invite] = read("google_meet.ics")
    assert invite.starts_at == dt.datetime(2027, 4, 20, 16, 0, tzinfo=UTC)
    assert invite.ends_at - invite.starts_at == dt.timedelta(minutes=45)
    assert invite.venue_timezone == ""  # UTC says nothing about where the people are
    assert invite.is_virtual  # no location, a Meet link in the description
    assert invite.title == "Green hydrogen – quarterly call 水素"
    assert "🌱" in invite.summary and "meet.google.com/abc-defg-hij" in invite.summary
    assert "-::~" not in invite.summary  # Google's footer is cut
    assert invite.emails == ("mariko.sato@tokyo-metro.example", "ana.ruiz@city.example")


def test_apple_all_day_event_is_its_day_in_the_office_zone():
    method, [invite] = read("apple_allday.ics")
    assert method == "PUBLISH"
    assert invite.starts_at == dt.datetime(2027, 6, 2, 0, 0, tzinfo=LA)
    assert invite.ends_at == dt.datetime(2027, 6, 3, 0, 0, tzinfo=LA)
    assert invite.venue_timezone == ""
    assert invite.title == "Urban 20 summit – délégation"
    assert invite.location == "Palais des congrès\nParis, France"
    assert invite.emails == ()


def test_floating_time_is_office_time_and_duration_gives_the_end():
    _, [invite] = read("apple_floating_duration.ics")
    assert invite.starts_at == dt.datetime(2027, 3, 10, 9, 0, tzinfo=LA)
    assert invite.ends_at == dt.datetime(2027, 3, 10, 10, 30, tzinfo=LA)
    assert invite.venue_timezone == "" and invite.sequence == 0 and invite.stamp is not None


def test_several_events_iana_zone_and_a_recurring_one_read_as_its_first_occurrence():
    _, invites = read("tokyo_two_events.ics")
    assert [i.uid for i in invites] == ["visit-day-1@tokyo-metro.example", "visit-day-2@tokyo-metro.example"]
    first, second = invites
    assert first.venue_timezone == "Asia/Tokyo"
    assert first.starts_at == dt.datetime(2027, 5, 12, 1, 0, tzinfo=UTC)
    assert second.starts_at == dt.datetime(2027, 5, 13, 6, 0, tzinfo=UTC)  # RRULE: the first occurrence
    assert second.is_virtual and second.location == "https://zoom.us/j/1234567890"


def test_an_instance_override_is_ignored_and_the_series_kept():
    text = (ICS / "tokyo_two_events.ics").read_text()
    override = (
        "BEGIN:VEVENT\r\nUID:visit-day-2@tokyo-metro.example\r\nRECURRENCE-ID;TZID=Asia/Tokyo:20270520T150000\r\n"
        "DTSTAMP:20270202T080000Z\r\nDTSTART;TZID=Asia/Tokyo:20270520T170000\r\nSUMMARY:Moved once\r\nEND:VEVENT\r\n"
    )
    _, invites = read_calendar(text.replace("END:VCALENDAR", override + "END:VCALENDAR").encode())
    assert [i.title for i in invites] == ["Hydrogen plant visit", "Follow-up with the Governor's office"]


def test_hybrid_meeting_with_a_room_and_a_teams_link_is_in_person():
    text = (ICS / "apple_floating_duration.ics").read_text()
    text = text.replace("SUMMARY:", "DESCRIPTION:Join: https://teams.microsoft.com/l/meetup-join/19%3ameeting\r\nSUMMARY:")
    _, [invite] = read_calendar(text.encode())
    assert not invite.is_virtual


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ((ICS / "malformed.ics").read_bytes(), "not a readable calendar file"),
        (b"", "empty"),
        (b"Hello, this is a letter, not a calendar.", "not a readable calendar file"),
        (b"\xff\xfe\x00B\x00E", "not a readable calendar file"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n", "no event"),
        (b"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n", "REPLY, not an invitation"),
        (b"BEGIN:VEVENT\r\nUID:x\r\nDTSTART:20270101T100000Z\r\nEND:VEVENT\r\n", "no VCALENDAR"),
    ],
    ids=["truncated", "empty", "prose", "binary", "no-event", "reply", "bare-vevent"],
)
def test_unreadable_files_are_refused_with_a_clear_message(data, message):
    with pytest.raises(InvitationError, match=message):
        read_calendar(data)


def _event(lines: str) -> bytes:
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n{lines}END:VEVENT\r\nEND:VCALENDAR\r\n".encode()


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("DTSTART:20270101T100000Z\r\nSUMMARY:x\r\n", "Event 1 has no UID"),
        ("UID:a\r\nSUMMARY:x\r\n", "Event 1: it has no start"),
        ("UID:a\r\nDTSTART:notadate\r\n", "Event 1 has a date, time or number that cannot be read"),
        ("UID:a\r\nDTSTART:99991231T100000Z\r\n", "between 1800 and 2199"),
        ("UID:a\r\nDTSTART:20270101T100000Z\r\nSEQUENCE:lots\r\n", "cannot be read"),
        ("UID:a\r\nDTSTART;TZID=Mars/Olympus_Mons:20270101T100000\r\n", "time zone .Mars/Olympus_Mons. is unknown"),
    ],
    ids=["no-uid", "no-start", "bad-date", "year-9999", "bad-sequence", "unknown-zone"],
)
def test_an_unusable_event_is_refused_naming_it(lines, message):
    with pytest.raises(InvitationError, match=message):
        read_calendar(_event(lines))


def test_a_file_over_the_size_limit_is_refused_before_parsing(settings):
    settings.INVITATION_MAX_BYTES = 2048
    data = _event("UID:a\r\nDTSTART:20270101T100000Z\r\nDESCRIPTION:" + "x" * 3000 + "\r\n")
    with pytest.raises(InvitationError, match="too large"):
        read_calendar(data)


def test_odd_but_readable_values_are_bounded_not_refused():
    data = _event(
        "UID:" + "u" * 400 + "\r\nDTSTART:20270101T100000Z\r\nDTEND:20270101T090000Z\r\nSEQUENCE:-3\r\n"
        "SUMMARY:" + "T" * 600 + "\r\nDESCRIPTION:" + "d" * 30_000 + "\r\n"
    )
    [invite] = read_calendar(data)[1]
    assert invite.uid.startswith("sha256:") and len(invite.uid) < 255
    assert invite.ends_at is None  # an end before the start is dropped, the start kept
    assert invite.sequence == 0
    assert len(invite.title) == 300 and len(invite.summary) == 20_000
    assert invite.title == "T" * 300


def test_an_outlook_customised_zone_is_read_from_its_vtimezone():
    data = (
        "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nPRODID:Microsoft Exchange Server 2010\r\nVERSION:2.0\r\n"
        "BEGIN:VTIMEZONE\r\nTZID:Customized Time Zone\r\nBEGIN:STANDARD\r\nDTSTART:16010101T000000\r\n"
        "TZOFFSETFROM:+0530\r\nTZOFFSETTO:+0530\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
        "BEGIN:VEVENT\r\nUID:custom-zone-1\r\nDTSTAMP:20270101T000000Z\r\nSUMMARY:Delhi call\r\n"
        "DTSTART;TZID=Customized Time Zone:20270301T100000\r\nDTEND;TZID=Customized Time Zone:20270301T110000\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()
    [invite] = read_calendar(data)[1]
    assert invite.starts_at == dt.datetime(2027, 3, 1, 4, 30, tzinfo=UTC)  # 10:00 at +05:30
    assert invite.ends_at == dt.datetime(2027, 3, 1, 5, 30, tzinfo=UTC)
    assert invite.venue_timezone == ""  # an unnamed zone: the instant is right, no venue clock is guessed
