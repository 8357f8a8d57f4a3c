"""The gifts register's pages: the list, add, edit, and the disclosure report per period (gifts/disclosure.py).

Reads go through gifts/selectors.py; writes through the gift services
(engagements/services.py, beside the Gift model). Staff and officers add and
edit (engagements.add_gift / change_gift); viewers read.
"""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from diplomacy_crm.csv import stream_csv
from diplomacy_crm.edits import already_created, conflict_page, create_from_form
from diplomacy_crm.officetime import office_today
from diplomacy_crm.services import EditConflict
from diplomacy_crm.views import apply_service_errors, history_entries, list_page, render_page, require_perm
from engagements import services
from engagements.filters import GiftFilter
from engagements.selectors import engagements_for
from partners.forms import prepare_lookups

from . import selectors
from .disclosure import usd_estimate
from .forms import GiftForm, GiftReportForm

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


@login_required
@require_GET
def gift_list(request):
    return list_page(
        request,
        queryset=selectors.gifts_listed(request.user),
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
        gift, done = create_from_form(request, form, services.gift_create, url=_after_create)
        if done:
            return done
        if gift:
            messages.success(request, "Gift recorded.")
            return redirect(_after_create(gift))
    return _render_form(request, form)


@login_required
@require_http_methods(["GET", "POST"])
def gift_edit(request, pk):
    require_perm(request, "engagements.change_gift")
    gift = get_object_or_404(selectors.gifts_listed(request.user), pk=pk)
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
        return stream_csv(REPORT_CSV, selectors.report_csv_rows(request.user, start, end), f"gift-disclosure-{start}-{end}.csv")
    report = selectors.gift_report(request.user, start, end)
    return render_page(request, "gifts/gift_report.html", {"form": form, "report": report})
