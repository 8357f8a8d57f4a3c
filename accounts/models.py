import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from diplomacy_crm.models import TimeStampedModel


def new_calendar_token() -> str:
    return secrets.token_urlsafe(32)


class Profile(TimeStampedModel):
    """A user's preferences: the digest, reminder lead time, calendar feed."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    digest_opt_out = models.BooleanField(
        "no weekly digest", default=False, help_text="Tick to stop receiving the Monday digest email."
    )
    reminder_lead_days = models.PositiveSmallIntegerField(
        "remind me this many days ahead",
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text="How many days before a commitment's due date the first reminder arrives (1–60).",
    )
    calendar_token = models.CharField(max_length=64, unique=True, default=new_calendar_token, editable=False)

    history = HistoricalRecords(excluded_fields=["calendar_token"])

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(reminder_lead_days__gte=1, reminder_lead_days__lte=60),
                name="profile_reminder_lead_days_range",
            )
        ]

    def __str__(self):
        return f"Preferences of {self.user}"

    def rotate_calendar_token(self) -> str:
        """Revoke the old calendar feed URL and issue a new one."""
        self.calendar_token = new_calendar_token()
        self.save(update_fields=["calendar_token", "updated_at"])
        return self.calendar_token
