"""Serializers: the contract's field names and representations, and the
shape of input. Rules that span fields (dates in order, attendees from the
partners present, done needs a completion date) belong to the services,
which the views call with `validated_data`; their ValidationErrors become
400s with the same field keys.
"""

from django.contrib.auth import get_user_model
from django.db import models
from rest_framework import serializers

from engagements.models import Commitment, Engagement, Gift, TradeMission
from engagements.selectors import engagements_for
from partners.models import Agreement, Contact, Partner, Topic

from .fields import (
    BoundedDateTimeField,
    CountryCodeField,
    IdField,
    KeyField,
    OfficeDateTimeField,
    VisibleIdField,
    prohibit_surrogates,
)

User = get_user_model()
ACTIVE_USERS = User.objects.filter(is_active=True)


def username_field(**kwargs):
    return KeyField("username", queryset=ACTIVE_USERS, **kwargs)


class CRMSerializer(serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateTimeField: OfficeDateTimeField,
    }
    # Every writable text field refuses what PostgreSQL cannot store. (A comment: the
    # serializers' docstrings are the schema's descriptions of the records.)

    def get_fields(self):
        fields = super().get_fields()
        for field in fields.values():
            if isinstance(field, serializers.CharField) and not field.read_only:
                field.validators.append(prohibit_surrogates)
        return fields


class TopicSerializer(CRMSerializer):
    """A subject the office works on; `slug` names it in partners and engagements."""

    class Meta:
        model = Topic
        fields = ["id", "name", "slug"]


class PartnerSerializer(CRMSerializer):
    """A body the office works with: a government, a city, a consulate, an organisation, a company…"""

    country = CountryCodeField(
        allow_blank=True, required=False, help_text="ISO 3166-1 alpha-2 code; empty for international bodies."
    )
    parent = IdField(
        queryset=Partner.objects.all(), allow_null=True, required=False, help_text="Id of the body it belongs to."
    )
    topics = KeyField("slug", queryset=Topic.objects.all(), many=True, required=False, help_text="Topic slugs.")
    owner = username_field(allow_null=True, required=False, help_text="Username of the officer in charge.")
    last_engagement_at = OfficeDateTimeField(
        read_only=True, allow_null=True, help_text="Start of the latest held engagement you may see."
    )
    open_commitments = serializers.IntegerField(
        read_only=True, help_text="Open or in-progress commitments you may see."
    )
    priority = serializers.ChoiceField(choices=Partner.Priority.choices, required=False, help_text="1 = highest.")

    class Meta:
        model = Partner
        fields = [
            "id", "name", "kind", "country", "city", "parent", "website", "description", "topics", "priority",
            "owner", "status", "last_engagement_at", "open_commitments", "created_at", "updated_at",
        ]  # fmt: skip


class ContactSerializer(CRMSerializer):
    """A person at a partner."""

    partner = IdField(queryset=Partner.objects.all())

    class Meta:
        model = Contact
        fields = [
            "id", "partner", "full_name", "honorific", "form_of_address", "title", "email", "phone", "languages",
            "protocol_notes", "is_active", "created_at", "updated_at",
        ]  # fmt: skip


class AgreementSerializer(CRMSerializer):
    """An agreement with one or more partners (at least one)."""

    partners = IdField(
        queryset=Partner.objects.all(), many=True, allow_empty=False, help_text="Partner ids: at least one."
    )
    owner = username_field(allow_null=True, required=False, help_text="Username reminded before expiry and notice.")

    class Meta:
        model = Agreement
        fields = [
            "id", "title", "kind", "partners", "signed_on", "expires_on", "notice_by", "status", "summary", "owner",
            "created_at", "updated_at",
        ]  # fmt: skip


class TradeMissionSerializer(CRMSerializer):
    """A delegation abroad (outbound) or hosted (inbound)."""

    countries = serializers.ListField(
        child=CountryCodeField(), required=False, max_length=300, help_text="ISO 3166-1 alpha-2 codes."
    )
    delegates = IdField(queryset=Contact.objects.all(), many=True, required=False, help_text="Contact ids.")
    partners = IdField(queryset=Partner.objects.all(), many=True, required=False, help_text="Partner ids.")
    owner = username_field(allow_null=True, required=False, help_text="Username of the officer in charge.")

    class Meta:
        model = TradeMission
        fields = [
            "id", "name", "direction", "countries", "cities", "start_date", "end_date", "lead", "owner",
            "objectives", "delegates", "partners", "outcomes", "status", "created_at", "updated_at",
        ]  # fmt: skip

    def validate_countries(self, value):
        return list(dict.fromkeys(value))


class EngagementSerializer(CRMSerializer):
    """A meeting, call, visit, forum or piece of correspondence with partners."""

    starts_at = BoundedDateTimeField(help_text="ISO 8601; without an offset it is read in the office's time zone.")
    ends_at = BoundedDateTimeField(allow_null=True, required=False, help_text="ISO 8601, after `starts_at`.")
    partners = IdField(queryset=Partner.objects.all(), many=True, required=False, help_text="Partner ids.")
    contacts = IdField(
        queryset=Contact.objects.all(), many=True, required=False, help_text="Contacts of the partners present."
    )
    staff = username_field(
        many=True, required=False, help_text="Usernames of our people who took part (they see it when restricted)."
    )
    topics = KeyField("slug", queryset=Topic.objects.all(), many=True, required=False, help_text="Topic slugs.")
    trade_mission = IdField(
        queryset=TradeMission.objects.all(), allow_null=True, required=False, help_text="Id of the mission it was part of."
    )
    owner = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Username of who logged it, reminded of the follow-up; null once that account is deleted.",
    )

    class Meta:
        model = Engagement
        fields = [
            "id", "title", "kind", "status", "starts_at", "ends_at", "location", "is_virtual", "partners",
            "contacts", "staff", "city_officials", "topics", "trade_mission", "summary", "outcomes",
            "confidentiality", "follow_up_by", "owner", "created_at", "updated_at", "venue_timezone", "ical_uid",
        ]  # fmt: skip
        read_only_fields = ["ical_uid"]
        extra_kwargs = {
            "ical_uid": {
                "help_text": "UID of the calendar invitation it was planned from (.ics, by mail or upload), or empty; "
                "read-only: set by the invitation, which later updates or cancels it by this UID."
            },
            "venue_timezone": {
                "help_text": "IANA time zone of the venue (e.g. Europe/Rome), or empty for the office's; "
                "times stay ISO 8601 instants, this only says which local clock to show beside the office's."
            }
        }


class CommitmentSerializer(CRMSerializer):
    """A promise made in an engagement or a mission, by us, the partner or both."""

    partner = IdField(queryset=Partner.objects.all(), allow_null=True, required=False)
    engagement = VisibleIdField(
        visible=engagements_for, queryset=Engagement.objects.all(), allow_null=True, required=False
    )
    trade_mission = IdField(queryset=TradeMission.objects.all(), allow_null=True, required=False)
    owner = username_field(
        allow_null=True, required=False, help_text="Username reminded when it falls due; defaults to you."
    )
    priority = serializers.ChoiceField(choices=Partner.Priority.choices, required=False, help_text="1 = highest.")

    class Meta:
        model = Commitment
        fields = [
            "id", "description", "made_by", "partner", "engagement", "trade_mission", "owner", "due_date", "status",
            "completed_on", "priority", "created_at", "updated_at",
        ]  # fmt: skip


class GiftSerializer(CRMSerializer):
    """A gift received or given by the city in an official exchange."""

    engagement = VisibleIdField(
        visible=engagements_for, queryset=Engagement.objects.all(), allow_null=True, required=False
    )
    partner = IdField(queryset=Partner.objects.all(), allow_null=True, required=False)
    estimated_value = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, allow_null=True, required=False
    )

    class Meta:
        model = Gift
        fields = [
            "id", "engagement", "direction", "exchanged_on", "giver", "recipient", "partner", "description",
            "estimated_value", "currency", "disposition", "created_at", "updated_at",
        ]  # fmt: skip
