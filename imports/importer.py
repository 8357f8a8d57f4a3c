"""The importer: rows of a table → partners, contacts or engagements (with commitments), through the services.

One pass does both the dry run and the import. It runs inside one
transaction: each row in its own savepoint (a bad row is reported and the
next row still checked), and at the end the transaction is rolled back for a
dry run or when any row failed, so a commit is all or nothing and the
preview shows exactly what the commit would do.

Columns are the API's field names (see FIELDS). A mapping sends a field to
one of the file's headers, or to a template such as "{type} of {operator}"
that joins several cells; `defaults` give a value where the cell is empty
(e.g. kind = city for a list of sister cities).

Rules for values:
- An empty cell means "no value": a new record gets the model's default, an
  existing record keeps what it has. An import never blanks a field.
- Lists (topics, staff, partners, contacts) are separated by ";" or new lines;
  slugs, usernames and ids may also be separated by ",". Partner and contact
  names are split on ";" only, since names contain commas.
- A related partner or contact is named by its id ("12" or "#12") or its name
  (accents and case ignored); an ambiguous name is an error that lists the ids.
- Date-times are ISO 8601. Without an offset they are wall-clock times in the
  office's TIME_ZONE; a time that does not exist there (the spring-forward
  gap) is an error, an ambiguous one (the autumn repeat) is read as the first.

Matching, so that importing a file twice creates nothing the second time:
- partner: external_id when given; else name + country (accents and case ignored);
- contact: external_id when given; else partner + full_name;
- engagement: title (accents and case ignored) + starts_at (the same instant);
- commitment: its engagement + description (accents and case ignored).
A matched record whose mapped values are equal is "unchanged" and not written.
An engagement matches only among those the importing user may see: one
hidden from them (restricted, and they took no part) does not exist for their
import, so a row's outcome is the same with or without it, and a commit
creates a new engagement beside it. Partners and contacts are never hidden.

Engagements with commitments: each row may carry one commitment in the
`commitment_*` columns. Rows that repeat an engagement's title and starts_at
add further commitments to it; their other engagement cells must be empty or
equal to the first row's (a different value is an error naming that row).
"""

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from diplomacy_crm.officetime import office_tz
from engagements import services as engagement_services
from engagements.models import Commitment, Confidentiality, Engagement
from partners import services as partner_services
from partners.models import Contact, Partner, Topic

from .reader import Formula, Table, column_letter
from .text import country_code, name_key

MAX_ERRORS = 1000
PREVIEW_ROWS = 200
ENGAGEMENT_HAS_EXTERNAL_ID = any(f.name == "external_id" for f in Engagement._meta.get_fields())


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    help: str = ""
    key: bool = False  # must be mapped: it identifies the record


def _choices_help(choices) -> str:
    return "One of: " + ", ".join(value for value, _ in choices) + "."


PARTNER_FIELDS = [
    Field("name", "Name", "Matched with the country to find an existing partner.", key=True),
    Field("kind", "Kind", _choices_help(Partner.Kind.choices) + " Needed for a new partner."),
    Field("country", "Country", "ISO code (JP) or name (Japan, Viet Nam, Korea, South …)."),
    Field("city", "City"),
    Field("parent", "Parent partner", "Name or id of the body it belongs to."),
    Field("website", "Website"),
    Field("description", "Description"),
    Field("topics", "Topics", "Topic slugs or names, separated by ; or ,"),
    Field("priority", "Priority", "1 (high), 2 or 3 (low)."),
    Field("owner", "Owner", "Username."),
    Field("status", "Status", "active or inactive."),
    Field("external_id", "External id", "Identifier in the source system; re-imports match on it."),
]
CONTACT_FIELDS = [
    Field("partner", "Partner", "Name or id of an existing partner.", key=True),
    Field("full_name", "Full name", "Titles at the start (H.E., Mayor …) go to honorific and position.", key=True),
    Field("honorific", "Honorific", "H.E., Dr., The Hon. …"),
    Field("title", "Position"),
    Field("email", "Email"),
    Field("phone", "Phone"),
    Field("languages", "Languages"),
    Field("protocol_notes", "Protocol notes"),
    Field("is_active", "In post", "yes or no."),
    Field("external_id", "External id"),
]
COMMITMENT_FIELDS = [
    Field("commitment_description", "Commitment", "One commitment made at this engagement."),
    Field("commitment_due_date", "Commitment due date", "YYYY-MM-DD."),
    Field("commitment_made_by", "Commitment made by", _choices_help(Commitment.MadeBy.choices)),
    Field("commitment_owner", "Commitment owner", "Username; default: the importing user."),
    Field("commitment_status", "Commitment status", _choices_help(Commitment.Status.choices)),
    Field("commitment_priority", "Commitment priority", "1, 2 or 3."),
    Field("commitment_partner", "Commitment partner", "Name or id; default: the engagement's only partner."),
]
ENGAGEMENT_FIELDS = [
    Field("title", "Title", key=True),
    Field("kind", "Kind", _choices_help(Engagement.Kind.choices) + " Needed for a new engagement."),
    Field("status", "Status", _choices_help(Engagement.Status.choices)),
    Field("starts_at", "Starts at", "ISO 8601; without an offset, in the office's time zone.", key=True),
    Field("ends_at", "Ends at", "ISO 8601."),
    Field("location", "Location"),
    Field("is_virtual", "Virtual", "yes or no."),
    Field("partners", "Partners", "Names or ids, separated by ;"),
    Field("contacts", "Contacts", "Names or ids, separated by ;"),
    Field("staff", "Staff", "Usernames, separated by ; or ,"),
    Field("city_officials", "City officials"),
    Field("topics", "Topics", "Topic slugs or names, separated by ; or ,"),
    Field("summary", "Summary"),
    Field("outcomes", "Outcomes"),
    Field("confidentiality", "Confidentiality", _choices_help(Confidentiality.choices)),
    Field("follow_up_by", "Follow up by", "YYYY-MM-DD."),
    *([Field("external_id", "External id")] if ENGAGEMENT_HAS_EXTERNAL_ID else []),
    *COMMITMENT_FIELDS,
]
FIELDS = {"partners": PARTNER_FIELDS, "contacts": CONTACT_FIELDS, "engagements": ENGAGEMENT_FIELDS}
KINDS = tuple(FIELDS)
# What a user needs to import each kind (adding; changing existing rows needs change_*).
IMPORT_PERMISSIONS = {
    "partners": "partners.add_partner",
    "contacts": "partners.add_contact",
    "engagements": "engagements.add_engagement",
}


def can_import(user, kind: str) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_perm(IMPORT_PERMISSIONS[kind]))


# --- Results -------------------------------------------------------------------


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self):
        return {"row": self.row, "column": self.column, "message": self.message}

    def __str__(self):
        where = f"row {self.row}" if self.row else "file"
        return f"{where}, {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


@dataclass
class ImportResult:
    kind: str
    total_rows: int = 0
    committed: bool = False
    counts: dict = field(default_factory=dict)  # {"partner": {"created": 3, "updated": 1, "unchanged": 0}}
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    preview: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def count(self, action: str) -> int:
        return sum(by_action.get(action, 0) for by_action in self.counts.values())

    def summary(self) -> str:
        parts = []
        for record, by_action in self.counts.items():
            numbers = ", ".join(f"{by_action.get(a, 0)} {a}" for a in ("created", "updated", "unchanged"))
            parts.append(f"{record}s: {numbers}")
        return "; ".join(parts) or "nothing to do"

    def as_dict(self):
        return {
            "counts": self.counts,
            "errors": [e.as_dict() for e in self.errors],
            "warnings": self.warnings,
            "preview": self.preview,
        }


class MappingError(Exception):
    """The mapping does not fit the file (a field mapped to a missing header, a key field unmapped)."""

    def __init__(self, messages: list[str]):
        super().__init__("; ".join(messages))
        self.messages = messages


class RowInvalid(Exception):
    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__(errors)
        self.errors = errors  # [(field name, message)]


class _Rollback(Exception):
    pass


# --- Mapping -----------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


def _header_key(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", name_key(text))


def default_mapping(kind: str, headers: list[str]) -> dict[str, str]:
    """Map each field to the header with its name or label (case, spaces and accents ignored)."""
    by_key = {_header_key(h): h for h in headers}
    mapping = {}
    for f in FIELDS[kind]:
        for candidate in (f.name, f.label):
            header = by_key.get(_header_key(candidate))
            if header is not None:
                mapping[f.name] = header
                break
    return mapping


def check_mapping(kind: str, headers: list[str], mapping: dict, defaults: dict) -> None:
    """Raise MappingError when the mapping cannot work with these headers."""
    names = {f.name for f in FIELDS[kind]}
    messages = []
    header_set = set(headers)
    for name, spec in mapping.items():
        if name not in names:
            messages.append(f"“{name}” is not a field of {kind}.")
            continue
        if not isinstance(spec, str) or not spec:
            continue
        missing = [p for p in _PLACEHOLDER.findall(spec) if p not in header_set]
        if "{" in spec:
            if missing:
                messages.append(f"{name}: the template names columns the file does not have: {', '.join(missing)}.")
        elif spec not in header_set:
            messages.append(f"{name}: the file has no column “{spec}”.")
    for name in defaults:
        if name not in names:
            messages.append(f"“{name}” is not a field of {kind}.")
    for f in FIELDS[kind]:
        if f.key and not mapping.get(f.name) and not defaults.get(f.name):
            messages.append(f"Map a column to “{f.name}” ({f.label}): it identifies each record.")
    if messages:
        raise MappingError(messages)


def _cells_of(headers: list[str], mapping: dict, defaults: dict):
    """A function turning a row's cells into {field: value} and a dict naming each field's column."""
    index = {h: i for i, h in enumerate(headers)}
    plans = {}
    column_names = {}
    for name, spec in mapping.items():
        if not spec:
            continue
        if "{" in spec:
            parts = [(m.group(1), index[m.group(1)]) for m in _PLACEHOLDER.finditer(spec)]
            plans[name] = ("template", spec, parts)
            column_names[name] = spec
        else:
            plans[name] = ("column", index[spec])
            column_names[name] = f"{spec} ({column_letter(index[spec])})"
    for name in defaults:
        column_names.setdefault(name, f"{name} (default)")

    def cells(row: list) -> dict:
        values = {}
        for name, plan in plans.items():
            if plan[0] == "column":
                values[name] = row[plan[1]] if plan[1] < len(row) else None
            else:
                spec = plan[1]
                for header, i in plan[2]:
                    cell = row[i] if i < len(row) else None
                    if isinstance(cell, Formula):
                        values[name] = cell
                        break
                    spec = spec.replace("{" + header + "}", _as_text(cell))
                else:
                    values[name] = re.sub(r"\s+", " ", spec).strip()
        for name, default in defaults.items():
            if default not in (None, "") and _is_empty(values.get(name)):
                values[name] = default
        return values

    return cells, column_names


# --- Cell conversion ---------------------------------------------------------------------

TRUE = {"1", "true", "yes", "y", "t", "x", "on", "✓"}
FALSE = {"0", "false", "no", "n", "f", "off", "-"}
_ID = re.compile(r"#?(\d{1,18})")


def _is_empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value).strip()


def split_list(text: str, *, commas: bool) -> list[str]:
    parts = re.split(r"[;\n]" if not commas else r"[;,\n]", text)
    seen, items = set(), []
    for part in (p.strip() for p in parts):
        if part and part.casefold() not in seen:
            seen.add(part.casefold())
            items.append(part)
    return items


def parse_datetime(value) -> dt.datetime:
    """An aware datetime from an ISO 8601 string or a spreadsheet date-time; ValueError with a reason."""
    if isinstance(value, dt.datetime):
        naive = value
    elif isinstance(value, dt.date):
        naive = dt.datetime.combine(value, dt.time())
    else:
        text = _as_text(value)
        try:
            naive = dt.datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(
                f"“{text[:60]}” is not an ISO 8601 date-time (e.g. 2025-03-14T10:00 or 2025-03-14T10:00-07:00)."
            ) from None
    if naive.tzinfo is not None:
        return naive
    zone = office_tz()
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise ValueError(
            f"{naive.isoformat(timespec='minutes')} does not exist in {settings.TIME_ZONE}: the clocks jump "
            "forward then. Give the offset, or another time."
        )
    return aware


def parse_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _as_text(value)
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"“{text[:60]}” is not a date (YYYY-MM-DD).") from None


def parse_choice(value, choices) -> str:
    text = _as_text(value)
    wanted = _header_key(text)
    for choice_value, label in choices:
        if wanted in (_header_key(str(choice_value)), _header_key(str(label))):
            return choice_value
    allowed = ", ".join(str(v) for v, _ in choices)
    raise ValueError(f"“{text[:60]}” is not one of: {allowed}.")


def parse_priority(value) -> int:
    words = {"high": 1, "medium": 2, "normal": 2, "low": 3}
    text = _as_text(value).casefold()
    if text in words:
        return words[text]
    if text in ("1", "2", "3"):
        return int(text)
    raise ValueError(f"“{text[:20]}” is not a priority: use 1 (high), 2 or 3 (low).")


def parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    text = _as_text(value).casefold()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueError(f"“{text[:20]}” is not yes or no.")


# Titles written before a name in real lists ("Prime Minister Kyriakos Mitsotakis", "H.E. …").
HONORIFICS = [
    "His Excellency", "Her Excellency", "H.E.", "HE", "The Right Honourable", "The Right Honorable", "The Rt. Hon.",
    "Rt. Hon.", "The Honourable", "The Honorable", "The Hon.", "Hon.", "His Majesty", "Her Majesty",
    "His Royal Highness", "Her Royal Highness", "HRH", "His Holiness", "His Highness", "Her Highness",
    "Dr.", "Dr", "Prof.", "Professor", "Mr.", "Mrs.", "Ms.", "Mr", "Mrs", "Ms", "Sir", "Dame",
]
TITLES = [
    "Interim President", "Acting President", "Vice President", "President-elect", "President",
    "Prime Minister", "Deputy Prime Minister", "First Minister", "Chancellor", "Premier", "Governor General",
    "Governor", "Lieutenant Governor", "Mayor", "Deputy Mayor", "Lord Mayor", "Secretary General",
    "Secretary-General", "Foreign Minister", "Minister", "Ambassador", "Consul General", "Consul",
    "Crown Prince", "Crown Princess", "Grand Duke", "Grand Duchess", "King", "Queen", "Emperor", "Empress",
    "Sultan", "Emir", "Amir", "Sheikh", "Prince", "Princess", "Chairman", "Chairwoman", "Chair", "Pope",
    "General", "Archbishop", "Cardinal",
]
_HONORIFIC_RE = re.compile(r"^(" + "|".join(re.escape(h) for h in sorted(HONORIFICS, key=len, reverse=True)) + r")\s+", re.I)
_TITLE_RE = re.compile(r"^(" + "|".join(re.escape(t) for t in sorted(TITLES, key=len, reverse=True)) + r")\s+", re.I)


def split_titles(full_name: str) -> tuple[str, str, str]:
    """("H.E. Prime Minister Jane Doe") → ("H.E.", "Prime Minister", "Jane Doe"); a bare name stays whole."""
    honorific = title = ""
    rest = full_name.strip()
    match = _HONORIFIC_RE.match(rest)
    if match and rest[match.end():].strip():
        honorific, rest = match.group(1), rest[match.end():].strip()
    match = _TITLE_RE.match(rest)
    if match and len(rest[match.end():].split()) >= 1:
        title, rest = match.group(1), rest[match.end():].strip()
    return honorific, title, rest


# --- Lookups -----------------------------------------------------------------------------


class PartnerIndex:
    """Every partner's id, name key, country and external id, to match and resolve rows without a query each."""

    def __init__(self):
        self.by_external: dict[str, int] = {}
        self.by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
        self.by_name: dict[str, list[int]] = defaultdict(list)
        self.ids: set[int] = set()
        self.external_of: dict[int, str] = {}
        for pk, name, country, external_id in Partner.objects.values_list("pk", "name", "country", "external_id"):
            self.add(pk, name, country, external_id)

    def add(self, pk, name, country, external_id):
        country = getattr(country, "code", country) or ""
        self.ids.add(pk)
        if external_id:
            self.by_external[external_id] = pk
            self.external_of[pk] = external_id
        key = name_key(name)
        if pk not in self.by_key[(key, country)]:
            self.by_key[(key, country)].append(pk)
        if pk not in self.by_name[key]:
            self.by_name[key].append(pk)

    def resolve(self, ref: str) -> int:
        """A partner id from "12", "#12" or a name; ValueError naming the problem."""
        match = _ID.fullmatch(ref.strip())
        if match:
            pk = int(match.group(1))
            if pk in self.ids:
                return pk
            if ref.strip().startswith("#"):
                raise ValueError(f"no partner has the id {pk}.")
        found = self.by_name.get(name_key(ref), [])
        if len(found) == 1:
            return found[0]
        if not found:
            raise ValueError(f"no partner is named “{ref[:80]}”.")
        ids = ", ".join(str(i) for i in sorted(found)[:5])
        raise ValueError(f"{len(found)} partners are named “{ref[:80]}” (ids {ids}): give the id instead.")


class ContactIndex:
    def __init__(self):
        self.by_external: dict[str, int] = {}
        self.by_key: dict[tuple[int, str], int] = {}
        self.by_name: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self.ids: set[int] = set()
        for pk, partner_id, full_name, external_id in Contact.objects.values_list(
            "pk", "partner_id", "full_name", "external_id"
        ):
            self.add(pk, partner_id, full_name, external_id)

    def add(self, pk, partner_id, full_name, external_id):
        self.ids.add(pk)
        if external_id:
            self.by_external[external_id] = pk
        key = name_key(full_name)
        self.by_key.setdefault((partner_id, key), pk)
        if (pk, partner_id) not in self.by_name[key]:
            self.by_name[key].append((pk, partner_id))

    def resolve(self, ref: str, partner_ids: set[int]) -> int:
        match = _ID.fullmatch(ref.strip())
        if match and int(match.group(1)) in self.ids:
            return int(match.group(1))
        candidates = self.by_name.get(name_key(_strip_titles(ref)), [])
        among_partners = [pk for pk, partner_id in candidates if partner_id in partner_ids]
        chosen = among_partners or [pk for pk, _ in candidates]
        if len(chosen) == 1:
            return chosen[0]
        if not chosen:
            raise ValueError(f"no contact is named “{ref[:80]}”.")
        ids = ", ".join(str(i) for i in sorted(chosen)[:5])
        raise ValueError(f"{len(chosen)} contacts are named “{ref[:80]}” (ids {ids}): give the id instead.")


def _strip_titles(name: str) -> str:
    return split_titles(name)[2]


class Lookups:
    """Users and topics, loaded once per import."""

    def __init__(self):
        User = get_user_model()
        self.users = {u.get_username(): u for u in User.objects.filter(is_active=True)}
        self.users_folded = defaultdict(list)
        for username, user in self.users.items():
            self.users_folded[username.casefold()].append(user)
        self.topics = {}
        for topic in Topic.objects.all():
            self.topics[topic.slug.casefold()] = topic
            self.topics.setdefault(name_key(topic.name), topic)

    def user(self, username: str):
        if username in self.users:
            return self.users[username]
        folded = self.users_folded.get(username.casefold(), [])
        if len(folded) == 1:
            return folded[0]
        raise ValueError(f"no active user has the username “{username[:80]}”.")

    def topic(self, ref: str):
        topic = self.topics.get(ref.casefold()) or self.topics.get(name_key(ref))
        if topic is None:
            raise ValueError(f"no topic “{ref[:80]}” (officers add topics in the admin).")
        return topic


# --- Row parsing ---------------------------------------------------------------------


class Cells:
    """One row's mapped values, with typed getters that collect errors instead of raising."""

    def __init__(self, values: dict):
        self.values = values
        self.errors: list[tuple[str, str]] = []

    def raw(self, name):
        value = self.values.get(name)
        if isinstance(value, Formula):
            self.errors.append(
                (name, f"the cell holds a formula ({str(value)[:40]}); import takes values: paste as values, then save.")
            )
            return None
        if _is_empty(value):
            return None
        if isinstance(value, str):
            if "\x00" in value:
                self.errors.append((name, "the cell contains a NUL character."))
                return None
            return value.strip()
        return value

    def has(self, name) -> bool:
        return not _is_empty(self.values.get(name))

    def text(self, name):
        value = self.raw(name)
        return None if value is None else _as_text(value)

    def typed(self, name, parser, *args):
        value = self.raw(name)
        if value is None:
            return None
        try:
            return parser(value, *args)
        except ValueError as exc:
            self.errors.append((name, str(exc)))
            return None

    def each(self, name, resolve, *, commas: bool):
        text = self.text(name)
        if text is None:
            return None
        items = []
        for part in split_list(text, commas=commas):
            try:
                items.append(resolve(part))
            except ValueError as exc:
                self.errors.append((name, str(exc)))
        return items

    def check(self):
        if self.errors:
            raise RowInvalid(self.errors)


# The name fields that are part of a natural key: a spelling that differs only in case or accents
# matched the record, and the record keeps its own spelling (so a file holding both is idempotent).
KEY_NAMES = {"name", "full_name", "title"}


def _diff(instance, data: dict) -> dict:
    """The part of `data` that differs from `instance` (foreign keys by id, many-to-many as sets)."""
    changed = {}
    for name, value in data.items():
        if name in KEY_NAMES and name_key(getattr(instance, name)) == name_key(value):
            continue
        model_field = instance._meta.get_field(name)
        if model_field.many_to_many:
            current = {o.pk for o in getattr(instance, name).all()} if instance.pk else set()
            if current != {o.pk for o in value}:
                changed[name] = value
        elif model_field.is_relation:
            if getattr(instance, model_field.attname) != getattr(value, "pk", value):
                changed[name] = value
        else:
            current = getattr(instance, name)
            current = getattr(current, "code", current)  # a CountryField gives a Country object
            if current != value:
                changed[name] = value
    return changed


# --- The importers --------------------------------------------------------------------


class BaseImporter:
    record = ""

    def __init__(self, actor, options: dict):
        self.actor = actor
        self.options = options
        self.lookups = Lookups()
        self.warnings: list[str] = []

    def allowed(self, perm: str) -> bool:
        return self.actor is None or self.actor.has_perm(perm)

    def deny(self, field_name: str, message: str):
        raise RowInvalid([(field_name, message)])


class PartnerImporter(BaseImporter):
    record = "partner"

    def __init__(self, actor, options):
        super().__init__(actor, options)
        self.partners = PartnerIndex()

    def import_row(self, number: int, cells: Cells) -> list[tuple[str, str, str]]:
        data = {}
        name = cells.text("name")
        if name is None:
            cells.errors.append(("name", "a partner needs a name."))
        else:
            data["name"] = name
        if cells.has("country"):
            country = cells.text("country")
            code = country_code(country) if country else None
            if code is None and country is not None:
                cells.errors.append(("country", f"“{country[:60]}” is not a country name or ISO code."))
            elif code:
                data["country"] = code
        for text_field in ("city", "website", "description", "external_id"):
            value = cells.text(text_field)
            if value is not None:
                data[text_field] = value
        for choice_field, choices in (("kind", Partner.Kind.choices), ("status", Partner.Status.choices)):
            value = cells.typed(choice_field, parse_choice, choices)
            if value is not None:
                data[choice_field] = value
        priority = cells.typed("priority", parse_priority)
        if priority is not None:
            data["priority"] = priority
        owner = cells.typed("owner", lambda v: self.lookups.user(_as_text(v)))
        if owner is not None:
            data["owner"] = owner
        parent_id = cells.typed("parent", lambda v: self.partners.resolve(_as_text(v)))
        topics = cells.each("topics", self.lookups.topic, commas=True)
        if topics is not None:
            data["topics"] = topics
        cells.check()

        existing = self._match(data)
        if parent_id is not None:
            if existing is not None and parent_id == existing.pk:
                raise RowInvalid([("parent", "a partner cannot be its own parent.")])
            data["parent"] = Partner.objects.get(pk=parent_id)
        if existing is None:
            if "kind" not in data:
                self.deny("kind", "a new partner needs a kind (map a column or set a default).")
            if not self.allowed("partners.add_partner"):
                self.deny("", "you may not add partners.")
            partner = partner_services.partner_create(actor=self.actor, **data)
            action = "created"
        else:
            changes = _diff(existing, data)
            if not changes:
                return [(self.record, "unchanged", existing.name)]
            if not self.allowed("partners.change_partner"):
                self.deny("", f"this would change partner #{existing.pk} ({', '.join(changes)}); you may add partners "
                              "but not change them.")
            partner = partner_services.partner_update(partner=existing, actor=self.actor, **changes)
            action = "updated"
        self.partners.add(partner.pk, partner.name, partner.country, partner.external_id)
        return [(self.record, action, partner.name)]

    def _match(self, data) -> Partner | None:
        pk = None
        external_id = data.get("external_id")
        if external_id:
            pk = self.partners.by_external.get(external_id)
        if pk is None and "name" in data:
            for candidate in self.partners.by_key.get((name_key(data["name"]), data.get("country", "")), []):
                # A record with the same name but another source's id is someone else.
                if not external_id or not self.partners.external_of.get(candidate):
                    pk = candidate
                    break
        if pk is None:
            return None
        return Partner.objects.select_related("parent").prefetch_related("topics").get(pk=pk)


class ContactImporter(BaseImporter):
    record = "contact"

    def __init__(self, actor, options):
        super().__init__(actor, options)
        self.partners = PartnerIndex()
        self.contacts = ContactIndex()

    def import_row(self, number: int, cells: Cells):
        data = {}
        partner_id = cells.typed("partner", lambda v: self.partners.resolve(_as_text(v)))
        full_name = cells.text("full_name")
        if full_name is None:
            cells.errors.append(("full_name", "a contact needs a full name."))
        for text_field in ("honorific", "title", "email", "phone", "languages", "protocol_notes", "external_id"):
            value = cells.text(text_field)
            if value is not None:
                data[text_field] = value
        is_active = cells.typed("is_active", parse_bool)
        if is_active is not None:
            data["is_active"] = is_active
        if partner_id is None and not cells.errors:
            cells.errors.append(("partner", "a contact needs a partner (name or id)."))
        cells.check()
        if self.options.get("split_titles", True):
            honorific, title, bare = split_titles(full_name)
            if bare != full_name and bare:
                if honorific and "honorific" not in data:
                    data["honorific"] = honorific
                if title and "title" not in data:
                    data["title"] = title
                self.warnings.append(f"Row {number}: “{full_name}” read as {', '.join(filter(None, (honorific, title)))} + “{bare}”.")
                full_name = bare
        data["full_name"] = full_name
        data["partner"] = Partner(pk=partner_id)

        pk = None
        if data.get("external_id"):
            pk = self.contacts.by_external.get(data["external_id"])
        if pk is None:
            pk = self.contacts.by_key.get((partner_id, name_key(full_name)))
        if pk is None:
            if not self.allowed("partners.add_contact"):
                self.deny("", "you may not add contacts.")
            data["partner"] = Partner.objects.get(pk=partner_id)
            contact = partner_services.contact_create(actor=self.actor, **data)
            action = "created"
        else:
            existing = Contact.objects.get(pk=pk)
            changes = _diff(existing, data)
            if not changes:
                return [(self.record, "unchanged", existing.full_name)]
            if not self.allowed("partners.change_contact"):
                self.deny("", f"this would change contact #{existing.pk}; you may not change contacts.")
            if "partner" in changes:
                changes["partner"] = Partner.objects.get(pk=partner_id)
            contact = partner_services.contact_update(contact=existing, actor=self.actor, **changes)
            action = "updated"
        self.contacts.add(contact.pk, contact.partner_id, contact.full_name, contact.external_id)
        return [(self.record, action, contact.full_name)]


ENGAGEMENT_COLUMNS = [f.name for f in ENGAGEMENT_FIELDS if not f.name.startswith("commitment_")]


class EngagementImporter(BaseImporter):
    record = "engagement"

    def __init__(self, actor, options):
        super().__init__(actor, options)
        self.partners = PartnerIndex()
        self.contacts = ContactIndex()
        # (title key, starts_at) → (engagement id, first row number, that row's values)
        self.seen: dict[tuple[str, dt.datetime], tuple[int, int, dict]] = {}
        self.failed: dict[tuple[str, dt.datetime], int] = {}  # engagements whose first row failed

    def import_row(self, number: int, cells: Cells):
        title = cells.text("title")
        if title is None:
            cells.errors.append(("title", "an engagement needs a title."))
        starts_at = cells.typed("starts_at", parse_datetime)
        if starts_at is None and not any(f == "starts_at" for f, _ in cells.errors):
            cells.errors.append(("starts_at", "an engagement needs a start (starts_at)."))
        if cells.errors:
            cells.check()
        key = (name_key(title), starts_at)
        outcomes = []
        if key in self.failed:
            # The row that gives this engagement is wrong and reported; check only this row's commitment.
            if cells.has("commitment_description"):
                self._commitment_data(cells)
            return []
        try:
            return self._import_row(number, cells, key, outcomes, title, starts_at)
        except (RowInvalid, ValidationError, DatabaseError):
            if key not in self.seen:
                self.failed[key] = number
            raise

    def _import_row(self, number, cells, key, outcomes, title, starts_at):
        if key in self.seen:
            engagement_id, first_row, first_values = self.seen[key]
            for name in ENGAGEMENT_COLUMNS:
                if name not in ("title", "starts_at") and cells.has(name) and _as_text(cells.values.get(name)) != _as_text(first_values.get(name)):
                    cells.errors.append((name, f"differs from row {first_row}, which gives this engagement; leave it "
                                               "empty or repeat the same value."))
            cells.check()
            engagement = Engagement.objects.get(pk=engagement_id)
        else:
            engagement, action = self._engagement(cells, title, starts_at)
            outcomes.append((self.record, action, engagement.title))
        if cells.has("commitment_description"):
            outcomes.append(self._commitment(cells, engagement))
        elif not outcomes:
            outcomes.append((self.record, "unchanged", engagement.title))
        # Only once the whole row stands (its savepoint may still roll the engagement back otherwise).
        self.seen.setdefault(key, (engagement.pk, number, dict(cells.values)))
        return outcomes

    def _engagement(self, cells: Cells, title: str, starts_at):
        data = {"title": title, "starts_at": starts_at}
        for text_field in ("location", "city_officials", "summary", "outcomes", "external_id"):
            if text_field == "external_id" and not ENGAGEMENT_HAS_EXTERNAL_ID:
                continue
            value = cells.text(text_field)
            if value is not None:
                data[text_field] = value
        for choice_field, choices in (
            ("kind", Engagement.Kind.choices),
            ("status", Engagement.Status.choices),
            ("confidentiality", Confidentiality.choices),
        ):
            value = cells.typed(choice_field, parse_choice, choices)
            if value is not None:
                data[choice_field] = value
        ends_at = cells.typed("ends_at", parse_datetime)
        if ends_at is not None:
            data["ends_at"] = ends_at
        follow_up_by = cells.typed("follow_up_by", parse_date)
        if follow_up_by is not None:
            data["follow_up_by"] = follow_up_by
        is_virtual = cells.typed("is_virtual", parse_bool)
        if is_virtual is not None:
            data["is_virtual"] = is_virtual
        partner_ids = cells.each("partners", self.partners.resolve, commas=False)
        if partner_ids is not None:
            data["partners"] = list(Partner.objects.filter(pk__in=partner_ids))
        contact_ids = cells.each("contacts", lambda ref: self.contacts.resolve(ref, set(partner_ids or [])), commas=False)
        if contact_ids is not None:
            data["contacts"] = list(Contact.objects.filter(pk__in=contact_ids))
        staff = cells.each("staff", self.lookups.user, commas=True)
        if staff is not None:
            data["staff"] = staff
        topics = cells.each("topics", self.lookups.topic, commas=True)
        if topics is not None:
            data["topics"] = topics
        cells.check()

        existing = self._match(data)
        if existing is None:
            if "kind" not in data:
                self.deny("kind", "a new engagement needs a kind (map a column or set a default).")
            if not self.allowed("engagements.add_engagement"):
                self.deny("", "you may not add engagements.")
            return engagement_services.engagement_create(actor=self.actor, **data), "created"
        changes = _diff(existing, data)
        if not changes:
            return existing, "unchanged"
        if not self.allowed("engagements.change_engagement"):
            self.deny("", f"this would change engagement #{existing.pk}; you may not change engagements.")
        return engagement_services.engagement_update(engagement=existing, actor=self.actor, **changes), "updated"

    def _candidates(self):
        """The engagements a row may match: those the importing user may see (accounts.access).

        A record hidden from the user is not there for the import: a row with
        its title and start is "created", exactly as if it did not exist, and a
        commit creates a new engagement beside it (leaving it untouched). So
        neither the check nor the commit tells whether such a record exists.
        The command line (no actor) imports as the system and matches everything.
        """
        engagements = Engagement.objects.all()
        return engagements if self.actor is None else engagements.visible_to(self.actor)

    def _match(self, data) -> Engagement | None:
        if ENGAGEMENT_HAS_EXTERNAL_ID and data.get("external_id"):
            found = self._candidates().filter(external_id=data["external_id"]).first()
            if found:
                return found
        wanted = name_key(data["title"])
        for engagement in self._candidates().filter(starts_at=data["starts_at"]).prefetch_related(
            "partners", "contacts", "staff", "topics"
        ):
            if name_key(engagement.title) == wanted:
                return engagement
        return None

    def _commitment(self, cells: Cells, engagement: Engagement):
        data = self._commitment_data(cells)
        return self._save_commitment(data, engagement)

    def _commitment_data(self, cells: Cells) -> dict:
        description = cells.text("commitment_description")
        data = {"description": description}
        due = cells.typed("commitment_due_date", parse_date)
        if due is not None:
            data["due_date"] = due
        for name, model_field, choices in (
            ("commitment_made_by", "made_by", Commitment.MadeBy.choices),
            ("commitment_status", "status", Commitment.Status.choices),
        ):
            value = cells.typed(name, parse_choice, choices)
            if value is not None:
                data[model_field] = value
        priority = cells.typed("commitment_priority", parse_priority)
        if priority is not None:
            data["priority"] = priority
        owner = cells.typed("commitment_owner", lambda v: self.lookups.user(_as_text(v)))
        if owner is not None:
            data["owner"] = owner
        partner_id = cells.typed("commitment_partner", lambda v: self.partners.resolve(_as_text(v)))
        cells.check()
        if partner_id is not None:
            data["partner"] = Partner.objects.get(pk=partner_id)
        return data

    def _save_commitment(self, data: dict, engagement: Engagement):
        description = data["description"]
        existing = None
        wanted = name_key(description)
        for commitment in engagement.commitments.all():
            if name_key(commitment.description) == wanted:
                existing = commitment
                break
        if existing is None:
            if "partner" not in data:
                partners = list(engagement.partners.all())
                if len(partners) == 1:
                    data["partner"] = partners[0]
            if not self.allowed("engagements.add_commitment"):
                self.deny("commitment_description", "you may not add commitments.")
            commitment = engagement_services.commitment_create(actor=self.actor, engagement=engagement, **data)
            return ("commitment", "created", commitment.description[:80])
        changes = _diff(existing, data)
        if not changes:
            return ("commitment", "unchanged", existing.description[:80])
        if not self.allowed("engagements.change_commitment"):
            self.deny("commitment_description", "you may not change commitments.")
        engagement_services.commitment_update(commitment=existing, actor=self.actor, **changes)
        return ("commitment", "updated", existing.description[:80])


IMPORTERS = {"partners": PartnerImporter, "contacts": ContactImporter, "engagements": EngagementImporter}
# Model field names of a commitment, as the service's errors name them, back to their columns.
COMMITMENT_ERROR_FIELDS = {
    "description": "commitment_description",
    "due_date": "commitment_due_date",
    "made_by": "commitment_made_by",
    "owner": "commitment_owner",
    "status": "commitment_status",
    "priority": "commitment_priority",
    "partner": "commitment_partner",
    "completed_on": "commitment_status",
}


def _validation_errors(exc: ValidationError, kind: str, in_commitment: bool) -> list[tuple[str, str]]:
    if not hasattr(exc, "error_dict"):
        return [("", " ".join(exc.messages))]
    errors = []
    for name, messages in exc.message_dict.items():
        if in_commitment:
            name = COMMITMENT_ERROR_FIELDS.get(name, name)
        if name.startswith("commitments["):
            name = "commitment_description"
        errors.append(("" if name == "__all__" else name, " ".join(messages)))
    return errors


# --- The pass ------------------------------------------------------------------------


def run_import(
    *,
    kind: str,
    table: Table,
    mapping: dict | None = None,
    defaults: dict | None = None,
    actor=None,
    commit: bool = False,
    options: dict | None = None,
    progress: Callable[[int], None] | None = None,
    on_commit_success: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """Check (commit=False) or import (commit=True) every row of `table`; see the module docstring.

    Writes happen only when `commit` is true and no row has an error; then
    `on_commit_success(result)` runs inside the same transaction (the import
    job marks itself imported there, so its status and the data commit together).
    Raises MappingError when the mapping does not fit the headers.
    """
    if kind not in IMPORTERS:
        raise MappingError([f"Unknown kind “{kind}”: use one of {', '.join(KINDS)}."])
    mapping = default_mapping(kind, table.headers) if mapping is None else {k: v for k, v in mapping.items() if v}
    defaults = {k: v for k, v in (defaults or {}).items() if v not in (None, "")}
    check_mapping(kind, table.headers, mapping, defaults)
    cells_of, column_names = _cells_of(table.headers, mapping, defaults)
    result = ImportResult(kind=kind, total_rows=len(table.rows), warnings=list(table.warnings))
    unmapped = [h for h in table.headers if h not in mapping.values() and not any(
        "{" + h + "}" in spec for spec in mapping.values())]
    if unmapped:
        result.warnings.append(f"Columns not imported: {', '.join(unmapped[:30])}{' …' if len(unmapped) > 30 else ''}.")

    def add_errors(number, pairs):
        for name, message in pairs:
            result.errors.append(RowError(number, column_names.get(name, name), message))

    try:
        with transaction.atomic():
            importer = IMPORTERS[kind](actor, options or {})
            for done, (number, row) in enumerate(table.rows, start=1):
                cells = Cells(cells_of(row))
                if len(row) > len(table.headers) and any(not _is_empty(v) for v in row[len(table.headers):]):
                    add_errors(number, [("", f"the row has {len(row)} cells but the header only {len(table.headers)}.")])
                else:
                    in_commitment = False
                    try:
                        with transaction.atomic():
                            in_commitment = cells.has("commitment_description")
                            outcomes = importer.import_row(number, cells)
                    except RowInvalid as exc:
                        add_errors(number, exc.errors)
                    except ValidationError as exc:
                        add_errors(number, _validation_errors(exc, kind, in_commitment))
                    except DatabaseError as exc:
                        add_errors(number, [("", f"the database refused this row ({str(exc).splitlines()[0][:200]}).")])
                    else:
                        for record, action, label in outcomes:
                            by_action = result.counts.setdefault(record, {"created": 0, "updated": 0, "unchanged": 0})
                            by_action[action] += 1
                        if len(result.preview) < PREVIEW_ROWS:
                            result.preview.append({
                                "row": number,
                                "outcomes": [{"record": r, "action": a, "label": lbl} for r, a, lbl in outcomes],
                            })
                if len(result.errors) >= MAX_ERRORS:
                    result.errors.append(RowError(number, "", f"More than {MAX_ERRORS} errors: stopped checking here."))
                    break
                if progress and (done % 100 == 0 or done == len(table.rows)):
                    progress(done)
            result.warnings.extend(importer.warnings[:200])
            if commit and result.ok:
                result.committed = True
                if on_commit_success:
                    on_commit_success(result)
            else:
                raise _Rollback
    except _Rollback:
        pass
    return result
