"""The country view: everything touching one country."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, Prefetch
from django.http import Http404
from django.utils import timezone
from django_countries import countries

from accounts import access
from dashboard.common import Bounded, _bounded, _partner_names, last_contact_subquery
from engagements.models import Engagement, TradeMission
from engagements.selectors import commitments_for, engagements_for
from partners.models import Agreement, Partner

COUNTRY_LIMIT = 25
COUNTRY_PARTNERS_LIMIT = 100



# --- Country view ---------------------------------------------------------


def country_or_404(code: str):
    """The django-countries Country for an ISO 3166 alpha-2 code (any case), or a 404."""
    code = (code or "").upper()
    if len(code) != 2 or code not in dict(countries):
        raise Http404("Unknown country code.")
    from django_countries.fields import Country

    return Country(code=code)


@dataclass
class CountryOverview:
    country: object
    partners: Bounded
    engagements: Bounded
    missions: Bounded
    commitments: Bounded
    agreements: Bounded
    today: dt.date


def country_overview(user, code: str, *, now=None) -> CountryOverview:
    """Everything touching one country: its partners and what the user may see of their dealings."""
    country = country_or_404(code)
    code = country.code
    partners = (
        access.partners_for(user)
        .filter(country=code)
        .select_related("owner", "parent")
        .annotate(last_contact=last_contact_subquery(user, now=now))
        .order_by("priority", "name", "id")
    )
    partner_links = Engagement.partners.through.objects.filter(engagement_id=OuterRef("pk"), partner__country=code)
    engagements = (
        engagements_for(user)
        .filter(Exists(partner_links))
        .order_by("-starts_at", "-id")
        .prefetch_related(_partner_names())
    )
    # CountryField(multiple=True) stores "VN,JP": two-letter codes cannot match across a comma.
    missions = TradeMission.objects.visible_to(user).filter(countries__contains=code).order_by("-start_date", "-id")
    commitments = (
        commitments_for(user)
        .open()
        .filter(partner__country=code)
        .select_related("partner", "owner", "engagement")
        .order_by(F("due_date").asc(nulls_last=True), "id")
    )
    agreement_links = Agreement.partners.through.objects.filter(agreement_id=OuterRef("pk"), partner__country=code)
    agreements = (
        access.agreements_for(user)
        .filter(Exists(agreement_links))
        .order_by(F("signed_on").desc(nulls_last=True), "title", "id")
        .prefetch_related(Prefetch("partners", queryset=Partner.objects.only("id", "name").order_by("name", "id")))
    )
    return CountryOverview(
        country=country,
        partners=_bounded(partners, COUNTRY_PARTNERS_LIMIT),
        engagements=_bounded(engagements, COUNTRY_LIMIT),
        missions=_bounded(missions, COUNTRY_LIMIT),
        commitments=_bounded(commitments, COUNTRY_LIMIT),
        agreements=_bounded(agreements, COUNTRY_LIMIT),
        today=timezone.localdate(now),
    )
