"""What happens with partners: engagements, trade missions, commitments, gifts.

Confidentiality: a restricted engagement, its commitments and its gifts are
visible only to officers, superusers and the users who took part (its
`staff`). Every read goes through the `visible_to(user)` QuerySet methods, which
ask `accounts.access`, the one home of the rule.
"""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from accounts import access
from diplomacy_crm import dates, officetime
from diplomacy_crm.models import RecordModel
from partners.models import NAME_MAX, Contact, Partner, Topic


class Confidentiality(models.TextChoices):
    PUBLIC = "public", "Public"
    INTERNAL = "internal", "Internal"
    RESTRICTED = access.RESTRICTED, "Restricted"


class TradeMissionQuerySet(models.QuerySet):
    def visible_to(self, user):
        # Missions themselves carry no confidentiality; their restricted
        # engagements are filtered wherever the itinerary is shown.
        return self if access.may_use_crm(user) else self.none()


class TradeMission(RecordModel):
    class Direction(models.TextChoices):
        OUTBOUND = "outbound", "Outbound (we travel)"
        INBOUND = "inbound", "Inbound (we host)"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        UNDER_WAY = "under_way", "Under way"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    name = models.CharField(max_length=NAME_MAX)
    direction = models.CharField(max_length=16, choices=Direction.choices, default=Direction.OUTBOUND)
    countries = CountryField(multiple=True, multiple_sort=False, blank=True, help_text="In itinerary order.")
    cities = models.CharField(max_length=500, blank=True, help_text="Comma-separated, in itinerary order.")
    start_date = models.DateField(validators=[dates.validate_date])
    end_date = models.DateField(validators=[dates.validate_date])
    lead = models.CharField(max_length=NAME_MAX, blank=True, help_text="Who leads the delegation, e.g. the Mayor.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_missions"
    )
    objectives = models.TextField(max_length=20_000, blank=True)
    delegates = models.ManyToManyField(Contact, blank=True, related_name="missions")
    partners = models.ManyToManyField(Partner, blank=True, related_name="missions")
    outcomes = models.TextField(max_length=20_000, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNED)

    objects = TradeMissionQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[delegates, partners])

    class Meta:
        ordering = ["-start_date", "id"]
        indexes = [models.Index(fields=["start_date"], name="mission_start_date")]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gte=F("start_date")), name="mission_ends_after_start"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "A mission cannot end before it starts."})

    def get_absolute_url(self):
        return reverse("engagements:mission-detail", args=[self.pk])


def follow_up_problem(starts_at, follow_up_by) -> str | None:
    """Why this follow-up date is refused (before the meeting's day in office time), or None.

    The one rule for every way in: Engagement.clean() (services, so the API and
    the importer) and the meeting form (for an error before anything is sent).
    """
    if not starts_at or not follow_up_by or not isinstance(starts_at, dt.datetime):
        return None
    day = timezone.localdate(starts_at) if timezone.is_aware(starts_at) else starts_at.date()
    if follow_up_by < day:
        return f"The follow-up cannot be before the meeting ({day:%b %-d, %Y})."
    return None


class EngagementQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Everything but restricted engagements the user did not take part in (accounts.access)."""
        return self.filter(access.engagement_q(user))

    def held(self):
        return self.exclude(status=Engagement.Status.CANCELLED)


class Engagement(RecordModel):
    class Kind(models.TextChoices):
        BILATERAL_MEETING = "bilateral_meeting", "Bilateral meeting"
        CALL = "call", "Call"
        VISIT_RECEIVED = "visit_received", "Visit received"
        VISIT_ABROAD = "visit_abroad", "Visit abroad"
        MULTILATERAL_FORUM = "multilateral_forum", "Multilateral forum"
        EVENT = "event", "Event or reception"
        CORRESPONDENCE = "correspondence", "Correspondence"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        HELD = "held", "Held"
        CANCELLED = "cancelled", "Cancelled"

    Confidentiality = Confidentiality

    title = models.CharField(max_length=NAME_MAX)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PLANNED)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    location = models.CharField(max_length=NAME_MAX, blank=True)
    venue_timezone = models.CharField(
        "venue time zone",
        max_length=64,
        blank=True,
        default="",
        validators=[officetime.validate_time_zone],
        help_text="Where the meeting takes place, when its clock differs from the office's (e.g. Europe/Rome): "
        "pages, briefings, emails and calendars then show both times.",
    )
    is_virtual = models.BooleanField(default=False)
    partners = models.ManyToManyField(Partner, blank=True, related_name="engagements")
    contacts = models.ManyToManyField(Contact, blank=True, related_name="engagements")
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="engagements_attended",
        help_text="Our side's people who took part; they may see it even when restricted.",
    )
    city_officials = models.CharField(
        max_length=1000, blank=True, help_text="Elected officials and others on our side, as text."
    )
    topics = models.ManyToManyField(Topic, blank=True, related_name="engagements")
    trade_mission = models.ForeignKey(
        TradeMission, null=True, blank=True, on_delete=models.SET_NULL, related_name="engagements"
    )
    summary = models.TextField(max_length=50_000, blank=True)
    outcomes = models.TextField(max_length=50_000, blank=True)
    confidentiality = models.CharField(
        max_length=16, choices=Confidentiality.choices, default=Confidentiality.INTERNAL
    )
    follow_up_by = models.DateField(null=True, blank=True, validators=[dates.validate_date])
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_engagements",
        help_text="Who logged it and is reminded of the follow-up.",
    )
    # The calendar invitation it came from (engagements.invitations): its UID, and the SEQUENCE and
    # DTSTAMP last applied, so that a later update or cancellation finds it and an older one changes nothing.
    ical_uid = models.CharField("invitation UID", max_length=255, blank=True, default="", editable=False)
    ical_sequence = models.PositiveIntegerField("invitation sequence", default=0, editable=False)
    ical_dtstamp = models.DateTimeField("invitation stamp", null=True, blank=True, editable=False)

    objects = EngagementQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[partners, contacts, staff, topics])

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(fields=["starts_at", "id"], name="engagement_starts_at"),
            models.Index(fields=["confidentiality", "starts_at"], name="engagement_conf_starts"),
            # Carries what the visibility rule reads (confidentiality, id), so that counting a
            # non-officer's visible engagements of one kind is an index-only scan (PostgreSQL).
            models.Index(fields=["kind", "starts_at"], include=["confidentiality", "id"], name="engagement_kind_starts"),
            models.Index(
                fields=["follow_up_by"], condition=Q(follow_up_by__isnull=False), name="engagement_follow_up"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")), name="engagement_ends_after_start"
            ),
            # One engagement per invitation (the unique index is also how it is found by UID).
            models.UniqueConstraint(
                fields=["ical_uid"],
                condition=~Q(ical_uid=""),
                name="engagement_ical_uid_unique",
                violation_error_message="An engagement already comes from this invitation.",
            ),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        # The accepted range (diplomacy_crm.dates), here so that every way in (form, API, import) keeps to it.
        for name in ("starts_at", "ends_at"):
            if not dates.year_in_range(getattr(self, name)):
                raise ValidationError({name: dates.OUT_OF_RANGE})
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "An engagement must end after it starts."})
        if problem := follow_up_problem(self.starts_at, self.follow_up_by):
            raise ValidationError({"follow_up_by": problem})

    def get_absolute_url(self):
        return reverse("engagements:detail", args=[self.pk])

    @property
    def is_restricted(self) -> bool:
        return access.is_restricted(self.confidentiality)

    @property
    def venue_time(self) -> str:
        """The venue's local time ("10:00–11:00 Rome time"), or "" when it is the office's (diplomacy_crm.officetime)."""
        return officetime.venue_phrase(self.starts_at, self.venue_timezone, self.ends_at)


class CommitmentQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Hidden when it came from a restricted engagement the user may not see."""
        return self.filter(access.engagement_q(user, via="engagement__"))

    def open(self):
        return self.filter(status__in=Commitment.OPEN_STATUSES)

    def overdue(self, today=None):
        today = today or timezone.localdate()
        return self.open().filter(due_date__lt=today)


class Commitment(RecordModel):
    class MadeBy(models.TextChoices):
        CITY = "city", "Our city (we owe)"
        PARTNER = "partner", "The partner (they owe)"
        JOINT = "joint", "Jointly"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        DROPPED = "dropped", "Dropped"

    OPEN_STATUSES = (Status.OPEN, Status.IN_PROGRESS)

    description = models.TextField(max_length=5000)
    made_by = models.CharField(max_length=16, choices=MadeBy.choices, default=MadeBy.CITY)
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="commitments"
    )
    engagement = models.ForeignKey(
        Engagement, null=True, blank=True, on_delete=models.PROTECT, related_name="commitments"
    )
    trade_mission = models.ForeignKey(
        TradeMission, null=True, blank=True, on_delete=models.PROTECT, related_name="commitments"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_commitments",
        help_text="Who on our side sees that it is kept; reminders go to them.",
    )
    due_date = models.DateField(null=True, blank=True, validators=[dates.validate_date])
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    completed_on = models.DateField(null=True, blank=True, validators=[dates.validate_date])
    priority = models.PositiveSmallIntegerField(choices=Partner.Priority.choices, default=Partner.Priority.MEDIUM)

    objects = CommitmentQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [
            # The reminder scan and the dashboard read open commitments by due date. The owner is
            # carried in the index (PostgreSQL; SQLite ignores INCLUDE) so that the hourly scan is an
            # index-only scan that touches no table page (P6).
            models.Index(
                fields=["due_date", "id"],
                include=["owner"],
                condition=Q(status__in=["open", "in_progress"]),
                name="commitment_open_due",
            ),
            models.Index(fields=["owner", "status", "due_date"], name="commitment_owner_status_due"),
            models.Index(fields=["partner", "status"], name="commitment_partner_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="done") | Q(completed_on__isnull=False), name="commitment_done_has_completed_on"
            ),
            models.CheckConstraint(condition=Q(priority__gte=1, priority__lte=3), name="commitment_priority_1_to_3"),
        ]

    def __str__(self):
        return self.description[:80]

    def clean(self):
        if self.status == self.Status.DONE and not self.completed_on:
            raise ValidationError({"completed_on": "A commitment marked done needs the date it was completed."})
        if self.made_by in (self.MadeBy.PARTNER, self.MadeBy.JOINT) and not self.partner_id:
            raise ValidationError({"partner": "Name the partner who made (or shares) this commitment."})

    def get_absolute_url(self):
        return reverse("engagements:commitment-detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


# The one check of a currency code: the model (services, back office), the gift form and the API all use it.
currency_code = RegexValidator(r"^[A-Z]{3}\Z", "Enter a three-letter ISO 4217 code in capitals, such as USD, EUR or JPY.")


class GiftQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(access.engagement_q(user, via="engagement__"))


class Gift(RecordModel):
    """A gift given or received at an engagement, for the ethics disclosure report."""

    class Direction(models.TextChoices):
        RECEIVED = "received", "Received by the city"
        GIVEN = "given", "Given by the city"

    class Disposition(models.TextChoices):
        PENDING = "pending", "Pending decision"
        RETAINED_OFFICIAL = "retained_official", "Retained for official use or display"
        ARCHIVED = "archived", "Transferred to the city archives"
        PURCHASED = "purchased", "Purchased by the recipient"
        DONATED = "donated", "Donated to charity"
        RETURNED = "returned", "Returned or declined"
        CONSUMED = "consumed", "Consumed (perishable)"

    engagement = models.ForeignKey(
        Engagement, null=True, blank=True, on_delete=models.PROTECT, related_name="gifts"
    )
    direction = models.CharField(max_length=16, choices=Direction.choices)
    exchanged_on = models.DateField(validators=[dates.validate_date])
    giver = models.CharField("from", max_length=NAME_MAX)
    recipient = models.CharField("to", max_length=NAME_MAX)
    partner = models.ForeignKey(Partner, null=True, blank=True, on_delete=models.PROTECT, related_name="gifts")
    description = models.TextField(max_length=5000)
    estimated_value = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(
        max_length=3, default="USD", validators=[currency_code], help_text="ISO 4217 code, e.g. USD, EUR, JPY."
    )
    disposition = models.CharField(max_length=32, choices=Disposition.choices, default=Disposition.PENDING)

    objects = GiftQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["-exchanged_on", "id"]
        indexes = [models.Index(fields=["exchanged_on"], name="gift_exchanged_on")]
        constraints = [
            models.CheckConstraint(
                condition=Q(estimated_value__isnull=True) | Q(estimated_value__gte=0), name="gift_value_not_negative"
            ),
        ]

    def __str__(self):
        return self.description[:80]
