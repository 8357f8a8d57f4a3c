"""Reads, with role and confidentiality applied once.

Every page and API view fetches records through `access_*` (a 404 for what
the user may not see: no existence leak) and lists through `*_for(user)`;
the rule itself is `accounts.access` (partners, contacts and agreements are
read through its own `access_partner`, `access_contact`, `access_agreement`).
"""

from django.db.models import Count, DateTimeField, IntegerField, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts import access
from partners.models import Partner

from .models import Commitment, Engagement, Gift, TradeMission


def engagements_for(user):
    return Engagement.objects.visible_to(user)


def commitments_for(user):
    return Commitment.objects.visible_to(user)


def gifts_for(user):
    return Gift.objects.visible_to(user)


def missions_for(user):
    return TradeMission.objects.visible_to(user)


def access_engagement(user, pk) -> Engagement:
    return get_object_or_404(engagements_for(user), pk=pk)


def access_commitment(user, pk) -> Commitment:
    return get_object_or_404(commitments_for(user), pk=pk)


def access_mission(user, pk) -> TradeMission:
    return get_object_or_404(missions_for(user), pk=pk)


def access_gift(user, pk) -> Gift:
    return get_object_or_404(gifts_for(user), pk=pk)



# --- Last contact: the one definition ----------------------------------------------------------------------------
#
# A partner's "last contact" is the start of the latest engagement with it that was HELD (not planned, not
# cancelled) and started by now: never a meeting still on the calendar. The partner list, the API's
# `last_engagement_at`, the partner and country pages, the dashboard's quiet panel and charts, the briefings and
# the digest all read it through these three functions.


def held_by_q(now, *, prefix: str = "") -> Q:
    """Engagements that count as contact by `now`: held, and started at or before `now`."""
    return Q(**{f"{prefix}status": Engagement.Status.HELD, f"{prefix}starts_at__lte": now})


def last_contact_subquery(engagements, *, now=None) -> Subquery:
    """Start of the latest of `engagements` held by `now` with partner OuterRef('pk'): a MAX over its links.

    `engagements` is the caller's visible set (`engagements_for(user)` or its probed form). A MAX over the
    partner's links, not ORDER BY starts_at LIMIT 1: for a correlated subquery the latter lets PostgreSQL walk
    the whole starts_at index backwards for every partner with few engagements; the MAX reads only that
    partner's links. One subquery, so a page of partners costs one query whatever its size.
    """
    held = engagements.filter(held_by_q(now or timezone.now()))
    latest = (
        Engagement.partners.through.objects.filter(partner=OuterRef("pk"), engagement__in=held)
        .order_by()
        .values("partner")
        .annotate(last=Max("engagement__starts_at"))
        .values("last")
    )
    return Subquery(latest, output_field=DateTimeField())


def last_contact_with(engagements, partner_pk: int, *, now=None) -> Subquery:
    """The same fact for one known partner (a scalar subquery).

    The partner id is a literal, so PostgreSQL knows from its statistics how many engagements the partner
    has: for a busy partner it walks the starts_at index backwards and stops at the first match; for a rare
    one it reads its few links. Either way a bounded read, unlike a correlated MAX.
    """
    latest = (
        engagements.filter(held_by_q(now or timezone.now()), partners=partner_pk)
        .order_by("-starts_at", "-id")
        .values("starts_at")[:1]
    )
    return Subquery(latest, output_field=DateTimeField())


def annotate_partner_stats(queryset, user, *, now=None):
    """Add `last_engagement_at` (the last contact) and `open_commitments`, counting only what `user` may see.

    Correlated subqueries, so a page of partners costs one query whatever its size.
    """
    visible_open = (
        commitments_for(user)
        .open()
        .filter(partner=OuterRef("pk"))
        .order_by()
        .values("partner")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(
        last_engagement_at=last_contact_subquery(engagements_for(user), now=now),
        open_commitments=Coalesce(Subquery(visible_open[:1], output_field=IntegerField()), Value(0)),
    )


def partners_for(user):
    return annotate_partner_stats(access.partners_for(user, Partner.objects.select_related("owner", "parent")), user)


