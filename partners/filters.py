"""FilterSets for partners, contacts and agreements: one definition for the HTML lists and the API."""

import django_filters
from django import forms
from django.urls import reverse_lazy

from accounts import access
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

from .models import Agreement, Contact, Partner, Topic


def _partners(user):
    return access.partners_for(user).order_by("name", "pk").only("pk", "name", "country")


def _partner_label(partner) -> str:
    return f"{partner.name} ({partner.country.code})" if partner.country else partner.name


def partner_picker() -> PickerSelect:
    """The partner filter's type-ahead: the partners the user may see, fetched from /partners/lookup/."""
    return PickerSelect(records=_partners, label=_partner_label, lookup_url=reverse_lazy("partners:lookup"))


class IdFilter(django_filters.NumberFilter):
    """A record id: a whole number from 1 to the database's bigint maximum.

    Anything else ("1.5", "-1", 2**63) is a form error (a 400 in the API),
    never an overflow inside the query.
    """

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class PartnerFilter(django_filters.FilterSet):
    q = SearchFilter(fields=["name", "city", "description"])
    kind = django_filters.ChoiceFilter(choices=Partner.Kind.choices)
    country = country_filter()
    topic = django_filters.ModelChoiceFilter(
        field_name="topics", to_field_name="slug", queryset=Topic.objects.all(), label="Topic", empty_label=ANY
    )
    priority = django_filters.ChoiceFilter(choices=Partner.Priority.choices)
    owner = PersonFilter(field_name="owner", label="Owner")
    status = django_filters.ChoiceFilter(choices=Partner.Status.choices)
    ordering = django_filters.OrderingFilter(
        fields=(("name", "name"), ("country", "country"), ("priority", "priority"), ("updated_at", "updated")),
    )

    class Meta:
        model = Partner
        fields = ["q", "kind", "country", "topic", "priority", "owner", "status"]


class ContactFilter(django_filters.FilterSet):
    q = SearchFilter(fields=["full_name", "title", "email", "partner__name"])
    partner = IdFilter(field_name="partner", label="Partner", widget=partner_picker())
    is_active = StrictBooleanFilter(label="In post")
    ordering = django_filters.OrderingFilter(
        fields=(("full_name", "name"), ("partner__name", "partner"), ("updated_at", "updated")),
    )

    class Meta:
        model = Contact
        fields = ["q", "partner", "is_active"]


class AgreementFilter(django_filters.FilterSet):
    q = SearchFilter(fields=["title", "summary"])
    kind = django_filters.ChoiceFilter(choices=Agreement.Kind.choices)
    partner = IdFilter(field_name="partners", label="Partner", widget=partner_picker())
    status = django_filters.ChoiceFilter(choices=Agreement.Status.choices)
    expires_before = django_filters.DateFilter(
        field_name="expires_on", lookup_expr="lt", label="Expires before", widget=date_input(), validators=[dates.validate_date]
    )
    ordering = django_filters.OrderingFilter(
        fields=(("title", "title"), ("signed_on", "signed"), ("expires_on", "expires")),
    )

    class Meta:
        model = Agreement
        fields = ["q", "kind", "partner", "status", "expires_before"]
