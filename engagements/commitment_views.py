"""Pages for commitments: list, detail, create, edit, delete, and "Mark done" (one click, or the reminder email's link).

Reads through the selectors (a commitment of a restricted engagement is absent
from lists and 404 on its pages for those who may not see it); writes through
the services. The engagement and mission pages are in engagements/views.py.
"""


from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from accounts import access
from diplomacy_crm.edits import already_created, conflict_page, create_from_form
from diplomacy_crm.services import EditConflict
from diplomacy_crm.views import (
    apply_service_errors,
    confirm_delete,
    history_entries,
    list_page,
    render_page,
    require_perm,
)

from . import done_links, services
from .filters import CommitmentFilter
from .forms import CommitmentForm
from .selectors import (
    access_commitment,
    commitments_for,
    engagements_for,
)


from .views import _prepare


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
