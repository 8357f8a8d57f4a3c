"""load_demo's loader: the demo is data (`devdata/demo/*.toml`), read here into records.

`people.toml` holds the users, topics, partners and contacts; `records.toml`
the trade mission, the meetings (with their commitments and gifts) and the
agreements. Records name each other by key. Every record is looked up by a
natural key first (a partner's or contact's `demo:<key>` external id, a
topic's slug, a mission's name, a meeting's or agreement's title), so a
second run creates nothing and writes no history. Everything is written
through the services, as a user would.

Times: a fixed meeting is a local date-time in its `zone` (the office's by
default); a recent or upcoming one is `in_days` from today at an office
`time`, moved off the weekend, so the demo shows meetings at office hours
whatever the hour load_demo ran.
"""

import datetime as dt
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from django.utils.text import slugify

from accounts.roles import sync_role_groups
from diplomacy_crm.officetime import office_today, office_tz
from engagements.models import Engagement, TradeMission
from engagements.services import engagement_create, gift_create, trade_mission_create
from partners.models import Agreement, Contact, Partner, Topic
from partners.services import agreement_create, contact_create, partner_create, topic_create

DEMO_DIR = Path(__file__).resolve().parent / "demo"


def read(name: str) -> dict:
    with open(DEMO_DIR / f"{name}.toml", "rb") as handle:
        return tomllib.load(handle)


def demo_password() -> str:
    return read("people")["password"]


def office_day(today: dt.date, days: int) -> dt.date:
    """`days` from `today`; a Saturday or Sunday moves on, away from today (to Monday ahead, Friday behind)."""
    day = today + dt.timedelta(days=days)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1 if days >= 0 else -1)
    return day


def meeting_start(item: dict, today: dt.date) -> dt.datetime:
    if "in_days" in item:
        return dt.datetime.combine(office_day(today, item["in_days"]), item["time"], tzinfo=office_tz())
    return item["at"].replace(tzinfo=ZoneInfo(item["zone"]) if "zone" in item else office_tz())


class DemoLoader:
    """Creates what is missing of the demo; `created` counts the records it wrote."""

    def __init__(self, now: dt.datetime | None = None):
        self.now = now or timezone.now()
        self.today = office_today(self.now)
        self.created = 0
        self.people, self.records = read("people"), read("records")

    def days(self, count: int) -> dt.date:
        return self.today + dt.timedelta(days=count)

    def once(self, model, lookup: dict, create):
        record = model.objects.filter(**lookup).first()
        if record is None:
            record = create()
            self.created += 1
        return record

    def load(self) -> None:
        self.users = self.load_users()
        self.actor = self.users["admin"]
        self.topics = {
            slugify(name): self.once(Topic, {"slug": slugify(name)}, lambda n=name: topic_create(actor=self.actor, name=n, slug=slugify(n)))
            for name in self.people["topics"]
        }
        self.partners, self.contacts = {}, {}
        for key, item in self.people["partners"].items():
            self.partners[key] = self.once(Partner, {"external_id": f"demo:{key}"}, lambda k=key, i=item: self.new_partner(k, i))
        for key, item in self.people["contacts"].items():
            fields = {**item, "partner": self.partners[item["partner"]], "external_id": f"demo:{key}"}
            self.contacts[key] = self.once(Contact, {"external_id": fields["external_id"]}, lambda f=fields: contact_create(actor=self.actor, **f))
        mission = self.records["mission"]
        self.mission = self.once(TradeMission, {"name": mission["name"]}, lambda: trade_mission_create(actor=self.actor, **self.named(mission)))
        for item in self.records["engagements"]:
            self.once(Engagement, {"title": item["title"]}, lambda i=item: self.new_engagement(i))
        for item in self.records["agreements"]:
            self.once(Agreement, {"title": item["title"]}, lambda i=item: self.new_agreement(i))

    def load_users(self) -> dict:
        sync_role_groups()  # the groups exist after migrate, but not after a flush
        User = get_user_model()
        password = self.people["password"]
        users = {}
        for item in self.people["users"]:
            username, superuser = item["username"], item.get("superuser", False)
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(username=username, first_name=item["first_name"], last_name=item["last_name"],
                            email=f"{username}@city.example.org", is_superuser=superuser)
                user.set_password(password)
                user.save()
                self.created += 1
            if user.is_staff != superuser:
                # The back office is for superusers only (diplomacy_crm/admin.py); older demo
                # databases gave every demo user is_staff, which is taken back here.
                user.is_staff = superuser
                user.save(update_fields=["is_staff"])
            if item.get("role"):
                user.groups.add(Group.objects.get(name=item["role"]))
            users[username] = user
        return users

    def named(self, item: dict) -> dict:
        """An item's fields with the keys it names (owner, partners, staff …) turned into records."""
        lookups = {"owner": self.users, "partner": self.partners, "parent": self.partners, "partners": self.partners,
                   "contacts": self.contacts, "delegates": self.contacts, "staff": self.users, "topics": self.topics}
        fields = {}
        for name, value in item.items():
            table = lookups.get(name)
            if table is None:
                fields[name] = value
            elif isinstance(value, list):
                fields[name] = [table[key] for key in value]
            else:
                fields[name] = table.get(value)
        return fields

    def relative_dates(self, item: dict, **names: str) -> dict:
        """`due_in_days = 5` → `due_date` five days from today, for each (relative name → field) given."""
        item = dict(item)
        for relative, field in names.items():
            if relative in item:
                item[field] = self.days(item.pop(relative))
        return item

    def new_partner(self, key: str, item: dict) -> Partner:
        return partner_create(actor=self.actor, external_id=f"demo:{key}", **self.named(item))

    def new_engagement(self, item: dict) -> Engagement:
        fields = self.named(self.relative_dates(item, follow_up_in_days="follow_up_by"))
        starts_at = meeting_start(fields, self.today)
        for timing in ("at", "zone", "in_days", "time"):
            fields.pop(timing, None)
        if fields.pop("trade_mission", False):
            fields["trade_mission"] = self.mission
        commitments = [self.named(self.relative_dates(c, due_in_days="due_date")) for c in fields.pop("commitments", [])]
        gifts = [self.named(g) for g in fields.pop("gifts", [])]
        fields.setdefault("ends_at", starts_at + dt.timedelta(hours=1))
        fields.setdefault("status", Engagement.Status.HELD if starts_at < self.now else Engagement.Status.PLANNED)
        engagement = engagement_create(actor=self.actor, starts_at=starts_at, commitments=commitments, **fields)
        for gift in gifts:
            gift_create(actor=self.actor, engagement=engagement, **gift)
        return engagement

    def new_agreement(self, item: dict) -> Agreement:
        item = self.relative_dates(item, expires_in_days="expires_on", notice_in_days="notice_by")
        return agreement_create(actor=self.actor, **self.named(item))
