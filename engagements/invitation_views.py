"""The "Import an invitation" page: an uploaded .ics becomes planned engagements (engagements.invitations)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods

from diplomacy_crm.views import render_page, require_perm

from .forms import InvitationUploadForm
from .invitations import InvitationError, apply_calendar

DONE = {"created": "Planned", "updated": "Updated", "cancelled": "Cancelled", "unchanged": "Already up to date"}


@login_required
@require_http_methods(["GET", "POST"])
def invitation_import(request):
    """Staff and officers: create, update or cancel the engagements an invitation describes; one → its page."""
    require_perm(request, "engagements.add_engagement")
    form = InvitationUploadForm(request.POST or None, request.FILES or None)
    outcomes = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            outcomes = apply_calendar(data["file"].read(), actor=request.user, confidentiality=data["confidentiality"])
        except InvitationError as exc:
            form.add_error("file", str(exc))
        else:
            if not outcomes:
                form.add_error("file", "This cancels a meeting that is not in the CRM: nothing to do.")
            elif len(outcomes) == 1:
                messages.success(request, f"{DONE[outcomes[0].action]} from the invitation: {outcomes[0].engagement.title}")
                return redirect(outcomes[0].engagement)
    rows = [(DONE[o.action], o.engagement) for o in outcomes]
    return render_page(request, "engagements/invitation_import.html", {"form": form, "rows": rows})
