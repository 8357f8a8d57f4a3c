"""Partners (foreign counterparts), their people, policy topics and agreements."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from diplomacy_crm import dates
from diplomacy_crm.models import RecordModel, VersionedModel

NAME_MAX = 300


class Topic(VersionedModel):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class PartnerQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=Partner.Status.ACTIVE)


class Partner(RecordModel):
    class Kind(models.TextChoices):
        NATIONAL_GOVERNMENT = "national_government", "National government"
        SUBNATIONAL_GOVERNMENT = "subnational_government", "Subnational government"
        CITY = "city", "City or region"
        DIPLOMATIC_MISSION = "diplomatic_mission", "Diplomatic mission"
        INTERNATIONAL_ORGANIZATION = "international_organization", "International organization"
        CITY_NETWORK = "city_network", "City network"
        COMPANY = "company", "Company"
        ACADEMIC = "academic", "University or academic"
        CIVIL_SOCIETY = "civil_society", "Civil society"
        DIASPORA = "diaspora", "Diaspora organization"
        RELIGIOUS = "religious", "Religious institution"
        OTHER = "other", "Other"

    class Priority(models.IntegerChoices):
        HIGH = 1, "1 – high"
        MEDIUM = 2, "2 – medium"
        LOW = 3, "3 – low"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive (archived)"

    name = models.CharField(max_length=NAME_MAX)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    country = CountryField(blank=True, help_text="Leave empty for international bodies.")
    city = models.CharField(max_length=200, blank=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The body this one belongs to, e.g. a ministry's national government.",
    )
    website = models.URLField(max_length=500, blank=True)
    description = models.TextField(max_length=20_000, blank=True)
    topics = models.ManyToManyField(Topic, blank=True, related_name="partners")
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.MEDIUM)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_partners",
        help_text="The officer who looks after this relationship.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    external_id = models.CharField(
        max_length=200, blank=True, help_text="Identifier in another system; re-imports match on it."
    )

    objects = PartnerQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[topics])

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["country", "name"], name="partner_country_name"),
            models.Index(fields=["priority", "status"], name="partner_priority_status"),
            models.Index(fields=["kind"], name="partner_kind"),
            models.Index(fields=["name"], name="partner_name"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(priority__gte=1, priority__lte=3), name="partner_priority_1_to_3"),
            models.CheckConstraint(condition=~Q(parent=F("id")), name="partner_not_own_parent"),
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="partner_unique_external_id"
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        # A partner cannot sit below itself, directly or through its ancestors.
        ancestor, seen = self.parent, set()
        while ancestor is not None and ancestor.pk not in seen:
            if self.pk and ancestor.pk == self.pk:
                raise ValidationError({"parent": "A partner cannot belong to itself or to one of its own members."})
            seen.add(ancestor.pk)
            ancestor = ancestor.parent

    def get_absolute_url(self):
        return reverse("partner-history", args=[self.pk])


class Contact(RecordModel):
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="contacts")
    full_name = models.CharField(max_length=NAME_MAX)
    honorific = models.CharField(
        max_length=100, blank=True, help_text="Written before the name: H.E., The Hon., Dr., Mayor …"
    )
    form_of_address = models.CharField(
        max_length=200, blank=True, help_text="How to address them in person or in a letter: Your Excellency …"
    )
    title = models.CharField("position", max_length=NAME_MAX, blank=True)
    email = models.EmailField(max_length=254, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    languages = models.CharField(max_length=200, blank=True, help_text="Comma-separated, e.g. Spanish, English.")
    protocol_notes = models.TextField(
        max_length=5000, blank=True, help_text="Precedence, gifts etiquette, dietary needs, pronunciation …"
    )
    is_active = models.BooleanField("in post", default=True)
    external_id = models.CharField(max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["full_name", "id"]
        indexes = [
            models.Index(fields=["partner", "is_active"], name="contact_partner_active"),
            models.Index(fields=["full_name"], name="contact_full_name"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"], condition=~Q(external_id=""), name="contact_unique_external_id"
            ),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return f"{self.honorific} {self.full_name}".strip()

    def get_absolute_url(self):
        return reverse("partners:contact-detail", args=[self.pk])


class Agreement(RecordModel):
    class Kind(models.TextChoices):
        MOU = "mou", "Memorandum of understanding"
        SISTER_CITY = "sister_city", "Sister-city agreement"
        FRIENDSHIP_CITY = "friendship_city", "Friendship-city agreement"
        LETTER_OF_INTENT = "letter_of_intent", "Letter of intent"
        NETWORK_MEMBERSHIP = "network_membership", "Network membership"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_FORCE = "in_force", "In force"
        EXPIRED = "expired", "Expired"
        TERMINATED = "terminated", "Terminated"

    title = models.CharField(max_length=NAME_MAX)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    partners = models.ManyToManyField(Partner, related_name="agreements")
    signed_on = models.DateField(null=True, blank=True, validators=[dates.validate_date])
    expires_on = models.DateField(null=True, blank=True, validators=[dates.validate_date], help_text="Expiry or renewal date.")
    notice_by = models.DateField(
        null=True,
        blank=True,
        validators=[dates.validate_date],
        help_text="Last day to give notice of renewal or termination.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    summary = models.TextField(max_length=20_000, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_agreements",
        help_text="Reminded 90 and 30 days before the expiry and notice dates.",
    )

    history = HistoricalRecords(m2m_fields=[partners])

    class Meta:
        ordering = ["-signed_on", "title", "id"]
        indexes = [
            models.Index(fields=["expires_on"], name="agreement_expires_on"),
            models.Index(fields=["notice_by"], name="agreement_notice_by"),
            models.Index(fields=["status", "kind"], name="agreement_status_kind"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(signed_on__isnull=True) | Q(expires_on__gte=F("signed_on")),
                name="agreement_expires_after_signed",
            ),
        ]

    def __str__(self):
        return self.title

    def clean(self):
        if self.signed_on and self.expires_on and self.expires_on < self.signed_on:
            raise ValidationError({"expires_on": "An agreement cannot expire before it is signed."})

    def get_absolute_url(self):
        return reverse("partners:agreement-detail", args=[self.pk])
