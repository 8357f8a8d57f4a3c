"""A message read from the capture mailbox, kept once by its Message-ID, and the mailbox's last poll.

The unique `message_id` is the last guard of "each message once": two copies
of one message, two polls at once, or a poll after a killed one all meet at
that constraint. The raw bytes are kept (the page shows the parsed parts;
an assignment from triage reads them again), the history (simple-history)
says who assigned or discarded what; the raw bytes are left out of history.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords


class CapturedMessage(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", "Received"  # stored, not yet processed (a poll picks it up)
        LOGGED = "logged", "Logged"  # its engagement is committed
        TRIAGE = "triage", "In triage"  # waits for staff: unknown sender, no partner, unreadable
        DISCARDED = "discarded", "Discarded"

    message_id = models.CharField(max_length=998, unique=True, help_text="The Message-ID header (or a digest).")
    raw = models.BinaryField(help_text="The message as the mailbox held it (RFC 5322).")
    subject = models.CharField(max_length=998, blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    from_name = models.CharField(max_length=300, blank=True)
    recipients = models.TextField(blank=True, help_text="To and Cc addresses, comma-separated.")
    sent_at = models.DateTimeField(null=True, blank=True, help_text="The message's Date header.")
    received_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    reason = models.CharField(max_length=500, blank=True, help_text="Why it waits in triage.")
    confidentiality = models.CharField(
        max_length=16, blank=True, help_text="Chosen by a keyword in the subject ([restricted] …); blank: the default."
    )
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The known user who forwarded or BCC'd it.",
    )
    # Hidden from the engagement (related_name "+"): a link to where the message went, not a reference
    # that would stop an officer deleting that engagement (diplomacy_crm/deletion.py); a delete clears it.
    engagement = models.ForeignKey(
        "engagements.Engagement", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    processed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Who assigned or discarded it from triage (empty: the poll).",
    )

    history = HistoricalRecords(excluded_fields=["raw"])

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "-received_at"], name="mailcapture_status_recv")]

    def __str__(self):
        return self.subject or self.message_id


class MailboxPoll(models.Model):
    """The last poll of the mailbox (one row): the triage page says when it ran and what went wrong."""

    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    fetched = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"poll at {self.started_at}"
