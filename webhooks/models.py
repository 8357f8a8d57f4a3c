"""Webhooks: endpoints officers register, the events of record writes, one delivery row per (endpoint, event).

An event is written in the transaction of the write that caused it, with a
delivery row for every active endpoint subscribed to its type (and allowed
to receive it: restricted records go only to endpoints with
`include_restricted`). The delivery row is the outbox row of webhooks: unique
per (endpoint, event), claimed under a lease, retried with back-off, marked
delivered or failed, and kept as the delivery log officers read and replay
(webhooks.services).
"""

import base64
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

# The event types, in the order the form lists them: "<object>.<action>".
OBJECTS = ("partner", "engagement", "commitment", "agreement", "mission")
ACTIONS = ("created", "updated", "deleted")
EVENT_TYPES = tuple(f"{obj}.{action}" for obj in OBJECTS for action in ACTIONS) + ("commitment.done",)
EVENT_TYPE_CHOICES = [(t, t) for t in EVENT_TYPES]


def new_secret() -> str:
    """A Standard Webhooks secret: "whsec_" + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class Endpoint(models.Model):
    url = models.URLField(max_length=500, help_text="Where events are POSTed (https:// in production).")
    description = models.CharField(max_length=200, blank=True, help_text="Who receives it, e.g. the mayor's calendar.")
    secret = models.CharField(max_length=100, default=new_secret, editable=False)
    event_types = models.JSONField(
        default=list, blank=True, help_text="Event types sent to this endpoint; none selected means all of them."
    )
    is_active = models.BooleanField(default=True, help_text="Inactive endpoints are sent nothing.")
    include_restricted = models.BooleanField(
        default=False,
        help_text="Also send events about restricted engagements (and their commitments). Off unless this "
        "receiver is cleared for them.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Who changed the URL, events or clearance, and when; never the secret.
    history = HistoricalRecords(excluded_fields=["secret"])

    class Meta:
        ordering = ["url", "id"]
        indexes = [models.Index(fields=["is_active"], name="webhook_endpoint_active")]

    def __str__(self):
        return self.url

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class Event(models.Model):
    """One thing that happened to a record; its payload is fixed when written (what the receivers get)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=40, choices=EVENT_TYPE_CHOICES)
    object_type = models.CharField(max_length=20)
    object_id = models.BigIntegerField()
    restricted = models.BooleanField(default=False, help_text="About a restricted record (checked again at delivery).")
    body = models.TextField(help_text="The JSON body sent, exactly as signed; written at the time of the event.")
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="webhook_event_object")]

    def __str__(self):
        return f"{self.type} #{self.object_id}"


class Delivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    # The webhook-id header: the same on every try and replay of this event to this endpoint.
    webhook_id = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="Times a sender claimed it.")
    failures = models.PositiveIntegerField(default=0, help_text="Tries that did not get a 2xx answer.")
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(help_text="Not tried again before this (back-off).")
    lease_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    replayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once")]
        indexes = [
            models.Index(fields=["next_attempt_at", "id"], condition=Q(status="pending"), name="webhook_pending_due"),
            models.Index(fields=["lease_until"], condition=Q(status="sending"), name="webhook_sending_lease"),
            models.Index(fields=["endpoint", "created_at"], name="webhook_delivery_endpoint"),
        ]

    def __str__(self):
        return self.webhook_id

    @staticmethod
    def make_webhook_id(event_id, endpoint_id) -> str:
        return f"msg_{uuid.UUID(str(event_id)).hex}_{endpoint_id}"
