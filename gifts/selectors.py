"""Reads of the gifts register: the list's queryset and the disclosure report, with role and confidentiality applied.

Reads start from `gifts_for(user)` (a gift from a restricted engagement is
seen only by officers and participants).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import BooleanField, Case, Count, Q, Sum, Value, When

from engagements.models import Gift
from engagements.selectors import gifts_for
from gifts.disclosure import DISCLOSURE_THRESHOLD_USD, over_threshold_q, usd_estimate

REPORT_FLAGGED_LIMIT = 1000
CSV_CHUNK = 500


def gifts_listed(user):
    """The gifts the user may see, with what a row shows."""
    return gifts_for(user).select_related("partner", "engagement")


@dataclass
class CurrencyTotal:
    currency: str
    count: int
    valued: int
    total: Decimal
    received: Decimal
    given: Decimal


@dataclass
class DispositionTotal:
    disposition: str
    label: str
    count: int
    totals: list  # (currency, amount)


@dataclass
class GiftReport:
    start: dt.date
    end: dt.date
    count: int
    per_currency: list
    per_disposition: list
    flagged: list
    flagged_more: bool
    threshold: Decimal = DISCLOSURE_THRESHOLD_USD


def gift_report(user, start: dt.date, end: dt.date) -> GiftReport:
    """Totals per currency and per disposition, and the gifts over the threshold, in [start, end].

    Three queries (two GROUP BYs and the flagged list), whatever the number of gifts.
    """
    gifts = gifts_for(user).filter(exchanged_on__gte=start, exchanged_on__lte=end)
    per_currency = []
    for row in (
        gifts.order_by()
        .values("currency")
        .annotate(
            n=Count("id"),
            valued=Count("estimated_value"),
            total=Sum("estimated_value"),
            received=Sum("estimated_value", filter=Q(direction=Gift.Direction.RECEIVED)),
            given=Sum("estimated_value", filter=Q(direction=Gift.Direction.GIVEN)),
        )
        .order_by("currency")
    ):
        per_currency.append(
            CurrencyTotal(
                currency=row["currency"], count=row["n"], valued=row["valued"], total=row["total"] or Decimal(0),
                received=row["received"] or Decimal(0), given=row["given"] or Decimal(0),
            )
        )
    labels = dict(Gift.Disposition.choices)
    by_disposition: dict[str, DispositionTotal] = {}
    for row in (
        gifts.order_by()
        .values("disposition", "currency")
        .annotate(n=Count("id"), total=Sum("estimated_value"))
        .order_by("disposition", "currency")
    ):
        entry = by_disposition.setdefault(
            row["disposition"],
            DispositionTotal(row["disposition"], labels.get(row["disposition"], row["disposition"]), 0, []),
        )
        entry.count += row["n"]
        entry.totals.append((row["currency"], row["total"] or Decimal(0)))
    order = list(labels)
    per_disposition = sorted(by_disposition.values(), key=lambda d: order.index(d.disposition) if d.disposition in order else 99)
    flagged = list(
        gifts.filter(over_threshold_q()).select_related("partner", "engagement").order_by("exchanged_on", "id")[: REPORT_FLAGGED_LIMIT + 1]
    )
    for gift in flagged:
        gift.usd = usd_estimate(gift)
        gift.flagged = True
    return GiftReport(
        start=start,
        end=end,
        count=sum(c.count for c in per_currency),
        per_currency=per_currency,
        per_disposition=per_disposition,
        flagged=flagged[:REPORT_FLAGGED_LIMIT],
        flagged_more=len(flagged) > REPORT_FLAGGED_LIMIT,
    )


def report_csv_rows(user, start, end):
    """Every gift the user may see in [start, end], each with `flagged` from the one threshold rule (SQL)."""
    flagged = Case(When(over_threshold_q(), then=Value(True)), default=Value(False), output_field=BooleanField())
    return (
        gifts_listed(user)
        .filter(exchanged_on__gte=start, exchanged_on__lte=end)
        .annotate(flagged=flagged)
        .order_by("exchanged_on", "id")
        .iterator(chunk_size=CSV_CHUNK)
    )
