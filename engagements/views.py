"""Pages for engagements (quick logging, detail, edit) and trade missions; commitments are in commitment_views.py.

Every read goes through the selectors (`engagements_for`, `commitments_for`,
`access_*`): a restricted engagement, and the commitments made there, are
absent from lists and 404 on their pages for those who may not see them.
Every write goes through the services.
"""

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts import access
from diplomacy_crm.edits import already_created, conflict_page, create_from_form, update_from_form, to_first_record
from diplomacy_crm.services import AlreadySubmitted, EditConflict, create_once
from diplomacy_crm.views import (
    apply_service_errors,
    confirm_delete,
    history_entries,
    list_page,
    materialise_choices,
    render_page,
    require_perm,
)
from partners.forms import QuickContactForm, QuickPartnerForm, prepare_lookups
from partners.models import Contact

from . import services
from .filters import EngagementFilter, TradeMissionFilter
from .forms import COMMITMENT_ROWS_MAX, CommitmentFormSet, EngagementForm, TradeMissionForm
from .selectors import (
    access_engagement,
    access_mission,
    commitments_for,
    engagements_for,
    missions_for,
)


def _prepare(*forms) -> None:
    for form in forms:
        prepare_lookups(form)
        materialise_choices(form)


def _names(objects) -> str:
    return "; ".join(str(o) for o in objects)


# --- Engagements ------------------------------------------------------------

ENGAGEMENT_CSV = [
    ("id", lambda e: e.pk),
    ("title", lambda e: e.title),
    ("kind", lambda e: e.kind),
    ("status", lambda e: e.status),
    ("starts_at", lambda e: e.starts_at),
    ("ends_at", lambda e: e.ends_at),
    ("location", lambda e: e.location),
    ("is_virtual", lambda e: e.is_virtual),
    ("partners", lambda e: _names(p.name for p in e.partners.all())),
    ("topics", lambda e: ", ".join(t.slug for t in e.topics.all())),
    ("trade_mission", lambda e: e.trade_mission.name if e.trade_mission else ""),
    ("confidentiality", lambda e: e.confidentiality),
    ("follow_up_by", lambda e: e.follow_up_by),
    ("summary", lambda e: e.summary),
    ("outcomes", lambda e: e.outcomes),
]


@login_required
@require_GET
def engagement_list(request):
    return list_page(
        request,
        queryset=engagements_for(request.user).select_related("trade_mission").prefetch_related("partners", "topics"),
        filterset_class=EngagementFilter,
        template="engagements/engagement_list.html",
        columns=ENGAGEMENT_CSV,
        filename="engagements.csv",
        context={"can_add": request.user.has_perm("engagements.add_engagement")},
    )


@login_required
@require_GET
def engagement_detail(request, pk):
    # access_engagement's rule (404 when not visible), with everything the page shows
    # fetched here: a fixed number of queries, and none in the template.
    engagement = get_object_or_404(
        engagements_for(request.user)
        .select_related("trade_mission", "owner")
        .prefetch_related(
            "partners",
            "topics",
            "staff",
            Prefetch("contacts", queryset=Contact.objects.select_related("partner")),
        ),
        pk=pk,
    )
    commitments = list(
        commitments_for(request.user).filter(engagement=engagement).select_related("partner", "owner").order_by("due_date", "pk")
    )
    user = request.user
    return render_page(
        request,
        "engagements/engagement_detail.html",
        {
            "engagement": engagement,
            "partners": list(engagement.partners.all()),
            "contacts": list(engagement.contacts.all()),
            "staff": list(engagement.staff.all()),
            "topics": list(engagement.topics.all()),
            "commitments": commitments,
            "history": history_entries(engagement, user=user),
            "can_edit": user.has_perm("engagements.change_engagement"),
            "can_delete": user.has_perm("engagements.delete_engagement"),
            "can_add_commitment": user.has_perm("engagements.add_commitment"),
        },
    )


def _rows_asked(request) -> int:
    """Blank commitment rows shown on a fresh form: none, or `?commitments=N` (the no-JavaScript way to add some)."""
    raw = str(request.GET.get("commitments", ""))
    return min(int(raw), COMMITMENT_ROWS_MAX) if raw.isdigit() and len(raw) < 4 else 0


@login_required
@require_http_methods(["GET", "POST"])
def engagement_create(request):
    """Quick logging: the meeting, its attendees and the promises made, saved together or not at all.

    Sent twice (a double click, a reload), the form's one-time token opens
    the engagement the first POST logged instead of logging another.
    """
    require_perm(request, "engagements.add_engagement")
    if done := already_created(request):
        return done
    # Logged right after the meeting: held, this hour, with the author present.
    this_hour = timezone.localtime().replace(minute=0, second=0, microsecond=0)
    initial = {"staff": [request.user.pk], "status": "held", "starts_at": this_hour}
    if str(request.GET.get("partner", "")).isdigit():
        initial["partners"] = [request.GET["partner"]]
    if str(request.GET.get("trade_mission", "")).isdigit():
        initial["trade_mission"] = request.GET["trade_mission"]
    form = EngagementForm(request.POST or None, initial=initial)
    formset = CommitmentFormSet(
        request.POST or None,
        prefix="commitments",
        form_kwargs={"owner": request.user},
        initial=None if request.POST else [{}] * _rows_asked(request),
    )
    can_add_partner = request.user.has_perm("partners.add_partner")
    # A partner added inline travels with the meeting and is created only when the meeting is saved.
    new_partner = QuickPartnerForm(request.POST or None) if can_add_partner else None
    adding_partner = bool(new_partner is not None and request.POST and request.POST.get(new_partner.add_prefix("name"), "").strip())
    if adding_partner:
        form.fields["partners"].required = False
    new_partner_ok = not adding_partner or (
        new_partner.is_valid() and new_partner.no_likely_duplicate(access.partners_for(request.user))
    )
    if request.method == "POST" and form.is_valid() and formset.is_valid() and new_partner_ok:
        rows = formset.filled_forms()
        try:
            engagement = create_once(
                token=form.submit_token_value,
                user=request.user,
                create=partial(
                    services.engagement_create,
                    actor=request.user,
                    commitments=[row.service_data() for row in rows],
                    new_partners=[new_partner.cleaned_data] if adding_partner else [],
                    **form.service_data(),
                ),
            )
        except AlreadySubmitted as done:
            return to_first_record(request, done)
        except ValidationError as exc:
            extra = {f"commitments[{i}]": row for i, row in enumerate(rows)}
            if adding_partner:
                extra["new_partners"] = new_partner
            apply_service_errors(form, exc, extra=extra)
        else:
            count = len(rows)
            extra = f" with {count} commitment{'s' if count != 1 else ''}" if count else ""
            messages.success(request, f"Logged “{engagement.title}”{extra}.")
            return redirect(engagement.get_absolute_url())
    _prepare(form, *formset.forms, formset.empty_form)
    can_add_contact = request.user.has_perm("partners.add_contact")
    return render_page(
        request,
        "engagements/engagement_form.html",
        {
            "form": form,
            "formset": formset,
            "empty_form": formset.empty_form,
            "quick_partner_form": new_partner if adding_partner else (QuickPartnerForm() if can_add_partner else None),
            "pending_partner": new_partner.cleaned_data if adding_partner and new_partner_ok else None,
            "quick_contact_form": QuickContactForm() if can_add_contact else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def engagement_edit(request, pk):
    require_perm(request, "engagements.change_engagement")
    engagement = access_engagement(request.user, pk)
    form = EngagementForm(request.POST or None, instance=engagement)
    if request.method == "POST" and form.is_valid():
        try:
            services.engagement_update(engagement=engagement, actor=request.user, **form.service_data())
        except EditConflict as conflict:
            _prepare(form)
            return conflict_page(request, conflict, form, "engagements/engagement_form.html", {"engagement": engagement})
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Saved “{engagement.title}”.")
            return redirect(engagement.get_absolute_url())
    _prepare(form)
    return render_page(request, "engagements/engagement_form.html", {"form": form, "engagement": engagement})


@login_required
@require_http_methods(["GET", "POST"])
def engagement_delete(request, pk):
    require_perm(request, "engagements.delete_engagement")
    engagement = access_engagement(request.user, pk)
    return confirm_delete(request, engagement, success_url="/engagements/", cancel_url=engagement.get_absolute_url())


# --- Trade missions ----------------------------------------------------------

MISSION_CSV = [
    ("id", lambda m: m.pk),
    ("name", lambda m: m.name),
    ("direction", lambda m: m.direction),
    ("status", lambda m: m.status),
    ("countries", lambda m: ", ".join(c.code for c in m.countries)),
    ("cities", lambda m: m.cities),
    ("start_date", lambda m: m.start_date),
    ("end_date", lambda m: m.end_date),
    ("lead", lambda m: m.lead),
    ("partners", lambda m: _names(p.name for p in m.partners.all())),
    ("objectives", lambda m: m.objectives),
    ("outcomes", lambda m: m.outcomes),
]


@login_required
@require_GET
def mission_list(request):
    return list_page(
        request,
        queryset=missions_for(request.user).prefetch_related("partners"),
        filterset_class=TradeMissionFilter,
        template="engagements/mission_list.html",
        columns=MISSION_CSV,
        filename="trade-missions.csv",
        context={"can_add": request.user.has_perm("engagements.add_trademission")},
    )


@login_required
@require_GET
def mission_detail(request, pk):
    mission = access_mission(request.user, pk)
    user = request.user
    # The itinerary: only the engagements this user may see, in date order.
    itinerary = list(
        engagements_for(user)
        .filter(trade_mission=mission)
        .prefetch_related("partners")
        .order_by("starts_at", "pk")
    )
    commitments = list(
        commitments_for(user)
        .filter(Q(trade_mission=mission) | Q(engagement__trade_mission=mission))
        .select_related("partner", "owner", "engagement")
        .order_by("due_date", "pk")
    )
    return render_page(
        request,
        "engagements/mission_detail.html",
        {
            "mission": mission,
            "delegates": list(mission.delegates.select_related("partner").order_by("full_name", "pk")),
            "partners": list(mission.partners.order_by("name", "pk")),
            "itinerary": itinerary,
            "commitments": commitments,
            "history": history_entries(mission),
            "owner": mission.owner,
            "can_edit": user.has_perm("engagements.change_trademission"),
            "can_delete": user.has_perm("engagements.delete_trademission"),
            "can_log": user.has_perm("engagements.add_engagement"),
            "can_add_commitment": user.has_perm("engagements.add_commitment"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def mission_create(request):
    require_perm(request, "engagements.add_trademission")
    if done := already_created(request):
        return done
    form = TradeMissionForm(request.POST or None, initial={"owner": request.user})
    if request.method == "POST" and form.is_valid():
        mission, done = create_from_form(request, form, services.trade_mission_create)
        if done:
            return done
        if mission:
            messages.success(request, f"Trade mission “{mission.name}” added.")
            return redirect(mission.get_absolute_url())
    _prepare(form)
    return render_page(request, "engagements/mission_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def mission_edit(request, pk):
    require_perm(request, "engagements.change_trademission")
    mission = access_mission(request.user, pk)
    form = TradeMissionForm(request.POST or None, instance=mission)
    if request.method == "POST" and form.is_valid():
        saved, page = update_from_form(
            request, form, partial(services.trade_mission_update, mission=mission),
            template="engagements/mission_form.html", context={"mission": mission}, prepare=_prepare,
        )
        if page:
            return page
        if saved:
            messages.success(request, f"Trade mission “{mission.name}” saved.")
            return redirect(mission.get_absolute_url())
    _prepare(form)
    return render_page(request, "engagements/mission_form.html", {"form": form, "mission": mission})


@login_required
@require_http_methods(["GET", "POST"])
def mission_delete(request, pk):
    require_perm(request, "engagements.delete_trademission")
    mission = access_mission(request.user, pk)
    return confirm_delete(request, mission, success_url="/missions/", cancel_url=mission.get_absolute_url())
