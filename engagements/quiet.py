"""The "quiet partner" rule, written once for the dashboard's panel and the weekly digest.

A relationship is going quiet when an active priority-1 partner has had no
engagement that counts as contact since `quiet_since(now)`
(settings.CRM["QUIET_AFTER_DAYS"] days back). Any engagement not cancelled
counts, a planned one included: a relationship with a meeting on the
calendar is not going quiet. Which of those engagements a user may see is
accounts.access's rule, applied by each caller.
"""

import datetime as dt

from django.conf import settings
from django.db.models import Q

from partners.models import Partner

from .models import Engagement


def quiet_since(now: dt.datetime) -> dt.datetime:
    """The start of the window in which one contact keeps a partner off the quiet list."""
    return now - dt.timedelta(days=settings.CRM["QUIET_AFTER_DAYS"])


def watched_partners():
    """The partners the rule watches: active, priority 1."""
    return Partner.objects.active().filter(priority=Partner.Priority.HIGH)


def watched_partner_q(prefix: str = "partner__") -> Q:
    """`watched_partners()` as a condition on a relation to Partner (an engagement-partner link by default)."""
    return Q(**{f"{prefix}priority": Partner.Priority.HIGH, f"{prefix}status": Partner.Status.ACTIVE})


def contacts():
    """The engagements that count as contact: every one not cancelled."""
    return Engagement.objects.held()


def contact_link_q(prefix: str = "engagement__") -> Q:
    """`contacts()` as a condition on a relation to Engagement."""
    return ~Q(**{f"{prefix}status": Engagement.Status.CANCELLED})
