"""The gifts register: gifts given and received, and the disclosure report per period.

Reads go through `gifts_for(user)` (a gift from a restricted engagement is
seen only by officers and participants); writes through the gift services.
Staff and officers add and edit (engagements.add_gift / change_gift); viewers read.

The disclosure report flags gifts worth more than DISCLOSURE_THRESHOLD_USD.
The register holds no exchange rates, so other currencies are converted with
the approximate rates in APPROX_USD_PER_UNIT (reviewed yearly by the ethics
officer); a gift in a currency without a rate is flagged for manual review.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from diplomacy_crm.csv import stream_csv
from diplomacy_crm.edits import already_created, conflict_page, to_first_record
from diplomacy_crm.officetime import office_today
from diplomacy_crm.services import AlreadySubmitted, EditConflict, create_once
from diplomacy_crm.views import apply_service_errors, history_entries, list_page, render_page, require_perm
from engagements import services
from engagements.filters import GiftFilter
from engagements.models import Gift
from engagements.selectors import engagements_for, gifts_for
from partners.forms import prepare_lookups

from .forms import GiftForm, GiftReportForm

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
REPORT_FLAGGED_LIMIT = 1000
CSV_CHUNK = 500


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


GIFT_CSV = [
    ("id", lambda g: g.pk),
    ("exchanged_on", lambda g: g.exchanged_on),
    ("direction", lambda g: g.direction),
    ("from", lambda g: g.giver),
    ("to", lambda g: g.recipient),
    ("partner", lambda g: g.partner.name if g.partner else ""),
    ("engagement", lambda g: g.engagement.title if g.engagement else ""),
    ("description", lambda g: g.description),
    ("estimated_value", lambda g: g.estimated_value),
    ("currency", lambda g: g.currency),
    ("disposition", lambda g: g.disposition),
]
REPORT_CSV = [
    *GIFT_CSV,
    ("estimated_value_usd", lambda g: usd_estimate(g)),
    ("over_threshold", lambda g: g.flagged),
]


def _gifts(user):
    return gifts_for(user).select_related("partner", "engagement")


@login_required
@require_GET
def gift_list(request):
    return list_page(
        request,
        queryset=_gifts(request.user),
        filterset_class=GiftFilter,
        template="gifts/gift_list.html",
        columns=GIFT_CSV,
        filename="gifts.csv",
        context={"can_add": request.user.has_perm("engagements.add_gift")},
    )


def _form(request, *, instance=None, initial=None):
    return GiftForm(request.POST or None, instance=instance, initial=initial, engagements=engagements_for(request.user))


def _after_create(gift) -> str:
    return gift.engagement.get_absolute_url() if gift.engagement_id else reverse("gifts:list")


def _render_form(request, form, gift=None, history=None, conflict=None):
    prepare_lookups(form)
    engagement_id = form["engagement"].value()
    linked = None
    if engagement_id and str(engagement_id).isdigit() and len(str(engagement_id)) < 19:
        linked = engagements_for(request.user).filter(pk=engagement_id).only("id", "title", "starts_at").first()
    context = {"form": form, "gift": gift, "linked_engagement": linked, "history": history or []}
    if conflict is not None:
        return conflict_page(request, conflict, form, "gifts/gift_form.html", context)
    return render_page(request, "gifts/gift_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def gift_create(request):
    require_perm(request, "engagements.add_gift")
    if done := already_created(request):
        return done
    initial = {"currency": "USD"}
    engagement_id = str(request.GET.get("engagement", ""))
    if engagement_id.isdigit() and len(engagement_id) < 19:
        engagement = get_object_or_404(engagements_for(request.user), pk=engagement_id)
        initial.update(engagement=engagement.pk, exchanged_on=office_today(engagement.starts_at))
        first_partner = engagement.partners.order_by("name", "id").first()
        if first_partner:
            initial["partner"] = first_partner.pk
    form = _form(request, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            gift = create_once(
                token=form.submit_token_value,
                user=request.user,
                create=partial(services.gift_create, actor=request.user, **form.cleaned_data),
                url=_after_create,
            )
        except AlreadySubmitted as done:
            return to_first_record(request, done)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Gift recorded.")
            return redirect(_after_create(gift))
    return _render_form(request, form)


@login_required
@require_http_methods(["GET", "POST"])
def gift_edit(request, pk):
    require_perm(request, "engagements.change_gift")
    gift = get_object_or_404(_gifts(request.user), pk=pk)
    form = _form(request, instance=gift)
    if request.method == "POST" and form.is_valid():
        try:
            services.gift_update(gift=gift, actor=request.user, **form.cleaned_data)
        except EditConflict as conflict:
            return _render_form(request, form, gift, history_entries(gift), conflict=conflict)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Gift saved.")
            return redirect("gifts:list")
    return _render_form(request, form, gift, history_entries(gift, user=request.user))


# --- Disclosure report -----------------------------------------------------------


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


def _report_csv_rows(user, start, end):
    gifts = (
        _gifts(user)
        .filter(exchanged_on__gte=start, exchanged_on__lte=end)
        .order_by("exchanged_on", "id")
        .iterator(chunk_size=CSV_CHUNK)
    )
    for gift in gifts:
        usd = usd_estimate(gift)
        unknown_rate = gift.estimated_value is not None and usd is None
        gift.flagged = unknown_rate or (usd is not None and usd > DISCLOSURE_THRESHOLD_USD)
        yield gift


@login_required
@require_GET
def gift_report_view(request):
    """/gifts/report/?exchanged_after=YYYY-MM-DD&exchanged_before=YYYY-MM-DD[&format=csv]"""
    today = office_today(timezone.now())
    if "exchanged_after" in request.GET or "exchanged_before" in request.GET:
        form = GiftReportForm(request.GET)
    else:
        # Default: the current calendar year so far.
        form = GiftReportForm({"exchanged_after": dt.date(today.year, 1, 1), "exchanged_before": today})
    if not form.is_valid():
        if request.GET.get("format") == "csv":
            lines = [f"{name}: {' '.join(errs)}" for name, errs in form.errors.items()]
            return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")
        return render_page(request, "gifts/gift_report.html", {"form": form, "report": None}, status=200)
    start, end = form.cleaned_data["exchanged_after"], form.cleaned_data["exchanged_before"]
    if request.GET.get("format") == "csv":
        return stream_csv(REPORT_CSV, _report_csv_rows(request.user, start, end), f"gift-disclosure-{start}-{end}.csv")
    report = gift_report(request.user, start, end)
    return render_page(request, "gifts/gift_report.html", {"form": form, "report": report})
