"""FilterSets for engagements, missions, commitments and gifts (HTML lists and API alike)."""

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from diplomacy_crm import dates
from diplomacy_crm.filters import (
    ANY,
    PersonFilter,
    PickerSelect,
    SearchFilter,
    StrictBooleanFilter,
    country_filter,
    date_input,
)
from partners.filters import IdFilter, partner_picker
from partners.models import Topic

from .models import Commitment, Engagement, Gift, TradeMission
from .selectors import engagements_for, missions_for


def mission_picker() -> PickerSelect:
    """The trade-mission filter: the missions the user may see, newest first, by name."""
    return PickerSelect(
        records=lambda user: missions_for(user).order_by("-start_date", "-pk").only("pk", "name", "start_date"),
        label=lambda m: f"{m.name} ({m.start_date:%Y})" if m.start_date else m.name,
    )


def engagement_picker() -> PickerSelect:
    """One engagement, when a link set it (an engagement's commitments); hidden otherwise."""
    return PickerSelect(
        records=lambda user: engagements_for(user).only("pk", "title"),
        label=lambda e: e.title,
        only_chosen=True,
        hide_when_empty=True,
    )


def _sane_instant(value):
    # Far-off instants overflow Python's datetime when converted to UTC for the query.
    if not dates.year_in_range(value):
        raise ValidationError(dates.OUT_OF_RANGE)


class EngagementFilter(django_filters.FilterSet):
    q = SearchFilter(fields=["title", "summary", "outcomes", "location"])
    partner = IdFilter(field_name="partners", label="Partner", widget=partner_picker())
    kind = django_filters.ChoiceFilter(choices=Engagement.Kind.choices)
    status = django_filters.ChoiceFilter(choices=Engagement.Status.choices)
    country = country_filter(method="filter_country", label="Partner country")
    topic = django_filters.ModelChoiceFilter(
        field_name="topics", to_field_name="slug", queryset=Topic.objects.all(), label="Topic", empty_label=ANY
    )
    trade_mission = IdFilter(field_name="trade_mission", label="Trade mission", widget=mission_picker())
    confidentiality = django_filters.ChoiceFilter(choices=Engagement.Confidentiality.choices)
    starts_after = django_filters.IsoDateTimeFilter(
        field_name="starts_at", lookup_expr="gte", label="Starts after", validators=[_sane_instant],
        widget=date_input(),
    )
    starts_before = django_filters.IsoDateTimeFilter(
        field_name="starts_at", lookup_expr="lt", label="Starts before", validators=[_sane_instant],
        widget=date_input(),
    )
    ordering = django_filters.OrderingFilter(
        fields=(("starts_at", "starts_at"), ("title", "title"), ("kind", "kind")),
    )

    class Meta:
        model = Engagement
        fields = ["q", "partner", "kind", "status", "country", "topic", "trade_mission", "confidentiality"]

    def filter_country(self, queryset, name, value):
        # Exists, not a join: an engagement with two partners in one country
        # must still be one row.
        through = Engagement.partners.through
        return queryset.filter(
            Exists(through.objects.filter(engagement_id=OuterRef("pk"), partner__country=value))
        )


class TradeMissionFilter(django_filters.FilterSet):
    q = SearchFilter(fields=["name", "cities", "objectives", "outcomes", "lead"])
    direction = django_filters.ChoiceFilter(choices=TradeMission.Direction.choices)
    country = country_filter(field_name="countries", lookup_expr="contains")
    status = django_filters.ChoiceFilter(choices=TradeMission.Status.choices)
    starts_after = django_filters.DateFilter(
        field_name="start_date", lookup_expr="gte", label="Starts after", widget=date_input(), validators=[dates.validate_date]
    )
    starts_before = django_filters.DateFilter(
        field_name="start_date", lookup_expr="lt", label="Starts before", widget=date_input(), validators=[dates.validate_date]
    )
    ordering = django_filters.OrderingFilter(fields=(("start_date", "start_date"), ("name", "name")))

    class Meta:
        model = TradeMission
        fields = ["q", "direction", "country", "status"]


class CommitmentFilter(django_filters.FilterSet):
    q = SearchFilter(fields=["description", "partner__name"])
    status = django_filters.ChoiceFilter(choices=Commitment.Status.choices)
    made_by = django_filters.ChoiceFilter(choices=Commitment.MadeBy.choices)
    owner = PersonFilter(field_name="owner", label="Owner")
    partner = IdFilter(field_name="partner", label="Partner", widget=partner_picker())
    engagement = IdFilter(field_name="engagement", label="Engagement", widget=engagement_picker())
    trade_mission = IdFilter(field_name="trade_mission", label="Trade mission", widget=mission_picker())
    due_before = django_filters.DateFilter(
        field_name="due_date", lookup_expr="lt", label="Due before", widget=date_input(), validators=[dates.validate_date]
    )
    due_after = django_filters.DateFilter(
        field_name="due_date", lookup_expr="gte", label="Due on or after", widget=date_input(), validators=[dates.validate_date]
    )
    overdue = StrictBooleanFilter(method="filter_overdue", label="Overdue")
    ordering = django_filters.OrderingFilter(
        fields=(("due_date", "due_date"), ("status", "status"), ("priority", "priority")),
    )

    class Meta:
        model = Commitment
        fields = ["q", "status", "made_by", "owner", "partner", "engagement", "trade_mission", "overdue"]

    def filter_overdue(self, queryset, name, value):
        overdue = Q(status__in=Commitment.OPEN_STATUSES, due_date__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class GiftFilter(django_filters.FilterSet):
    q = SearchFilter(fields=["description", "giver", "recipient"])
    direction = django_filters.ChoiceFilter(choices=Gift.Direction.choices)
    disposition = django_filters.ChoiceFilter(choices=Gift.Disposition.choices)
    partner = IdFilter(field_name="partner", label="Partner", widget=partner_picker())
    exchanged_after = django_filters.DateFilter(
        field_name="exchanged_on", lookup_expr="gte", label="From", widget=date_input(), validators=[dates.validate_date]
    )
    exchanged_before = django_filters.DateFilter(
        field_name="exchanged_on", lookup_expr="lte", label="To", widget=date_input(), validators=[dates.validate_date]
    )
    ordering = django_filters.OrderingFilter(fields=(("exchanged_on", "exchanged_on"), ("estimated_value", "value")))

    class Meta:
        model = Gift
        fields = ["q", "direction", "disposition", "partner"]


