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

    objects = AttachmentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [models.CheckConstraint(condition=_one_record_only(), name="attachment_on_one_record")]

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
