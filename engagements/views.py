"""Pages for engagements (quick logging, detail, edit), trade missions and commitments.

Every read goes through the selectors (`engagements_for`, `commitments_for`,
`access_*`): a restricted engagement, and the commitments made there, are
absent from lists and 404 on their pages for those who may not see them.
Every write goes through the services.
"""

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
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

from . import done_links, services
from .filters import CommitmentFilter, EngagementFilter, TradeMissionFilter
from .forms import COMMITMENT_ROWS_MAX, CommitmentForm, CommitmentFormSet, EngagementForm, TradeMissionForm
from .selectors import (
    access_commitment,
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


# --- Commitments -------------------------------------------------------------

COMMITMENT_CSV = [
    ("id", lambda c: c.pk),
    ("description", lambda c: c.description),
    ("made_by", lambda c: c.made_by),
    ("partner", lambda c: c.partner.name if c.partner else ""),
    ("engagement", lambda c: c.engagement.title if c.engagement else ""),
    ("trade_mission", lambda c: c.trade_mission.name if c.trade_mission else ""),
    ("owner", lambda c: c.owner.get_username() if c.owner else ""),
    ("due_date", lambda c: c.due_date),
    ("status", lambda c: c.status),
    ("completed_on", lambda c: c.completed_on),
    ("priority", lambda c: c.priority),
]


@login_required
@require_GET
def commitment_list(request):
    return list_page(
        request,
        queryset=commitments_for(request.user).select_related("partner", "engagement", "trade_mission", "owner"),
        filterset_class=CommitmentFilter,
        template="engagements/commitment_list.html",
        columns=COMMITMENT_CSV,
        filename="commitments.csv",
        context={"can_add": request.user.has_perm("engagements.add_commitment")},
    )


@login_required
@require_GET
def commitment_detail(request, pk):
    # access_commitment's rule (404 when hidden), with its links in the same query.
    commitment = get_object_or_404(
        commitments_for(request.user).select_related("partner", "engagement", "trade_mission", "owner"), pk=pk
    )
    user = request.user
    return render_page(
        request,
        "engagements/commitment_detail.html",
        {
            "commitment": commitment,
            "history": history_entries(commitment, user=user),
            "can_edit": user.has_perm("engagements.change_commitment"),
            "can_delete": user.has_perm("engagements.delete_commitment"),
            "done_note_max": services.DONE_NOTE_MAX,
        },
    )


def _commitment_form(request, instance=None, initial=None):
    return CommitmentForm(request.POST or None, instance=instance, initial=initial, engagements=engagements_for(request.user))


@login_required
@require_http_methods(["GET", "POST"])
def commitment_create(request):
    require_perm(request, "engagements.add_commitment")
    if done := already_created(request):
        return done
    initial = {"owner": request.user}
    for name in ("engagement", "trade_mission", "partner"):
        if str(request.GET.get(name, "")).isdigit():
            initial[name] = request.GET[name]
    form = _commitment_form(request, initial=initial)
    if request.method == "POST" and form.is_valid():
        commitment, done = create_from_form(request, form, services.commitment_create)
        if done:
            return done
        if commitment:
            messages.success(request, "Commitment added.")
            return redirect(commitment.get_absolute_url())
    return _render_commitment_form(request, form)


@login_required
@require_http_methods(["GET", "POST"])
def commitment_edit(request, pk):
    require_perm(request, "engagements.change_commitment")
    commitment = access_commitment(request.user, pk)
    form = _commitment_form(request, instance=commitment)
    if request.method == "POST" and form.is_valid():
        try:
            services.commitment_update(commitment=commitment, actor=request.user, **form.cleaned_data)
        except EditConflict as conflict:
            return _render_commitment_form(request, form, commitment, conflict=conflict)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Commitment saved.")
            return redirect(commitment.get_absolute_url())
    return _render_commitment_form(request, form, commitment)


def _render_commitment_form(request, form, commitment=None, conflict=None):
    _prepare(form)
    # The linked engagement is shown by title (it is a hidden field).
    engagement_id = form["engagement"].value()
    linked = None
    if engagement_id and str(engagement_id).isdigit():
        linked = engagements_for(request.user).filter(pk=engagement_id).first()
    context = {"form": form, "commitment": commitment, "linked_engagement": linked}
    if conflict is not None:
        return conflict_page(request, conflict, form, "engagements/commitment_form.html", context)
    return render_page(request, "engagements/commitment_form.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def commitment_delete(request, pk):
    require_perm(request, "engagements.delete_commitment")
    commitment = access_commitment(request.user, pk)
    return confirm_delete(request, commitment, success_url="/commitments/", cancel_url=commitment.get_absolute_url())


# --- Mark done: one click from the lists, or the reminder email's link ------------------------------------------


def _back_to(request, commitment) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return commitment.get_absolute_url()


def _done_form(request, commitment, *, token_problem=None, note="", note_error="", status=200):
    return render_page(
        request,
        "engagements/commitment_done.html",
        {
            "commitment": commitment,
            "token_problem": token_problem,
            "note": note,
            "note_error": note_error,
            "note_max": services.DONE_NOTE_MAX,
            "today": timezone.localdate(),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def commitment_done(request, pk):
    """GET: the confirmation page (the email's link lands here; it changes nothing). POST: mark it done.

    The email's `?t=` token is checked for the signed-in user and this commitment (engagements.done_links): an
    expired or altered one, or one made for someone else, is said so plainly. The write is
    services.commitment_mark_done, checked by accounts.access.may_mark_done. An htmx POST (a list's button)
    gets the replacement for its form; any other POST is redirected back with a message.
    """
    require_perm(request, "engagements.change_commitment")
    commitment = get_object_or_404(
        commitments_for(request.user).select_related("partner", "engagement", "owner"), pk=pk
    )
    if not access.may_mark_done(request.user, commitment):
        raise PermissionDenied("You may not change this commitment.")
    if request.method == "GET":
        problem = None
        if "t" in request.GET:
            problem = done_links.check_token(request.GET["t"], user=request.user, commitment_pk=commitment.pk)
        return _done_form(request, commitment, token_problem=problem, status=400 if problem else 200)
    note = request.POST.get("note", "")
    version = request.POST.get("version", "")
    try:
        done = services.commitment_mark_done(
            commitment=commitment, user=request.user, note=note, version=int(version) if version.isdigit() else None
        )
    except ValidationError as exc:
        return _done_form(request, commitment, note=note, note_error=" ".join(exc.messages), status=400)
    except EditConflict:
        if request.htmx:
            return HttpResponse(
                format_html('<a class="crm-sub" href="{}">Changed by someone else: review it</a>', commitment.get_absolute_url()),
                status=409,
            )
        messages.warning(
            request,
            "This commitment was changed by someone else since you loaded the page; here it is now. "
            "Mark it done again if it still applies.",
        )
        return redirect(commitment.get_absolute_url())
    if request.htmx:
        return render_page(request, "engagements/includes/marked_done.html", {"commitment": commitment, "done": done})
    if done:
        messages.success(request, f"Marked done: “{commitment}”.")
    else:
        messages.info(request, "This commitment was already marked done.")
    return redirect(_back_to(request, commitment))
