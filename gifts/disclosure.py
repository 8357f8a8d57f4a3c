"""The disclosure rule: gifts worth more than DISCLOSURE_THRESHOLD_USD are flagged.

The register holds no exchange rates, so other currencies are converted with
the approximate rates in APPROX_USD_PER_UNIT (reviewed yearly by the ethics
officer); a gift in a currency without a rate is flagged for manual review.
`over_threshold_q()` is the one definition of "over the threshold" (the
report's list and its CSV both filter or annotate with it); `usd_estimate()`
only shows the converted value.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q

DISCLOSURE_THRESHOLD_USD = Decimal("100")
# US dollars per unit, rounded; conservative (a little high) so borderline gifts are flagged.
APPROX_USD_PER_UNIT = {
    "USD": Decimal("1"),
    "EUR": Decimal("1.15"),
    "GBP": Decimal("1.35"),
    "CHF": Decimal("1.25"),
    "CAD": Decimal("0.75"),
    "AUD": Decimal("0.70"),
    "JPY": Decimal("0.0070"),
    "CNY": Decimal("0.14"),
    "KRW": Decimal("0.00075"),
    "TWD": Decimal("0.033"),
    "MXN": Decimal("0.060"),
    "INR": Decimal("0.012"),
    "VND": Decimal("0.000042"),
    "ILS": Decimal("0.28"),
    "AMD": Decimal("0.0027"),
    "BRL": Decimal("0.19"),
    "PHP": Decimal("0.018"),
}


def usd_estimate(gift) -> Decimal | None:
    rate = APPROX_USD_PER_UNIT.get((gift.currency or "").upper())
    if gift.estimated_value is None or rate is None:
        return None
    return (gift.estimated_value * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def over_threshold_q() -> Q:
    """Gifts worth more than the threshold in US dollars, or of unknown rate: one WHERE clause."""
    known = Q()
    for code, rate in APPROX_USD_PER_UNIT.items():
        known |= Q(currency=code, estimated_value__gt=DISCLOSURE_THRESHOLD_USD / rate)
    unknown_rate = Q(estimated_value__isnull=False) & ~Q(currency__in=list(APPROX_USD_PER_UNIT))
    return known | unknown_rate
