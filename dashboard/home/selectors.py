"""The dashboard (home page): upcoming meetings, commitments due, quiet partners, activity, charts."""

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from dashboard.common import Bounded, _bounded, _partner_names
from dashboard.home.activity import recent_activity
from dashboard.home.charts import Chart, chart_list, engagement_charts
from dashboard.home.quiet import quiet_partners
from diplomacy_crm.officetime import local_midnight
from engagements.selectors import commitments_for, engagements_for

UPCOMING_DAYS = 14
UPCOMING_LIMIT = 20
DUE_SOON_DAYS = 14
COMMITMENTS_LIMIT = 10


# --- Dashboard ------------------------------------------------------------


def upcoming_engagements(user, *, now=None) -> Bounded:
    """Visible, not cancelled, from the start of today to the end of the 14th day."""
    today = timezone.localdate(now)
    start, end = local_midnight(today), local_midnight(today + dt.timedelta(days=UPCOMING_DAYS + 1))
    queryset = (
        engagements_for(user)
        .held()
        .filter(starts_at__gte=start, starts_at__lt=end)
        .order_by("starts_at", "id")
        .prefetch_related(_partner_names())
    )
    return _bounded(queryset, UPCOMING_LIMIT)


def commitments_due(user, *, now=None) -> tuple[Bounded, Bounded]:
    """Open commitments overdue or due within 14 days: (the user's own, everyone else's).

    Both read the partial index on open commitments by due date, oldest due
    first, and stop after a screenful: no COUNT over the open backlog.
    """
    today = timezone.localdate(now)
    base = (
        commitments_for(user)
        .open()
        .filter(due_date__lte=today + dt.timedelta(days=DUE_SOON_DAYS))
        .select_related("partner", "owner", "engagement")
        .order_by("due_date", "id")
    )
    mine = _bounded(base.filter(owner=user), COMMITMENTS_LIMIT)
    # exclude() keeps commitments without an owner: nobody's is everybody's.
    others = _bounded(base.exclude(owner=user), COMMITMENTS_LIMIT)
    return mine, others





@dataclass
class Dashboard:
    upcoming: Bounded
    my_commitments: Bounded
    other_commitments: Bounded
    quiet: Bounded
    activity: list
    charts: dict
    today: dt.date
    quiet_after_days: int = field(default_factory=lambda: settings.CRM["QUIET_AFTER_DAYS"])

    @property
    def chart_list(self) -> list[Chart]:
        return chart_list(self.charts)


def dashboard(user, *, now=None) -> Dashboard:
    """Everything the home page shows, for `user`, in a fixed number of queries."""
    now = now or timezone.now()
    mine, others = commitments_due(user, now=now)
    return Dashboard(
        upcoming=upcoming_engagements(user, now=now),
        my_commitments=mine,
        other_commitments=others,
        quiet=quiet_partners(user, now=now),
        activity=recent_activity(user),
        charts=engagement_charts(user, now=now),
        today=timezone.localdate(now),
    )
