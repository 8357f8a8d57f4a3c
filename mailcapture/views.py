"""The triage inbox (staff and officers): captured mail waiting for a partner, assigned or discarded here."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST, require_safe

from attachments.responses import bytes_response
from diplomacy_crm.views import apply_service_errors, list_page, render_page
from partners.forms import prepare_lookups

from . import parsing, selectors, services
from .filters import CapturedMessageFilter
from .forms import AssignForm
from .models import CapturedMessage

CSV = [
    ("received_at", lambda m: m.received_at),
    ("from", lambda m: m.from_address),
    ("subject", lambda m: m.subject),
    ("status", lambda m: m.status),
    ("reason", lambda m: m.reason),
    ("engagement", lambda m: m.engagement_id or ""),
]


def _triage_staff(request) -> None:
    if not services.may_log(request.user):
        raise PermissionDenied("Only staff and officers work the triage inbox.")


def _message(request, pk) -> CapturedMessage:
    try:
        return selectors.access_message(request.user, pk)
    except CapturedMessage.DoesNotExist:
        raise Http404("No such message.") from None


@login_required
@require_GET
def triage_list(request):
    _triage_staff(request)
    queryset = selectors.messages_for(request.user).select_related("sender").defer("raw").order_by("-received_at")
    return list_page(request, queryset=queryset, filterset_class=CapturedMessageFilter,
                     template="mailcapture/triage_list.html", columns=CSV, filename="captured-mail.csv",
                     context=selectors.mailbox_state())


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def triage_detail(request, pk):
    _triage_staff(request)
    message = _message(request, pk)
    initial = {"confidentiality": message.confidentiality or services.default_confidentiality()}
    form = AssignForm(request.POST if request.method == "POST" else None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            engagement = services.message_assign(message=message, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Logged as “{engagement.title}” on {form.cleaned_data['partner']}.")
            return redirect("mailcapture:triage")
    prepare_lookups(form)
    parsed = parsing.parse(bytes(message.raw))
    return render_page(request, "mailcapture/triage_detail.html",
                       {"message": message, "parsed": parsed, "files": selectors.message_files(parsed), "form": form,
                        "open": message.status == "triage"})


@login_required
@require_safe
def triage_file(request, pk, number):
    """One file of the message (`number` from 1), as attachments serve theirs; none that their checks refuse."""
    _triage_staff(request)
    message = _message(request, pk)
    files = selectors.message_files(parsing.parse(bytes(message.raw)))
    if not 1 <= number <= len(files) or files[number - 1].refused:
        raise Http404("No such file in this message.")
    file = files[number - 1]
    return bytes_response(file.content, filename=file.filename, content_type=file.content_type)


@login_required
@require_POST
def triage_discard(request, pk):
    _triage_staff(request)
    message = _message(request, pk)
    try:
        services.message_discard(message=message, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("mailcapture:triage-detail", pk=message.pk)
    messages.success(request, f"Discarded “{message.subject or '(no subject)'}”.")
    return redirect("mailcapture:triage")
