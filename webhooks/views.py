"""Officers' pages: endpoints (list, register, edit) and the delivery log (read, replay). Thin: services write."""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import is_officer

from . import selectors, services
from .forms import EndpointForm
from .models import Delivery, Endpoint

PAGE_SIZE = 50


def officers_only(view):
    @functools.wraps(view)
    @never_cache
    @login_required
    def wrapped(request, *args, **kwargs):
        if not is_officer(request.user):
            raise PermissionDenied("Only officers manage webhooks.")
        return view(request, *args, **kwargs)

    return wrapped


@require_http_methods(["GET", "HEAD"])
@officers_only
def endpoint_list(request):
    return render(request, "webhooks/endpoint_list.html", {"endpoints": list(selectors.endpoints())})


def _save(form, write):
    """Run the service `write()`; its refusals (the URL's target, say) become form errors."""
    try:
        with transaction.atomic():
            return write()
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    return None


@require_http_methods(["GET", "HEAD", "POST"])
@officers_only
def endpoint_create(request):
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "rotate_secret"}
        endpoint = _save(form, lambda: services.endpoint_create(actor=request.user, **data))
        if endpoint is not None:
            messages.success(request, "Endpoint registered. Give its secret (below) to the receiver's owners.")
            return redirect("webhooks:endpoint-edit", pk=endpoint.pk)
    return render(request, "webhooks/endpoint_form.html", {"form": form, "endpoint": None})


@require_http_methods(["GET", "HEAD", "POST"])
@officers_only
def endpoint_edit(request, pk):
    endpoint = get_object_or_404(Endpoint, pk=pk)
    form = EndpointForm(request.POST or None, instance=endpoint)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        saved = _save(form, lambda: services.endpoint_update(endpoint=endpoint, actor=request.user, **data))
        if saved is not None:
            messages.success(request, "Endpoint saved." + (" It has a new secret." if data.get("rotate_secret") else ""))
            return redirect("webhooks:endpoint-edit", pk=endpoint.pk)
        endpoint.refresh_from_db()
    recent = list(selectors.deliveries(endpoint_id=endpoint.pk)[:10])
    return render(request, "webhooks/endpoint_form.html", {"form": form, "endpoint": endpoint, "recent": recent})


@require_http_methods(["GET", "HEAD"])
@officers_only
def delivery_log(request):
    status = request.GET.get("status", "")
    if status not in Delivery.Status.values:
        status = ""
    endpoint_id = selectors.endpoint_id_param(request.GET.get("endpoint"))
    page = Paginator(selectors.deliveries(endpoint_id=endpoint_id, status=status), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "webhooks/delivery_log.html",
        {
            "page": page,
            "rows": list(page.object_list),
            "status": status,
            "statuses": Delivery.Status.choices,
            "endpoint_id": endpoint_id,
        },
    )


@officers_only
@require_POST
def delivery_replay(request, pk):
    delivery = get_object_or_404(Delivery, pk=pk)
    if services.replay(delivery):
        messages.success(request, f"Delivery {delivery.webhook_id} will be sent again shortly.")
    else:
        messages.warning(request, "This delivery is still waiting to be sent; there is nothing to replay.")
    return redirect("webhooks:delivery-log")
