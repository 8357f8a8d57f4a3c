"""Reads of the change history (django-simple-history) with role and confidentiality applied.

A record's history is shown to whoever may see the record now: a restricted
engagement's history (and that of its commitments and gifts) is a 404 for
everyone else, like the record itself. A deleted record's history is for
officers only, since there is no live record left to check confidentiality
against.

Within a history the user may open, a version written while the record was
restricted is hidden from those who do not see that engagement
(`accounts.access.hidden_history_versions`): an engagement's version
whose confidentiality was restricted, and a commitment's or gift's version
tied to an engagement that is or ever was restricted. They still see that a
change happened (who, when), not its text or diff; a change from a hidden
version to a readable one lists its fields with the old values hidden.
"""

from dataclasses import dataclass, field

from django.http import Http404

from accounts.access import hidden_history_versions
from diplomacy_crm.versions import version_changes
from accounts.roles import is_officer
from engagements.models import Commitment, Engagement, Gift, TradeMission
from engagements.selectors import commitments_for, engagements_for, gifts_for, missions_for
from partners.models import Agreement, Contact, Partner, Topic

# URL name of the model -> (model, selector(user) giving what the user may see).
AUDITED = {
    "partner": (Partner, lambda user: Partner.objects.all()),
    "contact": (Contact, lambda user: Contact.objects.all()),
    "topic": (Topic, lambda user: Topic.objects.all()),
    "agreement": (Agreement, lambda user: Agreement.objects.all()),
    "engagement": (Engagement, engagements_for),
    "mission": (TradeMission, missions_for),
    "commitment": (Commitment, commitments_for),
    "gift": (Gift, gifts_for),
}

HISTORY_LIMIT = 200
SKIP_FIELDS = {"id", "created_at", "updated_at"}
HIDDEN = "hidden"


@dataclass
class Change:
    field: str
    old: str
    new: str


@dataclass
class Entry:
    record: object  # the historical row
    kind: str  # Created / Changed / Deleted
    changes: list[Change] = field(default_factory=list)
    hidden: bool = False  # written while restricted, and the user may not see that engagement


@dataclass
class RecordHistory:
    model_name: str
    label: str  # "engagement"
    title: str  # the record's current (or last known) name
    pk: int
    live: object | None  # the record, None when deleted
    entries: list[Entry]


def tracked_model(name: str):
    try:
        return AUDITED[name]
    except KeyError:
        raise Http404("No history for that kind of record.") from None


def _display(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def _changes(newer, older, *, older_hidden: bool = False) -> list[Change]:
    out = []
    # Ordered by field name, as simple-history's diff_against() gave them.
    for change in sorted(version_changes(newer, older, skip=SKIP_FIELDS, editable_only=True, links=True), key=lambda c: c.field.name):
        model_field = change.field
        if change.link:
            # Ids as text, sorted as text: the page's wording since the first version.
            old = ", ".join(sorted(str(i) for i in change.old)) or "—"
            new = ", ".join(sorted(str(i) for i in change.new)) or "—"
            old, new = f"ids {old}", f"ids {new}"
        elif model_field.choices:
            lookup = {str(k): str(v) for k, v in model_field.flatchoices}
            old = lookup.get(str(change.old), _display(change.old))
            new = lookup.get(str(change.new), _display(change.new))
        else:
            old, new = _display(change.old), _display(change.new)
        if older_hidden:
            old = HIDDEN
        out.append(Change(field=change.label, old=old, new=new))
    return out


def record_history(user, model_name: str, pk: int) -> RecordHistory:
    """Every recorded version of one record, newest first, each with its field changes. 404 when not allowed."""
    model, visible = tracked_model(model_name)
    if not user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}"):
        raise Http404
    live = visible(user).filter(pk=pk).first()
    if live is None and (model.objects.filter(pk=pk).exists() or not is_officer(user)):
        # Exists but hidden from this user, or deleted and the user is no officer.
        raise Http404
    rows = list(model.history.filter(id=pk).select_related("history_user").order_by("-history_date", "-history_id")[:HISTORY_LIMIT + 1])
    if not rows:
        raise Http404
    hidden = hidden_history_versions(user, rows)
    entries = []
    for newer, older in zip(rows, rows[1:] + [None]):
        kind = {"+": "Created", "-": "Deleted"}.get(newer.history_type, "Changed")
        if newer.history_id in hidden:
            entries.append(Entry(record=newer, kind=kind, hidden=True))
            continue
        changes = []
        if older is not None and newer.history_type == "~":
            changes = _changes(newer, older, older_hidden=older.history_id in hidden)
        entries.append(Entry(record=newer, kind=kind, changes=changes))
    # A deleted record's history is for officers, who see every version; a live one is named as it is now.
    title = str(live) if live is not None else str(rows[0].instance)
    return RecordHistory(
        model_name=model_name,
        label=str(model._meta.verbose_name),
        title=title,
        pk=pk,
        live=live,
        entries=entries[:HISTORY_LIMIT],
    )


def version_hidden(user, historical) -> bool:
    """The version was written while restricted and the user may not read it (restore asks this too)."""
    return bool(hidden_history_versions(user, [historical]))
