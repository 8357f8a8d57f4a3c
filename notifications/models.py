"""The outbox: every email the system sends is a row here first.

A row is keyed uniquely by (recipient, kind, subject object, period), so a
rerun, a retried task or a second worker can only ever find the row that is
already there. Sending moves a row pending -> sending (claimed under a lease)
-> sent, or back to pending with a back-off when SMTP fails, or to failed
when the message itself cannot be sent (OUTBOX_MAX_ATTEMPTS times).

The row carries what the templates need (`context`, plain JSON prepared when
the row is written), so the sender renders without touching the database.
The table is its own audit trail: it is never rewritten except by the sender.
"""

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q


class OutboxMessage(models.Model):
    class Kind(models.TextChoices):
        COMMITMENT_DUE_SOON = "commitment_due_soon", "Commitment due soon"
        COMMITMENT_DUE_TODAY = "commitment_due_today", "Commitment due today"
        COMMITMENT_OVERDUE = "commitment_overdue", "Commitment overdue"
        ENGAGEMENT_FOLLOW_UP = "engagement_follow_up", "Engagement follow-up"
        AGREEMENT_EXPIRES = "agreement_expires", "Agreement expires"
        AGREEMENT_NOTICE = "agreement_notice", "Agreement notice date"
        WEEKLY_DIGEST = "weekly_digest", "Weekly digest"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    # The de-duplication key: "<kind>:<subject type>:<subject id>:<period>:u<recipient id>".
    key = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="outbox_messages",
        help_text="Kept as to_email when the user is deleted: the row is an audit record.",
    )
    to_email = models.EmailField(max_length=254)
    subject_type = models.CharField(max_length=32, blank=True, help_text="commitment, engagement, agreement, week")
    subject_id = models.BigIntegerField(null=True, blank=True)
    period = models.CharField(max_length=32, help_text="Due date, ISO week or notice window of the message.")
    summary = models.CharField(max_length=300, blank=True, help_text="One line for the outbox page.")
    context = models.JSONField(default=dict, help_text="What the templates render, prepared at enqueue time.")

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="Times a sender claimed it.")
    failures = models.PositiveIntegerField(
        default=0, help_text="Times the message itself was refused or failed to render (poison count)."
    )
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(help_text="Not tried again before this (back-off).")
    lease_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    rendered_subject = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "outbox message"
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sender's two scans: pending rows whose back-off is over, and
            # claimed rows whose lease ran out (their worker died).
            models.Index(fields=["next_attempt_at", "id"], condition=Q(status="pending"), name="outbox_pending_due"),
            models.Index(fields=["lease_until"], condition=Q(status="sending"), name="outbox_sending_lease"),
            models.Index(fields=["status", "created_at"], name="outbox_status_created"),
            models.Index(fields=["subject_type", "subject_id"], name="outbox_subject"),
        ]

    def __str__(self):
        return self.key

    @staticmethod
    def make_key(*, kind: str, subject_type: str, subject_id, period: str, recipient_id: int) -> str:
        return f"{kind}:{subject_type}:{subject_id or 0}:{period}:u{recipient_id}"

    @property
    def message_id(self) -> str:
        """A stable Message-ID: a resend after a crash carries the same one."""
        return message_id_for(self.key)


def message_id_for(key: str) -> str:
    from urllib.parse import urlparse

    domain = urlparse(settings.SITE_URL).hostname or "localhost"
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"<outbox.{digest}@{domain}>"
