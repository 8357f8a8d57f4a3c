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
  An end given as a date alone means the end of that day (parse_end_datetime).
- A template's value needs every column it names: all empty → no value, some
  empty → a row error named by the field (never "embassy of Cuba in").

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

import re
from dataclasses import dataclass, field

from accounts import access
from engagements.models import Commitment, Confidentiality, Engagement, Gift, TradeMission
from partners.models import Agreement, Partner

from .reader import Formula, column_letter

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
    Field("ends_at", "Ends at", "ISO 8601; a date alone (2025-03-14) means the end of that day."),
    Field("venue_timezone", "Time zone", "Where it takes place, as an IANA name (Europe/Rome, Asia/Tokyo): times "
          "without an offset are that zone's clock, a date-alone end is the end of that day there; kept as the venue "
          "time zone. A column named time_zone or venue_timezone is found by itself."),
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
# The three kinds below: imports/kinds/gifts.py, agreements.py, missions.py (their natural keys are there).
GIFT_FIELDS = [
    Field("exchanged_on", "Date", "YYYY-MM-DD: when the gift changed hands. With direction, from, to and description "
          "it identifies the gift.", key=True),
    Field("direction", "Direction", _choices_help(Gift.Direction.choices) + " Needed for a new gift.", key=True),
    Field("giver", "From", "Who gave it (a person or body, as written).", key=True),
    Field("recipient", "To", "Who received it (part of the gift's identity with date, direction, from and description)."),
    Field("description", "Description", "What the gift is. Matched with date, direction and from.", key=True),
    Field("partner", "Partner", "Name or id of the partner the giver or recipient belongs to."),
    Field("engagement", "Engagement", "Id of the engagement where it was exchanged (\"12\" or \"#12\")."),
    Field("estimated_value", "Estimated value", "A number, without the currency (1500 or 1500.00)."),
    Field("currency", "Currency", "ISO 4217 code (USD, EUR, JPY); default USD."),
    Field("disposition", "Disposition", _choices_help(Gift.Disposition.choices)),
]
AGREEMENT_FIELDS = [
    Field("title", "Title", "Identifies the agreement (accents and case as in the matching rule).", key=True),
    Field("kind", "Kind", _choices_help(Agreement.Kind.choices) + " Needed for a new agreement."),
    Field("partners", "Partners", "Names or ids, separated by ;"),
    Field("signed_on", "Signed on", "YYYY-MM-DD."),
    Field("expires_on", "Expires on", "YYYY-MM-DD."),
    Field("notice_by", "Notice by", "YYYY-MM-DD: the last day to give notice."),
    Field("status", "Status", _choices_help(Agreement.Status.choices)),
    Field("summary", "Summary"),
    Field("owner", "Owner", "Username."),
]
MISSION_FIELDS = [
    Field("name", "Name", "With the start date it identifies the mission.", key=True),
    Field("start_date", "Start date", "YYYY-MM-DD.", key=True),
    Field("end_date", "End date", "YYYY-MM-DD; default: the start date (a one-day mission)."),
    Field("direction", "Direction", _choices_help(TradeMission.Direction.choices)),
    Field("cities", "Cities", "Comma-separated, in itinerary order."),
    Field("lead", "Lead", "Who leads the delegation, e.g. the Mayor."),
    Field("owner", "Owner", "Username."),
    Field("objectives", "Objectives"),
    Field("partners", "Partners", "Names or ids, separated by ;"),
    Field("delegates", "Delegates", "Contact names or ids, separated by ;"),
    Field("outcomes", "Outcomes"),
    Field("status", "Status", _choices_help(TradeMission.Status.choices)),
]
FIELDS = {"partners": PARTNER_FIELDS, "contacts": CONTACT_FIELDS, "engagements": ENGAGEMENT_FIELDS,
          "gifts": GIFT_FIELDS, "agreements": AGREEMENT_FIELDS, "missions": MISSION_FIELDS}
KINDS = tuple(FIELDS)
# What a user needs to import each kind: accounts.access, the one home of who may do what.
IMPORT_PERMISSIONS = access.IMPORT_PERMISSIONS


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

    @property
    def bad_rows(self) -> list[int]:
        """The row numbers with at least one error (the file's own problems, row 0, are not rows)."""
        return sorted({e.row for e in self.errors if e.row})

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


IGNORE = "-"  # `--map description=-`: the field is not imported, and no column is guessed for it


def resolve_mapping(kind: str, headers: list[str], stated: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The whole mapping from what the user stated, and the fields whose column was guessed.

    What is stated wins entirely: a field mapped to IGNORE is not imported.
    Guesses (a column named like a field) are made only for fields the user
    left out, and only from columns the user's mapping does not already read.
    """
    mapping = {name: spec for name, spec in stated.items() if spec and spec != IGNORE}
    used = set()
    for spec in mapping.values():
        used.update(_PLACEHOLDER.findall(spec) if "{" in spec else [spec])
    guessed = []
    for name, header in default_mapping(kind, headers).items():
        if name in stated or header in used:
            continue
        mapping[name] = header
        used.add(header)
        guessed.append(name)
    return mapping, guessed


def mapping_rows(kind: str, headers: list[str], mapping: dict, defaults: dict | None = None) -> list[dict]:
    """Column → field, one entry per column of the file (in its order), then the fixed values.

    [{"column": "Name", "fields": ["name"]}, {"column": "notes", "fields": []}, …,
     {"column": None, "fields": ["kind"], "value": "city"}]; an empty "fields" means not imported.
    """
    reads = {h: [] for h in headers}
    for f in FIELDS[kind]:
        spec = mapping.get(f.name)
        if not spec or spec == IGNORE:
            continue
        for header in (_PLACEHOLDER.findall(spec) if "{" in spec else [spec]):
            if header in reads and f.name not in reads[header]:
                reads[header].append(f.name)
    rows = [{"column": h, "fields": reads[h]} for h in headers]
    for name, value in (defaults or {}).items():
        rows.append({"column": None, "fields": [name], "value": value})
    return rows


def check_mapping(kind: str, headers: list[str], mapping: dict, defaults: dict) -> None:
    """Raise MappingError when the mapping cannot work with these headers."""
    names = {f.name for f in FIELDS[kind]}
    messages = []
    header_set = set(headers)
    for name, spec in mapping.items():
        if name not in names:
            messages.append(f"“{name}” is not a field of {kind}.")
            continue
        if not isinstance(spec, str) or not spec or spec == IGNORE:
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


@dataclass(frozen=True)
class TemplateGap:
    """A template some of whose columns are empty in this row: a row error, never a value with a fragment missing."""

    spec: str
    empty: tuple[str, ...]

    def message(self) -> str:
        columns = ", ".join(f"“{c}”" for c in self.empty)
        return (f"the template “{self.spec}” needs every column it names, and {columns} "
                f"{'is' if len(self.empty) == 1 else 'are'} empty here: fill the cell, or map a template without it.")


def template_label(name: str, spec: str) -> str:
    """How errors name a field filled by a template: by the field, then the template."""
    return f"{name} (template “{spec}”)"


def _cells_of(headers: list[str], mapping: dict, defaults: dict):
    """A function turning a row's cells into {field: value} and a dict naming each field's column.

    A template's value is its text with every column filled in. When all its
    columns are empty the field has no value (a default may fill it); when
    only some are, the value is a TemplateGap (the pass reports it), so
    "{type} of {country} in {city}" never gives "embassy of Cuba in".
    """
    index = {h: i for i, h in enumerate(headers)}
    plans = {}
    column_names = {}
    for name, spec in mapping.items():
        if not spec or spec == IGNORE:
            continue
        if "{" in spec:
            parts = [(m.group(1), index[m.group(1)]) for m in _PLACEHOLDER.finditer(spec)]
            plans[name] = ("template", spec, parts)
            column_names[name] = template_label(name, spec)
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
                continue
            spec, filled, empty = plan[1], {}, []
            for header, i in plan[2]:
                cell = row[i] if i < len(row) else None
                if isinstance(cell, Formula):
                    values[name] = cell
                    break
                text = _as_text(cell)
                if text:
                    filled[header] = text
                else:
                    empty.append(header)
            else:
                if not filled:
                    values[name] = None
                elif empty:
                    values[name] = TemplateGap(spec, tuple(dict.fromkeys(empty)))
                else:
                    text = _PLACEHOLDER.sub(lambda m: filled[m.group(1)], spec)
                    values[name] = re.sub(r"\s+", " ", text).strip()
        for name, default in defaults.items():
            if default not in (None, "") and _is_empty(values.get(name)):
                values[name] = default
        return values

    return cells, column_names


# The cell conversions live in imports/cells.py; these names are read from here too.
from .cells import (  # noqa: E402,F401
    _header_key,
    TRUE,
    FALSE,
    _ID,
    _is_empty,
    _as_text,
    split_list,
    parse_datetime,
    _DATE_ONLY,
    parse_end_datetime,
    parse_date,
    parse_choice,
    parse_priority,
    parse_bool,
    HONORIFICS,
    TITLES,
    _HONORIFIC_RE,
    _TITLE_RE,
    split_titles,
)
