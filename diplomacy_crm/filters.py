"""Pieces shared by every FilterSet (the HTML lists and the API use the same ones)."""

from collections.abc import Callable

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.validators import ProhibitNullCharactersValidator

from . import dates
from .country_codes import country_choices
from .text import folded_match
from .widgets import FastSelect, SharedChoices

SEARCH_MAX = 200
ANY = "Any"  # the empty choice of every filter (never "---------")
# A record picker without a lookup endpoint lists at most this many records (the newest first);
# with one, it lists only the chosen record and the browser asks the endpoint as the user types.
PICKER_INLINE_MAX = 300


class SearchFilter(django_filters.CharFilter):
    """`q`: every word must appear in one of `fields`, accent- and case-insensitively.

    The folding is diplomacy_crm/text.py's (`crm_fold` in the database), the same
    as the search page's: "Sao Paulo" finds "São Paulo", on the lists and in the API.
    """

    def __init__(self, *, fields: list[str], **kwargs):
        self.search_fields = fields
        kwargs.setdefault("label", "Search")
        kwargs.setdefault("max_length", SEARCH_MAX)
        kwargs.setdefault("validators", [ProhibitNullCharactersValidator()])
        super().__init__(method=self.search, **kwargs)

    def search(self, queryset, name, value):
        return folded_match(queryset, self.search_fields, value, max_words=10)


def date_input() -> forms.DateInput:
    """The browser's date picker, limited to the accepted years; the value travels as YYYY-MM-DD."""
    widget = dates.date_input()
    widget.format = "%Y-%m-%d"
    return widget


class PickerSelect(forms.Select):
    """A type-ahead filter over records: the same picker as the forms' (static/js/picker.js enhances
    `<select data-typeahead>`; its change event applies the filter, static/js/filters.js), a plain
    <select> without JS.

    Its options are set in the view (`prepare_pickers`), never in the template:
    `records(user)` gives the records the user may see, `label(record)` their
    text. With `lookup_url` only the chosen record is rendered and the browser
    asks that endpoint ({"results": [{"id", "text"}]}) as the user types;
    without it, up to PICKER_INLINE_MAX records are listed (`only_chosen`: just the
    chosen one, for records too many to list and without an endpoint). `hide_when_empty`:
    shown only when a value is set (a filter reached by a link, e.g. one
    engagement's commitments).
    """

    lookup_only = True  # materialise_choices() leaves it to prepare_pickers()

    def __init__(self, *, records: Callable, label: Callable = str, lookup_url=None,
                 hide_when_empty: bool = False, only_chosen: bool = False, attrs=None):
        attrs = {"data-typeahead": "", **(attrs or {})}
        if lookup_url is not None:
            attrs["data-lookup-url"] = lookup_url  # may be lazy (reverse_lazy): not evaluated here
        super().__init__(attrs=attrs, choices=[("", ANY)])
        self.records, self.label, self.hide_when_empty = records, label, hide_when_empty
        self.only_chosen = only_chosen or lookup_url is not None

    def prepare(self, user, value) -> None:
        """Fetch the options: one query (the chosen record, or the inline list)."""
        chosen = int(value) if str(value or "").isdigit() and len(str(value)) < 19 else None
        queryset = self.records(user)
        if self.only_chosen:
            rows = list(queryset.filter(pk=chosen)) if chosen else []
        else:
            rows = list(queryset[:PICKER_INLINE_MAX])
            if chosen and all(r.pk != chosen for r in rows):
                rows += list(queryset.filter(pk=chosen))
        self.choices = [("", ANY)] + [(str(r.pk), self.label(r)) for r in rows]


def prepare_pickers(form, user) -> None:
    """Give every PickerSelect of a filter form its options (in the view: templates run no query)."""
    for bound in form:
        widget = bound.field.widget
        if isinstance(widget, PickerSelect):
            widget.prepare(user, bound.value())


def person_name(user) -> str:
    """How a person is shown: their full name, or their username when they have none."""
    return (user.get_full_name() or user.get_username()) if user is not None else ""


class PersonChoiceField(django_filters.fields.ModelChoiceField):
    def label_from_instance(self, obj):
        return person_name(obj)


class PersonFilter(django_filters.ModelChoiceFilter):
    """A user by username (`?owner=marco`), offered by name ("Marco Rossi") in a type-ahead."""

    field_class = PersonChoiceField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("to_field_name", "username")
        kwargs.setdefault(
            "queryset", get_user_model().objects.filter(is_active=True).order_by("first_name", "last_name", "username")
        )
        kwargs.setdefault("empty_label", ANY)
        kwargs.setdefault("widget", forms.Select(attrs={"data-typeahead": ""}))
        super().__init__(*args, **kwargs)


def country_filter(field_name: str = "country", **kwargs) -> django_filters.ChoiceFilter:
    """An ISO 3166 alpha-2 code (Kosovo XK and the former countries too: diplomacy_crm.country_codes).

    An unknown code is a validation error (400 in the API). The former countries are listed
    last, in a group of their own.

    Its ~250 options render through `FastSelect` (one pass, not one template per option) and
    are shared by every form instance instead of deep-copied per request.
    """
    kwargs.setdefault("widget", FastSelect(attrs={"data-typeahead": ""}))
    kwargs.setdefault("empty_label", ANY)
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
