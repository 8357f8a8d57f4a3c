"""What the top layer's reads share: bounded lists, the probed visibility forms, the last contact.

Every read starts from the visibility selectors of the layers below
(`engagements_for`, `commitments_for`) or from the SQL forms and cache
classes of `accounts.access`, the one home of the confidentiality rule, so
counts and charts obey it too.

Every list is bounded, by a LIMIT on an indexed order or by a date window
on an indexed column, and every function here returns materialised lists:
a page costs the same number of queries whatever the size of the tables,
and its template runs none.
"""

from dataclasses import dataclass

from django.db import connection
from django.db.models import Prefetch

from accounts import access
from engagements import selectors
from engagements.models import Commitment, Engagement
from partners.models import Partner

NO_COUNTRY_LABEL = "No country (international)"


@dataclass
class Bounded:
    """The first `limit` rows of a list, and whether more exist (no COUNT needed)."""

    items: list
    has_more: bool = False

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)

    def __bool__(self):
        return bool(self.items)


def _bounded(queryset, limit: int) -> Bounded:
    # One row more than shown tells whether to offer "see all".
    rows = list(queryset[: limit + 1])
    return Bounded(rows[:limit], len(rows) > limit)


def _partner_names():
    # Only what a row shows: the name and the link.
    return Prefetch("partners", queryset=Partner.objects.only("id", "name", "country").order_by("name", "id"))


def _probed_engagements(user):
    """`engagements_for(user)`, with the attendance check written as a probe per row.

    Same rule as `EngagementQuerySet.visible_to` (`access.engagement_q`);
    there the attended ids are one hashed subplan, which suits scans of many
    rows. But PostgreSQL charges that subplan's set-up to every probe of a
    nested loop, so for a member of staff with thousands of meetings it
    hash-joins the whole engagement table where a walk of a few dozen rows
    would do (3.5 s instead of 13 ms for recent activity, 6 s for a country
    page). Use this form (`access.probed_engagement_q`) for reads that probe
    few rows or stop at a LIMIT; tests/unit/test_access_rule.py checks both
    forms agree.
    """
    return Engagement.objects.filter(access.probed_engagement_q(user))


def _probed_commitments(user):
    """`commitments_for(user)` written as probes (see `_probed_engagements`)."""
    return Commitment.objects.filter(access.probed_engagement_q(user, via="engagement__"))


def last_contact_subquery(user, *, now=None):
    """The last contact (engagements.selectors.last_contact_subquery) with OuterRef('pk'), as the user may see it."""
    return selectors.last_contact_subquery(_probed_engagements(user), now=now)


def _last_contact_with(user, partner_pk: int, *, now=None):
    """The last contact with one known partner the user may see (engagements.selectors.last_contact_with)."""
    return selectors.last_contact_with(_probed_engagements(user), partner_pk, now=now)


def _sliced_branch(queryset, ordering, limit: int):
    """A UNION member ordered and cut to `limit` rows, where the database allows it (PostgreSQL).

    The first `limit` rows of a UNION ALL in some order are among the first
    `limit` rows of each member in that order, so cutting each member first
    gives the same result while each member reads an index for a few rows
    instead of all its rows. SQLite refuses ORDER BY/LIMIT inside a compound
    statement: there the members stay whole (small test databases).
    """
    if connection.features.supports_slicing_ordering_in_compound:
        return queryset.order_by(*ordering)[:limit]
    return queryset
