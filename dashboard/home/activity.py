"""Recent activity on the dashboard: the latest record changes the user may see, merged per save."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, TextField, Value
from django.db.models.functions import Cast
from django.utils import timezone

from accounts import access
from dashboard.common import _probed_commitments, _probed_engagements, _sliced_branch
from engagements.models import Commitment, Engagement

ACTIVITY_LIMIT = 12


@dataclass
class Activity:
    kind: str  # "engagement" | "commitment"
    object_id: int
    label: str
    when: dt.datetime
    action: str  # "created" | "changed" | "deleted"
    who: str
    exists: bool = True

    @property
    def url(self) -> str:
        from django.urls import reverse

        name = "engagements:detail" if self.kind == "engagement" else "engagements:commitment-detail"
        return reverse(name, args=[self.object_id])


ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
ACTIVITY_COLUMNS = ("a_when", "a_hid", "a_kind", "a_obj", "a_label", "a_type", "a_user", "a_first", "a_last")


def _history_rows(history_qs, kind: str, label_field: str):
    return (
        history_qs.order_by()
        .annotate(
            a_when=F("history_date"),
            a_hid=F("history_id"),
            a_kind=Value(kind, output_field=TextField()),
            a_obj=F("id"),
            a_label=Cast(label_field, output_field=TextField()),
            a_type=Cast("history_type", output_field=TextField()),
            a_user=Cast("history_user__username", output_field=TextField()),
            a_first=Cast("history_user__first_name", output_field=TextField()),
            a_last=Cast("history_user__last_name", output_field=TextField()),
        )
        .values_list(*ACTIVITY_COLUMNS)
    )


ACTIVITY_SCAN = 4  # history rows read per activity line: one save writes several (fields, then each relation)
ACTIVITY_MERGE_SECONDS = 120
# "Recent" is a bounded, indexed window: without it a viewer's visibility
# filter made PostgreSQL read every history row (seconds at 300k rows).
ACTIVITY_WINDOW_DAYS = 30


def recent_activity(user, *, limit: int = ACTIVITY_LIMIT) -> list[Activity]:
    """The latest changes (who, when, what) in the last 30 days to engagements and commitments the user may see.

    One UNION ALL query over the two history tables, newest first, each member
    walking its history_date index and stopping after a few screenfuls. A
    record's history is shown only while the record itself is visible to the
    user; officers also see deletions. Rows of one save become one line,
    "created" when the save created it (saves now write one row each; older
    ones wrote a row per changed relation).
    """
    since = timezone.now() - dt.timedelta(days=ACTIVITY_WINDOW_DAYS)
    engagement_history = Engagement.history.model.objects.filter(history_date__gte=since)
    commitment_history = Commitment.history.model.objects.filter(history_date__gte=since)
    if not access.may_use_crm(user):
        return []
    if not access.sees_all_restricted(user):
        # Checked per row as each member walks its index (see _probed_engagements).
        engagement_history = engagement_history.filter(Exists(_probed_engagements(user).filter(pk=OuterRef("id"))))
        commitment_history = commitment_history.filter(Exists(_probed_commitments(user).filter(pk=OuterRef("id"))))
    # Each member is cut to the newest rows before the union: each then walks
    # its history_date index backwards and stops after a few dozen rows, the
    # visibility check a probe per row. Without the cut a viewer's check made
    # PostgreSQL join every history row of the window before sorting.
    scan = limit * ACTIVITY_SCAN
    newest = ("-history_date", "-history_id")
    rows = (
        _sliced_branch(_history_rows(engagement_history, "engagement", "title"), newest, scan)
        .union(_sliced_branch(_history_rows(commitment_history, "commitment", "description"), newest, scan), all=True)
        .order_by("-a_when", "-a_hid")[:scan]
    )
    activity: list[Activity] = []
    for when, _hid, kind, obj, label, action, username, first, last in rows:
        who = f"{first or ''} {last or ''}".strip() or username or "system"
        previous = activity[-1] if activity else None
        if (
            previous
            and (previous.kind, previous.object_id, previous.who) == (kind, obj, who)
            and (previous.when - when).total_seconds() <= ACTIVITY_MERGE_SECONDS
        ):
            # An older row of the same save: a creation names the whole save.
            if action == "+" and previous.action == "changed":
                previous.action = "created"
            continue
        if len(activity) == limit:
            break
        activity.append(
            Activity(
                kind=kind,
                object_id=obj,
                label=label,
                when=when,
                action=ACTIONS.get(action, action),
                who=who,
                exists=action != "-",
            )
        )
    return activity
