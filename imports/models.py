"""An import job: the uploaded file, how its columns map, and what the dry run or the import found."""

from django.conf import settings
from django.db import models

from diplomacy_crm.models import TimeStampedModel


class ImportJob(TimeStampedModel):
    class Kind(models.TextChoices):
        PARTNERS = "partners", "Partners"
        CONTACTS = "contacts", "Contacts"
        ENGAGEMENTS = "engagements", "Engagements (with commitments)"

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "Uploaded: map the columns"
        CHECKING = "checking", "Checking (dry run)"
        CHECKED = "checked", "Checked: ready to import"
        IMPORTING = "importing", "Importing"
        IMPORTED = "imported", "Imported"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled: nothing was imported"

    # States in which a worker is (or should be) busy with the job.
    RUNNING = (Status.CHECKING, Status.IMPORTING)

    kind = models.CharField(max_length=16, choices=Kind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="import_jobs"
    )
    filename = models.CharField(max_length=255)
    # The file itself lives in the row: a worker on another host reads it from
    # the database, and nothing is left behind on disk when a job is deleted.
    content = models.BinaryField()
    size = models.PositiveIntegerField(default=0)
    headers = models.JSONField(default=list, help_text="The file's column headers, in order.")
    total_rows = models.PositiveIntegerField(default=0)
    mapping = models.JSONField(default=dict, help_text="Field name → header, or a template like '{Col A} {Col B}'.")
    defaults = models.JSONField(default=dict, help_text="Field name → value used where the cell is empty.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    progress = models.PositiveIntegerField(default=0, help_text="Rows processed by the running pass.")
    counts = models.JSONField(default=dict)
    errors = models.JSONField(default=list, help_text="[{row, column, message}], at most a thousand.")
    warnings = models.JSONField(default=list)
    preview = models.JSONField(default=list, help_text="The first rows' outcomes: [{row, action, record, label}].")
    message = models.TextField(blank=True, help_text="Why the job failed, when it did.")
    claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="When a worker took the running pass, or last renewed its lease (database clock)."
    )
    claim_token = models.CharField(
        max_length=32, blank=True, default="", help_text="Which run holds the job: its renewals and its result must carry it."
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    skip_invalid = models.BooleanField(
        default=False, help_text="The import writes the good rows and leaves the bad ones out (else all or nothing)."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "created_at"], name="importjob_user_created")]

    def __str__(self):
        return f"{self.get_kind_display()} from {self.filename}"

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING

    @property
    def bad_row_count(self) -> int:
        return len({e.get("row") for e in self.errors if e.get("row")})

    @property
    def good_row_count(self) -> int:
        return max(0, self.total_rows - self.bad_row_count)

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, round(100 * self.progress / self.total_rows))
