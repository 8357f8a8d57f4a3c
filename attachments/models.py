"""An attachment: one file kept with one record.

The record is named by one of six explicit, nullable foreign keys (exactly one
is set, a check constraint), not by a generic relation: the access rule is
then a join the database answers in the same query as the list
(`accounts.access.attachment_q`: an attachment of a restricted engagement, or
of a commitment or gift of one, is exactly as visible as that engagement), the
keys keep their integrity (a record with attachments is not deleted from
under them: diplomacy_crm/deletion.py counts them as references), and each
record page lists its files with one indexed read.

The bytes live in the "attachments" storage (settings.STORAGES, a directory
under var/ by default, any S3-compatible store through django-storages);
`blob` is the storage's name for them, never derived from user input. A
replace or a delete keeps the old bytes in the storage: the history row
(django-simple-history) still names them.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from accounts import access

# kind (in URLs) -> (model label, foreign key on Attachment)
KINDS = {
    "engagement": ("engagements.Engagement", "engagement"),
    "mission": ("engagements.TradeMission", "trade_mission"),
    "commitment": ("engagements.Commitment", "commitment"),
    "gift": ("engagements.Gift", "gift"),
    "partner": ("partners.Partner", "partner"),
    "agreement": ("partners.Agreement", "agreement"),
}
RECORD_FIELDS = [field for _, field in KINDS.values()]
TEXT_FIELDS = ["text", "text_status", "text_note", "text_attempts", "text_started_at"]


def _one_record_only() -> Q:
    options = []
    for field in RECORD_FIELDS:
        options.append(Q(**{f"{field}__isnull": False}, **{f"{other}__isnull": True for other in RECORD_FIELDS if other != field}))
    q = options[0]
    for option in options[1:]:
        q |= option
    return q


class AttachmentQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(access.attachment_q(user))


class AttachmentManager(models.Manager.from_queryset(AttachmentQuerySet)):
    def get_queryset(self):
        # The text (up to ATTACHMENT_TEXT_MAX_CHARS) is for search only: lists, pages, downloads and the API
        # never load it (it is read on access, or with .defer(None)).
        return super().get_queryset().defer("text")


class Attachment(models.Model):
    engagement = models.ForeignKey(
        "engagements.Engagement", null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    trade_mission = models.ForeignKey(
        "engagements.TradeMission", null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    commitment = models.ForeignKey(
        "engagements.Commitment", null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    gift = models.ForeignKey("engagements.Gift", null=True, blank=True, on_delete=models.PROTECT, related_name="attachments")
    partner = models.ForeignKey("partners.Partner", null=True, blank=True, on_delete=models.PROTECT, related_name="attachments")
    agreement = models.ForeignKey(
        "partners.Agreement", null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    blob = models.CharField(max_length=300, help_text="The file's name in the attachments storage.")
    filename = models.CharField(max_length=255, help_text="The name it was uploaded with (made safe).")
    content_type = models.CharField(max_length=120, help_text="Detected from the content (libmagic), not the name.")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    # The searchable text of the file (attachments/textindex.py, in a Celery task after each upload or
    # replace). Written by queryset updates, not save(): extraction is not a user's change, and
    # history leaves these fields out (a copy of up to ATTACHMENT_TEXT_MAX_CHARS per version).
    class TextStatus(models.TextChoices):
        PENDING = "pending", "waiting for extraction"
        DONE = "done", "searchable"
        FAILED = "failed", "could not be read"
        UNSUPPORTED = "unsupported", "not a type whose text is read"

    text = models.TextField(blank=True, default="", help_text="The file's text for search (ATTACHMENT_TEXT_MAX_CHARS at most).")
    text_status = models.CharField(max_length=16, choices=TextStatus.choices, default=TextStatus.PENDING)
    text_note = models.CharField(max_length=300, blank=True, default="", help_text="Why it failed, or that the text was cut.")
    text_attempts = models.PositiveSmallIntegerField(default=0, help_text="Extraction runs started for this file.")
    text_started_at = models.DateTimeField(null=True, blank=True, help_text="When the last extraction run started.")

    objects = AttachmentManager()
    history = HistoricalRecords(excluded_fields=TEXT_FIELDS)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [models.CheckConstraint(condition=_one_record_only(), name="attachment_on_one_record")]
        indexes = [
            models.Index(fields=["text_started_at"], condition=Q(text_status="pending"), name="attachment_text_pending"),
        ]

    def __str__(self):
        return self.filename

    @property
    def kind(self) -> str:
        for kind, (_, field) in KINDS.items():
            if getattr(self, f"{field}_id") is not None:
                return kind
        raise ValueError("attachment without a record")

    @property
    def record_id(self) -> int:
        return getattr(self, f"{KINDS[self.kind][1]}_id")
