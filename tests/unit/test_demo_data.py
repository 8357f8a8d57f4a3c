"""load_demo's data: declarative files, and meetings at office hours whatever the hour it runs."""

import datetime as dt

import pytest

from devdata.demo import DemoLoader, office_day, read
from diplomacy_crm.officetime import office_tz
from engagements.models import Engagement


def test_the_demo_files_name_only_records_they_define():
    people, records = read("people"), read("records")
    partners, contacts, users = set(people["partners"]), set(people["contacts"]), {u["username"] for u in people["users"]}
    assert {c["partner"] for c in people["contacts"].values()} <= partners
    for item in records["engagements"]:
        assert set(item["partners"]) <= partners, item["title"]
        assert set(item.get("contacts", [])) <= contacts, item["title"]
        assert set(item["staff"]) <= users, item["title"]
        assert ("at" in item) != ("in_days" in item), item["title"]


@pytest.mark.parametrize(
    ("today", "days", "expected"),
    [
        (dt.date(2026, 12, 7), 4, dt.date(2026, 12, 11)),  # Monday + 4: Friday
        (dt.date(2026, 12, 7), 6, dt.date(2026, 12, 14)),  # lands on Sunday: the Monday after
        (dt.date(2026, 12, 7), -2, dt.date(2026, 12, 4)),  # lands on Saturday, in the past: the Friday before
    ],
)
def test_office_day_skips_the_weekend_away_from_today(today, days, expected):
    assert office_day(today, days) == expected


@pytest.mark.parametrize("hour", [3, 23])
def test_recent_and_upcoming_meetings_are_at_office_hours_on_weekdays(db, hour):
    now = dt.datetime(2026, 12, 5, hour, 17, tzinfo=office_tz())  # a Saturday, at night
    loader = DemoLoader(now=now)
    loader.load()
    relative = [item["title"] for item in loader.records["engagements"] if "in_days" in item]
    meetings = Engagement.objects.filter(title__in=relative)
    assert meetings.count() == 4
    for meeting in meetings:
        local = meeting.starts_at.astimezone(office_tz())
        assert local.weekday() < 5, (meeting.title, local)
        assert dt.time(8) <= local.time() <= dt.time(17), (meeting.title, local)
        assert meeting.status == (Engagement.Status.HELD if meeting.starts_at < now else Engagement.Status.PLANNED)
    courtesy = meetings.get(title="Courtesy visit of the Consul General of Japan")
    assert courtesy.starts_at.astimezone(office_tz()) == dt.datetime(2026, 12, 9, 10, 30, tzinfo=office_tz())
    assert courtesy.status == Engagement.Status.PLANNED
    assert courtesy.follow_up_by == dt.date(2026, 12, 19)
    # A second run writes nothing.
    again = DemoLoader(now=now)
    again.load()
    assert again.created == 0
