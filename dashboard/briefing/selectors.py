"""Briefing books: one partner, or one (upcoming) engagement, on printable pages and as a PDF.

The HTML page and the PDF come from the same template; WeasyPrint renders
the PDF and reads the stylesheet and fonts through `StaticFetcher`, from the
static files on disk, never over the network. Everything shown comes from
the visibility selectors, so a restricted engagement, its outcomes and its
commitments appear only for officers and the people who took part.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts import access
from dashboard.partner import selectors
from engagements.models import Commitment, Engagement
from engagements.selectors import commitments_for, engagements_for, held_by_q
from partners.models import Agreement, Contact, Partner

LAST_ENGAGEMENTS = 8
CONDENSED_PARTNERS = 12
CONDENSED_CONTACTS = 4
CONDENSED_LIMIT = 200  # rows of contacts / commitments / agreements for all the partners of one engagement
MAYOR = "mayor"


# --- Selectors -------------------------------------------------------------


def last_engagements(
    user, partner_ids, *, now=None, exclude=None, before=None, after=None, limit=LAST_ENGAGEMENTS
) -> list:
    """The latest held engagements with any of these partners the user may see, with outcomes.

    Never later than `now`; with `before`, only those that started strictly
    before that instant, with `after`, only those strictly after it.
    """
    now = now or timezone.now()
    queryset = (
        engagements_for(user)
        .filter(held_by_q(now), partners__in=list(partner_ids))
        .distinct()
        .order_by("-starts_at", "-id")
        .only(
            "id", "title", "kind", "starts_at", "location", "venue_timezone", "summary", "outcomes", "city_officials",
            "confidentiality",
        )
    )
    if exclude is not None:
        queryset = queryset.exclude(pk=exclude)
    if before is not None:
        queryset = queryset.filter(starts_at__lt=before)
    if after is not None:
        queryset = queryset.filter(starts_at__gt=after)
    return list(queryset[:limit])


def last_mayor_meeting(user, partner, *, now=None) -> Engagement | None:
    """The latest held engagement with the partner whose city officials mention the Mayor."""
    now = now or timezone.now()
    return (
        engagements_for(user)
        .filter(held_by_q(now), partners=partner, city_officials__icontains=MAYOR)
        .order_by("-starts_at", "-id")
        .only("id", "title", "starts_at", "city_officials", "location", "confidentiality")
        .first()
    )


@dataclass
class PartnerBriefing:
    history: selectors.PartnerHistory
    last_engagements: list
    mayor_meeting: Engagement | None
    generated_at: dt.datetime

    @property
    def partner(self) -> Partner:
        return self.history.partner


def partner_briefing(user, pk, *, now=None) -> PartnerBriefing:
    """A partner's briefing, as the user may see it: the history page's selectors plus outcomes and the Mayor."""
    now = now or timezone.now()
    history = selectors.partner_history(user, pk, now=now)
    return PartnerBriefing(
        history=history,
        last_engagements=last_engagements(user, [history.partner.pk], now=now),
        mayor_meeting=last_mayor_meeting(user, history.partner, now=now),
        generated_at=now,
    )


@dataclass
class CondensedPartner:
    partner: Partner
    contacts: list
    agreements: list
    we_owe: list
    they_owe: list


@dataclass
class EngagementBriefing:
    engagement: Engagement
    partners: list  # CondensedPartner
    attendees: list  # Contact
    staff: list
    topics: list
    previous: list  # engagements with these partners held before this one
    later: list  # those held after this one (a past engagement's briefing), up to now
    more_partners: bool
    generated_at: dt.datetime
    today: dt.date


def engagement_briefing(user, pk, *, now=None) -> EngagementBriefing:
    """An engagement's briefing: the meeting, who attends, and each partner condensed.

    A fixed number of queries whatever the number of partners: contacts,
    agreements and open commitments of all the partners are read in one query
    each and grouped in Python.
    """
    now = now or timezone.now()
    engagement = get_object_or_404(
        engagements_for(user)
        .select_related("trade_mission", "owner")
        .prefetch_related(
            Prefetch("partners", queryset=Partner.objects.select_related("parent").prefetch_related("topics").order_by("name", "id")),
            Prefetch("contacts", queryset=Contact.objects.select_related("partner").order_by("full_name", "id")),
            "staff",
            "topics",
        ),
        pk=pk,
    )
    partners = list(engagement.partners.all())
    shown, more = partners[:CONDENSED_PARTNERS], len(partners) > CONDENSED_PARTNERS
    ids = [p.pk for p in shown]
    contacts = list(
        access.contacts_for(user)
        .filter(partner_id__in=ids, is_active=True).order_by("partner_id", "full_name", "id")[:CONDENSED_LIMIT]
    )
    # Through rows: an agreement shared by two of the partners is listed under both.
    agreement_links = list(
        Agreement.partners.through.objects.filter(partner_id__in=ids)
        .exclude(agreement__status=Agreement.Status.TERMINATED)
        .select_related("agreement")
        .order_by(F("agreement__signed_on").desc(nulls_last=True), "agreement_id")[:CONDENSED_LIMIT]
    )
    commitments = list(
        commitments_for(user)
        .open()
        .filter(partner_id__in=ids)
        .select_related("owner", "engagement")
        .order_by(F("due_date").asc(nulls_last=True), "id")[:CONDENSED_LIMIT]
    )
    we = (Commitment.MadeBy.CITY, Commitment.MadeBy.JOINT)
    they = (Commitment.MadeBy.PARTNER, Commitment.MadeBy.JOINT)
    condensed = []
    for partner in shown:
        condensed.append(
            CondensedPartner(
                partner=partner,
                contacts=[c for c in contacts if c.partner_id == partner.pk][:CONDENSED_CONTACTS],
                agreements=[link.agreement for link in agreement_links if link.partner_id == partner.pk],
                we_owe=[c for c in commitments if c.partner_id == partner.pk and c.made_by in we],
                they_owe=[c for c in commitments if c.partner_id == partner.pk and c.made_by in they],
            )
        )
    return EngagementBriefing(
        engagement=engagement,
        partners=condensed,
        attendees=list(engagement.contacts.all()),
        staff=list(engagement.staff.all()),
        topics=list(engagement.topics.all()),
        previous=last_engagements(user, ids, now=now, exclude=engagement.pk, before=engagement.starts_at) if ids else [],
        # One more query, only for an engagement already past: what happened with these partners since.
        later=(
            last_engagements(user, ids, now=now, exclude=engagement.pk, after=engagement.starts_at)
            if ids and engagement.starts_at < now else []
        ),
        more_partners=more,
        generated_at=now,
        today=timezone.localdate(now),
    )
