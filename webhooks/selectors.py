"""Reads of webhooks: endpoints and the delivery log (officers only; the views and API check)."""

from django.db.models import Count, Q

from .models import Delivery, Endpoint


def endpoints():
    """Every endpoint with its delivery counts (one query)."""
    return Endpoint.objects.annotate(
        delivered=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.DELIVERED)),
        failed=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.FAILED)),
        waiting=Count("deliveries", filter=Q(deliveries__status__in=[Delivery.Status.PENDING, Delivery.Status.SENDING])),
    ).order_by("url", "id")


def deliveries(*, endpoint_id=None, status: str = ""):
    """The delivery log, newest first, with each row's endpoint and event (no query per row)."""
    rows = Delivery.objects.select_related("endpoint", "event").defer("event__body").order_by("-created_at", "-id")
    if endpoint_id is not None:
        rows = rows.filter(endpoint_id=endpoint_id)
    if status in Delivery.Status.values:
        rows = rows.filter(status=status)
    return rows


def endpoint_id_param(value: str | None) -> int | None:
    """An `?endpoint=` filter: an id, or None for anything else (never an error)."""
    if value and value.isascii() and value.isdecimal() and len(value) <= 18:
        return int(value)
    return None
