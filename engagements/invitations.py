"""Calendar invitations (.ics, RFC 5545 / iTIP RFC 5546) turned into planned engagements.

`apply_calendar(data, actor=…)` is the one entry point: the mail capture
(mailcapture/) calls it for an invitation found in a forwarded message, the
"Import an invitation" page (/engagements/invitation/) for an uploaded file.

The rules, in the order they are applied to each VEVENT:

- METHOD:REQUEST or PUBLISH (or no METHOD) creates a *planned* engagement, or
  updates the one that came from the same UID when the invitation is newer:
  a higher SEQUENCE, or the same SEQUENCE and a later DTSTAMP. The same or an
  older invitation changes nothing ("unchanged"), so applying one twice, or
  two copies at once, leaves one engagement.
- METHOD:CANCEL, or STATUS:CANCELLED, cancels the engagement of that UID; a
  cancellation of a UID we never saw does nothing.
- Times: DTSTART/DTEND (or DTSTART + DURATION) in their TZID (a VTIMEZONE,
  an IANA name, or a Windows name such as "W. Europe Standard Time", which
  icalendar maps to its IANA zone); a floating time is read in the office's
  zone; an all-day event runs from midnight to midnight of its days in the
  office's zone. The venue's zone is kept (venue_timezone) when it is an IANA
  zone other than the office's and UTC.
- Kind: `call` when the meeting is online (virtual), else `bilateral_meeting`,
  set on creation only (a person may re-classify it). Online means: the
  LOCATION is a meeting link, or there is no LOCATION and a meeting link is
  in DESCRIPTION or a conference property (Google's X-GOOGLE-CONFERENCE,
  Teams' X-MICROSOFT-SKYPETEAMSMEETINGURL, CONFERENCE). A room plus a link
  (hybrid) is in person.
- People: ORGANIZER and ATTENDEE addresses are matched, case-insensitively,
  to contacts in post (→ contacts, their partners → partners) and to active
  users (→ staff). An update adds the people it names and removes nobody, as
  people may have been added by hand since.
- Recurrence: a recurring event (RRULE/RDATE) becomes one engagement for its
  first occurrence; an instance override (RECURRENCE-ID) is ignored, so a
  change or cancellation of one occurrence does not move or cancel the
  series.

Writes go through engagements.services (full_clean, history rows naming the
actor) in one transaction per call: a file with one bad event writes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from icalendar import Calendar
from icalendar.timezone.tzid import tzid_from_dt
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from accounts import access
from diplomacy_crm import dates, officetime
from partners.models import NAME_MAX, Contact

from . import services
from .models import Engagement

MAX_BYTES = 1024 * 1024  # default of settings.INVITATION_MAX_BYTES
MAX_EVENTS = 50  # VEVENTs read from one file
MAX_PEOPLE = 300  # addresses matched per event
SUMMARY_MAX = 20_000  # characters of DESCRIPTION kept as the summary
UID_MAX = 255
SEQUENCE_MAX = 2**31 - 1  # PositiveIntegerField on every database

_MEETING_HOSTS = (
    r"zoom\.us|zoomgov\.com|teams\.microsoft\.com|teams\.live\.com|meet\.google\.com|[\w-]+\.webex\.com"
    r"|whereby\.com|meet\.jit\.si|gotomeeting\.com|meet\.goto\.com|chime\.aws|bluejeans\.com|skype\.com"
)
MEETING_LINK = re.compile(rf"https?://(?:[\w-]+\.)*(?:{_MEETING_HOSTS})(?:[/?#]\S*)?", re.IGNORECASE)
_CONFERENCE_PROPERTIES = ("CONFERENCE", "X-GOOGLE-CONFERENCE", "X-MICROSOFT-SKYPETEAMSMEETINGURL")
# Google appends a block of "-::~:~::~…" lines with its own instructions; keep what comes before.
_GOOGLE_FOOTER = re.compile(r"\n*-::~[:~]+::-.*\Z", re.DOTALL)


class InvitationError(ValueError):
    """The file is not a calendar invitation we can read; the message is for the user."""


@dataclass(frozen=True)
class InvitationOutcome:
    engagement: Engagement
    action: str  # "created" | "updated" | "cancelled" | "unchanged"


@dataclass(frozen=True)
class Invite:
    """One VEVENT, read and checked, in the engagement's terms."""

    uid: str
    sequence: int
    stamp: dt.datetime | None
    cancelled: bool
    title: str
    starts_at: dt.datetime
    ends_at: dt.datetime | None
    venue_timezone: str
    location: str
    is_virtual: bool
    summary: str
    emails: tuple[str, ...]

    def is_newer_than(self, engagement: Engagement) -> bool:
        if self.sequence != engagement.ical_sequence:
            return self.sequence > engagement.ical_sequence
        return bool(self.stamp and (engagement.ical_dtstamp is None or self.stamp > engagement.ical_dtstamp))


# --- Reading ----------------------------------------------------------------


def max_bytes() -> int:
    return getattr(settings, "INVITATION_MAX_BYTES", MAX_BYTES)


def read_calendar(data: bytes) -> tuple[str, list[Invite]]:
    """The METHOD and the events of an .ics file; InvitationError when it cannot be read."""
    if not data or not data.strip():
        raise InvitationError("The file is empty.")
    if len(data) > max_bytes():
        raise InvitationError(f"The file is too large for an invitation (more than {max_bytes() // 1024} KB).")
    try:
        calendar = Calendar.from_ical(data)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise InvitationError("This is not a readable calendar file (.ics): " + _first_line(exc)) from None
    if getattr(calendar, "name", "") != "VCALENDAR":
        raise InvitationError("This is not a calendar file (.ics): it has no VCALENDAR.")
    method = str(calendar.get("METHOD", "") or "").strip().upper()
    if method and method not in ("REQUEST", "PUBLISH", "CANCEL"):
        raise InvitationError(f"This calendar message is a {method}, not an invitation or a cancellation.")
    events = [e for e in calendar.walk("VEVENT") if e.get("RECURRENCE-ID") is None]
    if not events:
        raise InvitationError("The file holds no event (VEVENT) to plan.")
    if len(events) > MAX_EVENTS:
        raise InvitationError(f"The file holds {len(events)} events; at most {MAX_EVENTS} are read at once.")
    invites = {}
    for position, event in enumerate(events, start=1):
        invite = _read_event(event, cancelled_by_method=method == "CANCEL", position=position)
        invites[invite.uid] = invite  # the same UID twice: the last copy wins
    return method, list(invites.values())


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _read_event(event, *, cancelled_by_method: bool, position: int) -> Invite:
    where = f"Event {position}"
    uid = _text(event.get("UID"))
    if not uid:
        raise InvitationError(f"{where} has no UID, so a later update could not find it.")
    if len(uid) > UID_MAX:
        uid = "sha256:" + hashlib.sha256(uid.encode("utf-8", "surrogatepass")).hexdigest()
    try:
        starts_at, ends_at, zone = _times(event)
        stamp = _instant(event.decoded("DTSTAMP")) if event.get("DTSTAMP") is not None else None
        sequence = int(str(event.get("SEQUENCE", 0) or 0).strip())
        if sequence > SEQUENCE_MAX:
            raise InvitationError(f"its SEQUENCE ({str(sequence)[:20]}) is out of range.")
    except InvitationError as exc:
        raise InvitationError(f"{where}: {exc}") from None
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError) as exc:
        raise InvitationError(f"{where} has a date, time or number that cannot be read ({_first_line(exc)}).") from None
    location = _text(event.get("LOCATION"))
    description = _text(event.get("DESCRIPTION"))
    links = [location, description, *(_text(event.get(name)) for name in _CONFERENCE_PROPERTIES)]
    online = bool(MEETING_LINK.fullmatch(location)) or (not location and any(MEETING_LINK.search(t) for t in links))
    return Invite(
        uid=uid,
        sequence=max(sequence, 0),
        stamp=stamp if isinstance(stamp, dt.datetime) else None,
        cancelled=cancelled_by_method or _text(event.get("STATUS")).upper() == "CANCELLED",
        title=(_text(event.get("SUMMARY")) or "Untitled invitation")[:NAME_MAX],
        starts_at=starts_at,
        ends_at=ends_at,
        venue_timezone=zone,
        location=location[:NAME_MAX],
        is_virtual=online,
        summary=_GOOGLE_FOOTER.sub("", description).strip()[:SUMMARY_MAX],
        emails=_emails(event),
    )


def _text(value) -> str:
    """A property's text, one line for short fields; "" when absent. Removes NULs (refused by PostgreSQL)."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value).replace("\x00", "").strip()


def _times(event) -> tuple[dt.datetime, dt.datetime | None, str]:
    if event.get("DTSTART") is None:
        raise InvitationError("it has no start (DTSTART).")
    start = event.decoded("DTSTART")
    if event.get("DTEND") is not None:
        end = event.decoded("DTEND")
    elif event.get("DURATION") is not None:
        end = start + event.decoded("DURATION")
    else:
        end = None
    if not isinstance(start, dt.datetime):  # an all-day event: its days in the office's zone
        first = officetime.local_midnight(start)
        last = officetime.local_midnight(end if isinstance(end, dt.date) and end > start else start + dt.timedelta(days=1))
        return _in_range(first), _in_range(last), ""
    tzid = _text(event.get("DTSTART").params.get("TZID"))
    if tzid and timezone.is_naive(start):  # icalendar knows no such zone and no VTIMEZONE defines it
        raise InvitationError(f"its time zone {tzid[:64]!r} is unknown.")
    starts_at = _instant(start)
    ends_at = _instant(end) if isinstance(end, dt.datetime) else None
    if ends_at is not None and ends_at <= starts_at:
        ends_at = None  # a zero-length or inverted event: its start is what we know
    return _in_range(starts_at), _in_range(ends_at), _venue_zone(start, tzid)


def _instant(value: dt.datetime) -> dt.datetime:
    """An aware instant; a floating (naive) time is the office's wall clock."""
    if timezone.is_naive(value):
        return value.replace(tzinfo=officetime.office_tz())
    return value


def _in_range(value: dt.datetime | None) -> dt.datetime | None:
    if not dates.year_in_range(value):
        raise InvitationError(dates.OUT_OF_RANGE)
    return value


def _venue_zone(start: dt.datetime, tzid: str) -> str:
    """The event's IANA zone when it is neither the office's nor UTC (nor floating); else "".

    Named by its TZID: an IANA name, a Windows name (Outlook: "W. Europe Standard
    Time" → Europe/Berlin) or a "globally unique" /vendor/IANA name; when the TZID
    is none of these (Outlook's "Customized Time Zone"), icalendar's guess from the
    zone's rules, if any.
    """
    cleaned = tzid.strip().strip('"').strip("/")
    candidates = [cleaned, WINDOWS_TO_OLSON.get(cleaned, "")]
    if tzid.startswith("/"):
        parts = cleaned.split("/")
        candidates += ["/".join(parts[i:]) for i in range(1, len(parts))]
    candidates += [getattr(start.tzinfo, "key", "") or "", _guessed_tzid(start)]
    name = next((c for c in candidates if officetime.zone_or_none(c)), "")
    if name == settings.TIME_ZONE or name in ("UTC", "Etc/UTC", "GMT", "Etc/GMT"):
        return ""
    return name


def _guessed_tzid(start: dt.datetime) -> str:
    try:
        return tzid_from_dt(start) or ""
    except (ValueError, TypeError, AttributeError):
        return ""


def _emails(event) -> tuple[str, ...]:
    values = []
    for name in ("ORGANIZER", "ATTENDEE"):
        found = event.get(name)
        values.extend(found if isinstance(found, list) else [found] if found is not None else [])
    emails = []
    for value in values:
        address = str(value).replace("\x00", "").strip()
        if address.lower().startswith("mailto:"):
            address = address[7:]
        address = address.strip().lower()
        if "@" in address and len(address) <= 254 and address not in emails:
            emails.append(address)
    return tuple(emails[:MAX_PEOPLE])


# --- Applying -----------------------------------------------------------------


def apply_calendar(data: bytes, *, actor, confidentiality: str | None = None, now=None) -> list[InvitationOutcome]:
    """Create, update or cancel the engagements an .ics invitation describes; what was done to each.

    `actor` is who brought the invitation (history rows name them; a user
    without the right to add or change engagements is refused). `confidentiality`
    is that of a new engagement (default: the model's, internal); an update keeps
    the engagement's. `now` is accepted for the callers' symmetry (the capture's
    `--now`); nothing here depends on the clock. Raises InvitationError (a
    ValueError with a readable message) when the file cannot be read or an event
    cannot be saved; then nothing is written.
    """
    del now  # the outcome does not depend on the time it is applied
    _method, invites = read_calendar(data)
    if confidentiality is not None and confidentiality not in Engagement.Confidentiality.values:
        raise InvitationError(f"Unknown confidentiality: {confidentiality}.")
    try:
        try:
            return _apply_all(invites, actor=actor, confidentiality=confidentiality)
        except IntegrityError:
            # Another writer created the same UID first (a database without advisory locks):
            # once more, now finding theirs.
            return _apply_all(invites, actor=actor, confidentiality=confidentiality)
    except ValidationError as exc:
        raise InvitationError("The invitation could not be saved: " + "; ".join(exc.messages)) from None


@transaction.atomic
def _apply_all(invites: list[Invite], *, actor, confidentiality) -> list[InvitationOutcome]:
    outcomes = []
    for invite in invites:
        _lock_uid(invite.uid)
        existing = Engagement.objects.filter(ical_uid=invite.uid).first()
        outcome = _apply_one(invite, existing, actor=actor, confidentiality=confidentiality)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def _lock_uid(uid: str) -> None:
    """Serialise the writers of one UID until the transaction ends (PostgreSQL), so two copies make one engagement.

    A transaction-scoped advisory lock on a hash of the UID: the second writer
    waits here, then finds the first one's engagement. (The unique constraint
    on ical_uid is the backstop on any database.)
    """
    if connection.vendor != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(b"invitation:" + uid.encode("utf-8", "surrogatepass")).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def _apply_one(invite: Invite, existing: Engagement | None, *, actor, confidentiality) -> InvitationOutcome | None:
    if existing is not None:
        _check_may_change(actor, existing)
    if invite.cancelled:
        if existing is None:
            return None  # a cancellation of a meeting we never had
        if existing.status == Engagement.Status.CANCELLED or not _newer_or_same(invite, existing):
            return InvitationOutcome(existing, "unchanged")
        fields = {"status": Engagement.Status.CANCELLED, **_stamp(invite)}
        return InvitationOutcome(services.engagement_update(engagement=existing, actor=actor, **fields), "cancelled")
    contacts, partners, staff = _people(invite.emails)
    if existing is None:
        _check_may_add(actor)
        engagement = services.engagement_create(
            actor=actor,
            **_event_fields(invite),
            kind=Engagement.Kind.CALL if invite.is_virtual else Engagement.Kind.BILATERAL_MEETING,
            status=Engagement.Status.PLANNED,
            confidentiality=confidentiality or Engagement._meta.get_field("confidentiality").default,
            contacts=contacts,
            partners=partners,
            staff=staff,
        )
        return InvitationOutcome(engagement, "created")
    if not invite.is_newer_than(existing):
        return InvitationOutcome(existing, "unchanged")
    fields = _event_fields(invite)
    if existing.status == Engagement.Status.CANCELLED:
        fields["status"] = Engagement.Status.PLANNED  # re-invited after a cancellation
    engagement = services.engagement_update(
        engagement=existing,
        actor=actor,
        **fields,
        partners=_union(existing.partners.all(), partners),
        contacts=_union(existing.contacts.all(), contacts),
        staff=_union(existing.staff.all(), staff),
    )
    return InvitationOutcome(engagement, "updated")


def _newer_or_same(invite: Invite, engagement: Engagement) -> bool:
    """A cancellation counts unless it is older than what we applied (a CANCEL often repeats the SEQUENCE)."""
    return invite.sequence >= engagement.ical_sequence


def _stamp(invite: Invite) -> dict:
    return {"ical_uid": invite.uid, "ical_sequence": invite.sequence, "ical_dtstamp": invite.stamp}


def _event_fields(invite: Invite) -> dict:
    return {
        "title": invite.title,
        "starts_at": invite.starts_at,
        "ends_at": invite.ends_at,
        "venue_timezone": invite.venue_timezone,
        "location": invite.location,
        "is_virtual": invite.is_virtual,
        "summary": invite.summary,
        **_stamp(invite),
    }


def _people(emails: tuple[str, ...]) -> tuple[list, list, list]:
    """Contacts in post and active users with these addresses, and the contacts' partners (three queries at most)."""
    if not emails:
        return [], [], []
    contacts = list(
        Contact.objects.annotate(address=Lower("email"))
        .filter(address__in=emails, is_active=True)
        .select_related("partner")
        .order_by("pk")
    )
    partners = list({c.partner_id: c.partner for c in contacts}.values())
    User = get_user_model()
    staff = list(User.objects.annotate(address=Lower("email")).filter(address__in=emails, is_active=True).order_by("pk"))
    return contacts, partners, staff


def _union(current, added) -> list:
    merged = {obj.pk: obj for obj in current}
    for obj in added:
        merged.setdefault(obj.pk, obj)
    return list(merged.values())


def _check_may_add(actor) -> None:
    if actor is not None and not actor.has_perm("engagements.add_engagement"):
        raise InvitationError("You may not add engagements, so this invitation cannot be planned by you.")


def _check_may_change(actor, engagement: Engagement) -> None:
    # The holder of the invitation knows the meeting exists; what they may not do is change one they cannot see.
    if actor is None:
        return
    if not actor.has_perm("engagements.change_engagement") or not access.may_see_engagement(actor, engagement):
        raise InvitationError("This invitation's meeting is already in the CRM and you may not change it.")
