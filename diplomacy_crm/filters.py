"""Pieces shared by every FilterSet (the HTML lists and the API use the same ones)."""

import django_filters
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import Q
from django_countries import countries

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
    """An ISO 3166 alpha-2 code; an unknown code is a validation error (400 in the API)."""
    return django_filters.ChoiceFilter(
        field_name=field_name, choices=list(countries), label=kwargs.pop("label", "Country"), **kwargs
    )


