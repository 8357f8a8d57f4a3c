from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from diplomacy_crm.views import PAGE_SIZES, filter_chips, page_size

from .models import OutboxMessage

PAGE_SIZE = 50


class OutboxFilterForm(forms.Form):
    """The outbox's one filter (chosen with the status buttons): its chip and the page size's form."""

    status = forms.ChoiceField(label="Status", required=False, choices=[("", "All"), *OutboxMessage.Status.choices])


@require_GET
@never_cache
@login_required
@permission_required("notifications.view_outboxmessage", raise_exception=True)
def outbox(request):
    """Officers: every email with its state, attempts and last error, newest first."""
    status = request.GET.get("status", "")
    if status not in OutboxMessage.Status.values:
        status = ""
    counts = dict(OutboxMessage.objects.values_list("status").annotate(n=Count("id")).order_by())
    rows = OutboxMessage.objects.order_by("-created_at", "-id").defer("context")
    if status:
        rows = rows.filter(status=status)
    per_page = page_size(request, PAGE_SIZE)
    page = Paginator(rows, per_page).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/outbox.html",
        {
            "page": page,
            # Materialised here so the template runs no query.
            "messages_on_page": list(page.object_list),
            "status": status,
            "statuses": [(value, label, counts.get(value, 0)) for value, label in OutboxMessage.Status.choices],
            "total": sum(counts.values()),
            "chips": filter_chips(OutboxFilterForm(), request),
            "per_page": per_page,
            "page_sizes": sorted({*PAGE_SIZES, PAGE_SIZE}),
            "default_per_page": PAGE_SIZE,
            # The links of the status buttons and of the pages keep the page size.
            "per_page_param": f"per_page={per_page}&" if per_page != PAGE_SIZE else "",
        },
    )
