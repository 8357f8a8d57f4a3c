"""Reads, with role and confidentiality applied once.

Every page and API view fetches records through `access_*` (a 404 for what
the user may not see: no existence leak) and lists through `*_for(user)`;
the rule itself is `accounts.access` (partners, contacts and agreements are
read through its own `access_partner`, `access_contact`, `access_agreement`).
"""

from django.db.models import Count, IntegerField, Max, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404

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



def annotate_partner_stats(queryset, user):
    """Add `last_engagement_at` and `open_commitments`, counting only what `user` may see.

    Correlated subqueries, so a page of partners costs one query whatever its size.
    """
    visible_engagements = (
        engagements_for(user)
        .held()
        .filter(partners=OuterRef("pk"))
        .order_by()
        .values("partners")
        .annotate(last=Max("starts_at"))
        .values("last")
    )
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
        last_engagement_at=Subquery(visible_engagements[:1]),
        open_commitments=Coalesce(Subquery(visible_open[:1], output_field=IntegerField()), Value(0)),
    )


def partners_for(user):
    return annotate_partner_stats(access.partners_for(user, Partner.objects.select_related("owner", "parent")), user)


