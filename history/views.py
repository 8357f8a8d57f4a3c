"""Who changed what and when, for any record; and an officer's restore of an old version."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts import access
from accounts.roles import is_officer
from diplomacy_crm.views import render_page

from . import selectors, services


@require_safe
@login_required
def record_history(request, model, pk):
    history = selectors.record_history(request.user, model, pk)
    return render_page(
        request, "history/record_history.html", {"history": history, "can_restore": is_officer(request.user)}
    )


@require_http_methods(["GET", "POST"])
@login_required
def restore(request, model, pk, history_id):
    if not is_officer(request.user):
        raise PermissionDenied("Only officers restore records.")
    history = selectors.record_history(request.user, model, pk)  # 404 rules as for the page
    model_class, _ = selectors.tracked_model(model)
    historical = get_object_or_404(model_class.history.all(), id=pk, history_id=history_id)
    if selectors.version_hidden(request.user, historical):
        raise Http404  # as for a version that does not exist
    back = f"/history/{model}/{pk}/"
    if request.method == "POST":
        try:
            record = services.record_restore(historical=historical, actor=request.user)
        except ValidationError as exc:
            messages.error(request, "This version cannot be restored: " + " ".join(exc.messages))
            return redirect(back)
        messages.success(request, f"“{record}” restored to its version of {_when(historical)}.")
        return redirect(back)
    return render_page(
        request,
        "history/restore_confirm.html",
        {"history": history, "historical": historical, "when": _when(historical), "cancel_url": back},
    )


def _when(historical) -> str:
    return timezone.localtime(historical.history_date).strftime("%b %-d, %Y %H:%M")


@login_required
@require_POST
def undo_delete(request, model, pk, history_id):
    """The "Undo" offered after a delete: put the record back from its deletion row, relations included.

    Only the user who deleted it, or someone who may restore (accounts.access.may_undo_delete); a deleted
    version the user may not read (a restricted engagement's, for an outsider) is a 404, as for a version that
    does not exist. Undoing twice, or after the record came back another way, changes nothing.
    """
    model_class, _ = selectors.tracked_model(model)
    historical = get_object_or_404(model_class.history.all(), id=pk, history_id=history_id, history_type="-")
    if selectors.version_hidden(request.user, historical):
        raise Http404
    if not access.may_undo_delete(request.user, deleted_by_id=historical.history_user_id):
        raise PermissionDenied("Only the person who deleted it, or an officer, may undo this delete.")
    latest = model_class.history.filter(id=pk).order_by("-history_date", "-history_id").first()
    if latest.history_id != historical.history_id or model_class._default_manager.filter(pk=pk).exists():
        messages.info(request, "This record is already back.")
        live = model_class._default_manager.filter(pk=pk).first()
        return redirect(live.get_absolute_url() if live is not None else "/")
    try:
        record = services.record_restore(historical=historical, actor=request.user)
    except ValidationError as exc:
        messages.error(request, "The delete cannot be undone: " + " ".join(exc.messages))
        return redirect("/")
    messages.success(request, f"“{record}” is back, as it was before the delete.")
    return redirect(record.get_absolute_url())
