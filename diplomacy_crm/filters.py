"""Pieces shared by every FilterSet (the HTML lists and the API use the same ones)."""

import django_filters
from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import Q

from .country_codes import country_choices
from .widgets import FastSelect, SharedChoices

SEARCH_MAX = 200


class SearchFilter(django_filters.CharFilter):
    """`q`: every word must appear in one of `fields` (case-insensitive)."""

    def __init__(self, *, fields: list[str], **kwargs):
        self.search_fields = fields
        kwargs.setdefault("label", "Search")
        kwargs.setdefault("max_length", SEARCH_MAX)
        kwargs.setdefault("validators", [ProhibitNullCharactersValidator()])
        super().__init__(method=self.search, **kwargs)

    def search(self, queryset, name, value):
        for word in value.split()[:10]:
            match = Q()
            for field in self.search_fields:
                match |= Q(**{f"{field}__icontains": word})
            queryset = queryset.filter(match)
        return queryset


def country_filter(field_name: str = "country", **kwargs) -> django_filters.ChoiceFilter:
    """An ISO 3166 alpha-2 code (Kosovo XK and the former countries too: diplomacy_crm.country_codes).

    An unknown code is a validation error (400 in the API). The former countries are listed
    last, in a group of their own.

    Its ~250 options render through `FastSelect` (one pass, not one template per option) and
    are shared by every form instance instead of deep-copied per request.
    """
    kwargs.setdefault("widget", FastSelect)
    return django_filters.ChoiceFilter(
        field_name=field_name, choices=SharedChoices(country_choices()), label=kwargs.pop("label", "Country"), **kwargs
    )


# --- Strict booleans -------------------------------------------------------

TRUE_WORDS = frozenset({"true", "1", "yes", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "off"})
ANY_WORDS = frozenset({"", "unknown", "any"})  # "unknown" is what Django's NullBooleanSelect sends


class StrictBooleanSelect(forms.Select):
    """Any / Yes / No, passing the raw value on (NullBooleanSelect turns "maybe" into "any" silently)."""

    def __init__(self, attrs=None):
        super().__init__(attrs, choices=[("", "Any"), ("true", "Yes"), ("false", "No")])

    def format_value(self, value):
        if value is True:
            return ["true"]
        if value is False:
            return ["false"]
        return super().format_value(value)


class StrictNullBooleanField(forms.NullBooleanField):
    widget = StrictBooleanSelect

    def to_python(self, value):
        if value is None or isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in ANY_WORDS:
            return None
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise forms.ValidationError('Use "true" or "false".', code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    """A yes/no filter whose invalid value ("maybe") is a form error (a 400 in the API), not ignored."""

    field_class = StrictNullBooleanField
