"""Serializer fields for the contract's representations.

Related records are named by a key: an id, a topic slug or a username. An
unknown key, a key of something the user may not see, a negative id or one
beyond the database's range are all the same 400 ("unknown"), so the API
never tells a restricted record from a missing one. Lists of keys are looked
up in one query, however long the list.
"""

import datetime as dt
import re

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models
from django.utils import timezone
from django_countries import countries
from rest_framework import serializers
from rest_framework.relations import MANY_RELATION_KWARGS

from diplomacy_crm import dates

MAX_ID = 2**63 - 1  # PostgreSQL bigint
MAX_KEY_LENGTH = 255
MAX_RELATED = 1000  # ids in one many-to-many list
_MISSING = object()


def storable_text(value) -> bool:
    """Text PostgreSQL can store: no NUL, no unpaired surrogate (JSON "\\ud800")."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def prohibit_surrogates(value):
    """Added to every text field by api.serializers.CRMSerializer (DRF already refuses NUL)."""
    if isinstance(value, str) and "\x00" not in value and not storable_text(value):
        raise ValidationError("Text must be valid Unicode (no unpaired surrogates).", code="surrogate")


class KeyedManyRelatedField(serializers.ManyRelatedField):
    """A list of keys: validated in one query, duplicates dropped, represented sorted."""

    default_error_messages = {
        "too_many": f"Ensure this list has no more than {MAX_RELATED} items.",
    }

    def to_internal_value(self, data):
        if isinstance(data, (str, bytes, dict)) or not hasattr(data, "__iter__"):
            self.fail("not_a_list", input_type=type(data).__name__)
        data = list(data)
        if not self.allow_empty and not data:
            self.fail("empty")
        if len(data) > MAX_RELATED:
            self.fail("too_many")
        child = self.child_relation
        keys = list(dict.fromkeys(child.coerce(item) for item in data))
        found = child.get_queryset().in_bulk(keys, field_name=child.lookup)
        missing = [key for key in keys if key not in found]
        if missing:
            child.fail("does_not_exist", value=", ".join(str(key) for key in missing[:10]))
        return [found[key] for key in keys]

    def get_attribute(self, instance):
        # api.selectors.with_related_keys annotates "<name>_keys" so that a
        # page of rows needs no query per relation.
        joined = getattr(instance, f"{self.source}_keys", _MISSING)
        if joined is not _MISSING:
            return self.child_relation.parse_joined(joined)
        return super().get_attribute(instance)

    def to_representation(self, iterable):
        return sorted(self.child_relation.key_of(value) for value in iterable)


class KeyedRelatedMixin:
    """Shared by the id, slug and username fields below."""

    lookup = "pk"

    @classmethod
    def many_init(cls, *args, **kwargs):
        list_kwargs = {"child_relation": cls(*args, **kwargs)}
        list_kwargs.update({key: value for key, value in kwargs.items() if key in MANY_RELATION_KWARGS})
        return KeyedManyRelatedField(**list_kwargs)

    def to_internal_value(self, data):
        key = self.coerce(data)
        try:
            return self.get_queryset().get(**{self.lookup: key})
        except ObjectDoesNotExist:
            self.fail("does_not_exist", value=key)

    def key_of(self, value):
        return getattr(value, self.lookup) if isinstance(value, models.Model) else value


class IdField(KeyedRelatedMixin, serializers.PrimaryKeyRelatedField):
    """A related record's id (a positive integer)."""

    default_error_messages = {
        "does_not_exist": 'Unknown id "{value}".',
        "incorrect_type": "Expected an id (a positive integer), got {data_type}.",
    }

    def coerce(self, data):
        if isinstance(data, bool) or not isinstance(data, (int, str)):
            self.fail("incorrect_type", data_type=type(data).__name__)
        if isinstance(data, str):
            if not (data.isascii() and data.isdigit()) or len(data) > 19:
                self.fail("incorrect_type", data_type="a string that is not a number")
            data = int(data)
        if not 1 <= data <= MAX_ID:
            self.fail("does_not_exist", value=data)
        return data

    def parse_joined(self, joined):
        return [int(key) for key in joined.split(",")] if joined else []

    def key_of(self, value):
        return value.pk if hasattr(value, "pk") else value


class VisibleIdField(IdField):
    """An id looked up only among the records the requesting user may see.

    `visible` is a selector taking the user (e.g. engagements_for); `queryset`
    stays the model's, for the schema.
    """

    def __init__(self, *, visible, **kwargs):
        self.visible = visible
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.visible(self.context["request"].user)


class KeyField(KeyedRelatedMixin, serializers.SlugRelatedField):
    """A related record named by a unique text key: a topic slug, a username."""

    default_error_messages = {
        "does_not_exist": 'Unknown {slug_name} "{value}".',
        "invalid": "Expected a {slug_name} (text).",
    }

    def __init__(self, slug_field, **kwargs):
        super().__init__(slug_field=slug_field, **kwargs)
        self.lookup = slug_field

    def fail(self, key, **kwargs):
        return super().fail(key, slug_name=self.slug_field, **kwargs)

    def coerce(self, data):
        if not isinstance(data, str) or not data or len(data) > MAX_KEY_LENGTH or not storable_text(data):
            self.fail("invalid")
        return data

    def parse_joined(self, joined):
        return joined.split(",") if joined else []


class CountryCodeField(serializers.ChoiceField):
    """An ISO 3166-1 alpha-2 code, upper case, exactly (no country names); Kosovo (XK) and the former countries (SU, YU, CS, DD, YD, AN: diplomacy_crm.country_codes) too."""

    def __init__(self, **kwargs):
        super().__init__(choices=[(code, name) for code, name in countries], **kwargs)

    def to_representation(self, value):
        return getattr(value, "code", value) or ""


_SECONDS_OFFSET = re.compile(r"[+-]\d\d:\d\d:\d\d(\.\d+)?$")


class OfficeDateTimeField(serializers.DateTimeField):
    """A time as RFC 3339 text in the office's zone; before standard zones (an 1876 visit), in UTC.

    The office's zone in 1876 is local mean time (-07:52:58 in Los Angeles),
    an offset with seconds that RFC 3339 does not allow: such a time is
    written in UTC, the same instant (diplomacy_crm.dates.isoformat).
    """

    def to_representation(self, value):
        text = super().to_representation(value)
        if isinstance(text, str) and isinstance(value, dt.datetime) and _SECONDS_OFFSET.search(text):
            return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        return text


class BoundedDateTimeField(OfficeDateTimeField):
    """ISO 8601 with offset; a time without one is read in TIME_ZONE.

    Years 1800-2199 only (diplomacy_crm.dates): a year-1 or year-9999
    instant overflows Python's datetime when moved between zones (a 500
    otherwise, in DRF's own ambiguity check or in the database adapter).
    The range is checked on input only: a stored value is always shown.
    """

    default_error_messages = {
        "out_of_range": dates.OUT_OF_RANGE,
        "ambiguous": (
            "{value} happens twice in {zone} (the clocks go back then): it is {first} or {second}; add an offset."
        ),
        "nonexistent": (
            "{value} does not exist in {zone} (the clocks go forward then, from {before} to {after}); "
            "add an offset or choose another time."
        ),
    }

    def to_internal_value(self, value):
        self._checking_input = True
        try:
            return super().to_internal_value(value)
        finally:
            self._checking_input = False

    def enforce_timezone(self, value):
        if getattr(self, "_checking_input", False) and not dates.year_in_range(value):
            self.fail("out_of_range")
        if timezone.is_naive(value):
            # A wall-clock time the zone skips (spring forward) or has twice
            # (fall back) is refused: guessing would store the wrong instant.
            problem = wall_clock_problem(value, self.default_timezone())
            if problem is not None:
                self.fail(problem.pop("code"), **problem)
        return super().enforce_timezone(value)


def _offset(value: dt.datetime) -> str:
    """The UTC offset as ISO 8601 writes it: -07:00, +05:30."""
    seconds = int(value.utcoffset().total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def wall_clock_problem(naive: dt.datetime, zone) -> dict | None:
    """None when `naive` names exactly one instant in `zone`; otherwise what is wrong with it.

    {"code": "ambiguous", "first": "-07:00", "second": "-08:00", ...} for a time
    the zone has twice (the repeated hour when clocks go back), or
    {"code": "nonexistent", "before": "-08:00", "after": "-07:00", ...} for one it skips.
    """
    early, late = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
    names = {"value": naive.isoformat(timespec="minutes" if not naive.second else "seconds"), "zone": str(zone)}
    if early.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != naive:
        # zoneinfo gives a skipped time the offset from before the change for fold=0, after it for fold=1.
        return {"code": "nonexistent", "before": _offset(early), "after": _offset(late), **names}
    if early.utcoffset() != late.utcoffset():
        return {"code": "ambiguous", "first": _offset(early), "second": _offset(late), **names}
    return None
