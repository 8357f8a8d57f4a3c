"""Attachment pages: a record's files (list + upload), the panel the record pages load, download, replace, delete.

Every view first finds the record or attachment through attachments.selectors,
which apply accounts.access: a file of a record the user may not see is a
404, as the record is. Files are served by `download` only, streamed, as an
attachment (never inline) with nosniff.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import may_attach, may_delete_attachment, may_replace_attachment
from diplomacy_crm.deletion import RecordInUse
from diplomacy_crm.views import apply_service_errors, render_page

from . import selectors, services
from .checks import human_size, type_label
from .forms import ReplaceForm, UploadForm
from .models import KINDS
from .responses import file_response


def _rows(attachments):
    return [
        {"attachment": a, "type": type_label(a.content_type), "size": human_size(a.size)}
        for a in attachments
    ]


def _panel_context(request, kind, record, form=None):
    user = request.user
    return {
        "kind": kind,
        "record": record,
        "record_url": selectors.record_url(kind, record),
        "rows": _rows(selectors.attachments_of(user, kind, record)),
        "form": form or UploadForm(),
        "can_attach": may_attach(user, KINDS[kind][0]),
        "can_replace": may_replace_attachment(user),
        "can_delete": may_delete_attachment(user),
    }


@login_required
@require_http_methods(["GET", "POST"])
def record_attachments(request, kind, pk):
    """/attachments/<kind>/<id>/: the record's files; POST uploads one or more (back to the record's page)."""
    record = selectors.record_for(request.user, kind, pk)
    form = None
    if request.method == "POST":
        if not may_attach(request.user, KINDS[kind][0]):
            raise PermissionDenied("You may not attach files to this record.")
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                created = services.attach_files(record=record, uploads=form.cleaned_data["files"], actor=request.user)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                names = ", ".join(a.filename for a in created)
                messages.success(request, f"Attached {names}.")
                return redirect(selectors.record_url(kind, record) + "#attachments")
    context = _panel_context(request, kind, record, form)
    # A refused upload is the page again with the form's errors (200, as every form of the site).
    return render_page(request, "attachments/record_attachments.html", context)


@login_required
@require_GET
def panel(request, kind, pk):
    """The panel a record page loads into its "Attachments" section (htmx); the same list and form as above."""
    record = selectors.record_for(request.user, kind, pk)
    return render_page(request, "attachments/_panel_body.html", _panel_context(request, kind, record))


@login_required
@require_GET
def download(request, pk):
    attachment = selectors.access_attachment(request.user, pk)
    return file_response(attachment, services.storage())


def _back(attachment) -> str:
    kind = attachment.kind
    return reverse("attachments:record", args=[kind, attachment.record_id])


@login_required
@require_http_methods(["GET", "POST"])
def replace(request, pk):
    if not may_replace_attachment(request.user):
        raise PermissionDenied("Only officers replace attachments.")
    attachment = selectors.access_attachment(request.user, pk)
    form = ReplaceForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.replace_file(attachment=attachment, upload=form.cleaned_data["file"], actor=request.user)
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, f"Replaced {attachment.filename}; the earlier file is kept in the history.")
                return redirect(_back(attachment))
    return render_page(
        request, "attachments/replace.html", {"attachment": attachment, "form": form, "back": _back(attachment)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def delete(request, pk):
    if not may_delete_attachment(request.user):
        raise PermissionDenied("Only officers delete attachments.")
    attachment = selectors.access_attachment(request.user, pk)
    back = _back(attachment)
    if request.method == "POST":
        try:
            services.delete_attachment(attachment=attachment, actor=request.user)
        except RecordInUse:  # nothing points at attachments; kept for the rule's sake
            raise PermissionDenied("This attachment is in use.") from None
        messages.success(request, f"Deleted {attachment.filename}; it is kept in the history.")
        return redirect(back)
    return render_page(request, "attachments/delete_confirm.html", {"attachment": attachment, "back": back})
