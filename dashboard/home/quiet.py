"""Quiet partners on the dashboard: active partners with no held engagement for a while."""

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from accounts import access
from dashboard.common import Bounded
from engagements.selectors import last_contact_subquery
from dashboard.signals import charts_generation
from engagements import quiet as quiet_rule
from engagements.models import Engagement

QUIET_LIMIT = 10


@dataclass
class QuietPartner:
    """One line of "Relationships going quiet": what the panel shows, cacheable as plain data."""

    pk: int
    name: str
    last_contact: dt.datetime | None
    owner_name: str

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("partner-history", args=[self.pk])


QUIET_CACHE_SECONDS = 60


def _quiet_shared(visibility: str, *, now, cutoff) -> list[tuple]:
    """Every quiet partner of a visibility class, in the panel's order: [(pk, name, last_contact, owner), …].

    Counts the engagements every member of the class sees
    (`access.class_engagement_q`): "all" (officers) every engagement, "open"
    (everyone else) the non-restricted ones. No user-specific filter here, so
    one entry serves a whole class, and the restricted-attendance subplan
    stays out of it. Cached 60 s per class and `charts_generation` (bumped
    after any engagement, partner or engagement-partner link is written).
    """
    engagements = quiet_rule.contacts().filter(access.class_engagement_q(visibility))
    recent = engagements.filter(partners=OuterRef("pk"), starts_at__gte=cutoff)
    rows = (
        quiet_rule.watched_partners()
        .filter(~Exists(recent))
        .annotate(last_contact=last_contact_subquery(engagements, now=now))
        .order_by(F("last_contact").asc(nulls_first=True), "name", "id")
        .values_list("pk", "name", "last_contact", "owner__username", "owner__first_name", "owner__last_name")
    )
    return [
        (pk, name, last, f"{first or ''} {last_name or ''}".strip() or (username or ""))
        for pk, name, last, username, first, last_name in rows
    ]


def _own_restricted_contacts(user) -> list[tuple[int, dt.datetime]]:
    """(partner id, start) of the held restricted engagements `user` took part in, with priority-1 active partners.

    What a user of the "open" class sees beyond it (`access.beyond_class_q`);
    a person takes part in few restricted meetings, so the rows stay few (one query).
    """
    return list(
        Engagement.partners.through.objects.filter(
            quiet_rule.watched_partner_q(),
            engagement__in=quiet_rule.contacts().filter(access.beyond_class_q(user)),
        )
        .order_by()
        .values_list("partner_id", "engagement__starts_at")
    )


def quiet_partners(user, *, now=None) -> Bounded:
    """Priority-1 active partners with no visible, non-cancelled engagement in QUIET_AFTER_DAYS.

    An engagement planned in the future counts as contact: a relationship
    with a meeting on the calendar is not going quiet. Never-contacted first,
    then the longest silence.

    The list of a visibility class is shared and cached (`_quiet_shared`);
    a non-officer's own restricted meetings are laid over it live: one
    within the window takes the partner off their list, an older one may
    move its last contact later. Visible engagements only ever add contact,
    so a partner quiet for the user is always in the "open" list.
    """
    now = now or timezone.now()
    cutoff = quiet_rule.quiet_since(now)
    visibility = access.visibility_class(user)
    if visibility == access.NONE:
        return Bounded([])
    key = ":".join(
        (
            "dashboard:quiet:v1",
            str(charts_generation()),
            visibility,
            timezone.localdate(now).isoformat(),
        )
    )
    shared = cache.get(key)
    if shared is None:
        shared = _quiet_shared(visibility, now=now, cutoff=cutoff)
        cache.set(key, shared, QUIET_CACHE_SECONDS)
    rows = shared
    if visibility != access.ALL:
        in_window, latest = set(), {}
        for partner_id, starts_at in _own_restricted_contacts(user):
            if starts_at >= cutoff:
                in_window.add(partner_id)
            elif starts_at <= now and (partner_id not in latest or starts_at > latest[partner_id]):
                latest[partner_id] = starts_at
        if in_window or latest:
            rows = [
                (pk, name, max(last, latest[pk]) if last and pk in latest else latest.get(pk, last), owner)
                for pk, name, last, owner in shared
                if pk not in in_window
            ]
            # Stable: equal keys keep the database's order (name by its collation, then id).
            rows.sort(key=lambda row: (row[2] is not None, row[2] or now))
    items = [QuietPartner(pk=pk, name=name, last_contact=last, owner_name=owner) for pk, name, last, owner in rows]
    return Bounded(items[:QUIET_LIMIT], len(items) > QUIET_LIMIT)
