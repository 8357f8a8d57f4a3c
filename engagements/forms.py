"""Forms for engagements (quick logging and edit), trade missions and commitments."""

import datetime as dt
import zoneinfo

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.fields import BaseTemporalField
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from diplomacy_crm import dates
from diplomacy_crm.forms import RecordFormMixin
from diplomacy_crm.text import fold
from diplomacy_crm.widgets import PickerSelectMultiple
from partners.forms import (
    PARTNER_LOOKUP,
    LookupSelectMultiple,
    PartnerChoiceField,
    PartnerMultipleChoiceField,
    LookupSelect,
    UserChoiceField,
    UserMultipleChoiceField,
    active_users,
    group_countries,
)
from partners.models import Contact, Partner, Topic

from .models import Commitment, Engagement, TradeMission, follow_up_problem

CONTACT_LOOKUP = reverse_lazy("partners:contact-lookup")
MISSION_LOOKUP = reverse_lazy("engagements:mission-lookup")
NO_DUE_DATE = "Give a due date, or tick “No due date”."
DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def zone_choices():
    office = settings.TIME_ZONE
    others = sorted(z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    return [(office, f"{office} (office)")] + [(z, z.replace("_", " ")) for z in others if z != office] + [("UTC", "UTC")]


def venue_zone_choices():
    """The venue's zone: empty (the office's clock) or any zone of `zone_choices`."""
    return [("", f"Same as the office ({settings.TIME_ZONE})")] + [
        (key, label) for key, label in zone_choices() if key != settings.TIME_ZONE
    ]


def mission_label(mission) -> str:
    """A mission as pickers show it (inline and from engagements.lookup_views): its name and when it left."""
    return f"{mission.name} ({mission.start_date:%b %Y})" if mission.start_date else mission.name


class MissionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return mission_label(obj)


class WallClockDateTimeField(forms.DateTimeField):
    """A date and time as typed (naive); the form attaches the chosen time zone in clean()."""

    widget = forms.DateTimeInput(
        attrs={"type": "datetime-local", "min": dates.DATETIME_INPUT_MIN, "max": dates.DATETIME_INPUT_MAX},
        format=DATETIME_LOCAL,
    )
    input_formats = [DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            return timezone.make_naive(value) if timezone.is_aware(value) else value
        value = str(value).strip()
        try:
            result = parse_datetime(value)
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        if result is None:
            result = BaseTemporalField.to_python(self, value)
        if not dates.year_in_range(result):
            raise ValidationError(dates.OUT_OF_RANGE, code="invalid")
        return timezone.make_naive(result) if timezone.is_aware(result) else result


def _attach_zone(naive: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """`naive` read as wall-clock time in `zone`; a time skipped by a clock change is refused."""
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise ValidationError(f"{naive:%Y-%m-%d %H:%M} does not exist in {zone.key} (the clocks changed then).")
    return aware


class ContactMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        label = f"{obj.display_name} — {obj.partner.name}"
        return label if obj.is_active else f"{label} (no longer in post)"


class EngagementForm(RecordFormMixin, forms.ModelForm):
    """Log or edit an engagement. Times are typed in a chosen zone (the office's by default)."""

    starts_at = WallClockDateTimeField(label="Starts")
    ends_at = WallClockDateTimeField(label="Ends", required=False)
    time_zone = forms.ChoiceField(label="Time zone of these times", choices=zone_choices)
    partners = PartnerMultipleChoiceField(
        queryset=Partner.objects.all(),
        widget=LookupSelectMultiple(PARTNER_LOOKUP, attrs={"data-contacts-target": "id_contacts"}),
        help_text="Type a few letters of the name; pick one or more.",
    )
    contacts = ContactMultipleChoiceField(
        queryset=Contact.objects.select_related("partner"),
        required=False,
        label="Their attendees",
        widget=LookupSelectMultiple(CONTACT_LOOKUP, attrs={"data-partner-source": "id_partners"}),
        help_text="People of the partners above who took part.",
    )
    staff = UserMultipleChoiceField(
        queryset=active_users(),
        required=False,
        label="Our staff present",
        widget=PickerSelectMultiple,
        help_text="They can see the meeting even when it is restricted.",
    )
    topics = forms.ModelMultipleChoiceField(queryset=Topic.objects.all(), required=False, widget=forms.CheckboxSelectMultiple)
    # Every mission inline up to partners.forms.INLINE_CHOICES_MAX, beyond that found by typing (the lookup).
    trade_mission = MissionChoiceField(queryset=TradeMission.objects.all(), required=False,
                                       widget=LookupSelect(MISSION_LOOKUP))
    venue_timezone = forms.ChoiceField(
        label="Venue's time zone",
        choices=venue_zone_choices,
        required=False,
        help_text="For a meeting or call with people abroad: their local time is then shown next to the office's.",
    )

    class Meta:
        model = Engagement
        fields = [
            "title", "kind", "status", "starts_at", "ends_at", "location", "is_virtual", "partners", "contacts",
            "staff", "city_officials", "topics", "trade_mission", "summary", "outcomes", "confidentiality",
            "follow_up_by", "venue_timezone",
        ]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 5}),
            "outcomes": forms.Textarea(attrs={"rows": 3}),
            "follow_up_by": dates.date_input(),
        }
        labels = {
            "city_officials": "Officials on our side (text)",
            "follow_up_by": "Follow up by",
            "is_virtual": "Held online or by phone",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].initial = settings.TIME_ZONE
        for name in ("starts_at", "ends_at"):
            value = self.initial.get(name)
            if isinstance(value, dt.datetime) and timezone.is_aware(value):
                # Shown as office wall-clock time, matching the zone's initial choice.
                self.initial[name] = timezone.localtime(value).replace(tzinfo=None)

    def clean(self):
        data = super().clean()
        try:
            zone = zoneinfo.ZoneInfo(data.get("time_zone") or settings.TIME_ZONE)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.add_error("time_zone", "Choose a time zone from the list.")
            return data
        for name in ("starts_at", "ends_at"):
            if isinstance(data.get(name), dt.datetime) and data[name].tzinfo is None:
                if self._unchanged_time(name, data[name], zone):
                    data[name] = getattr(self.instance, name)
                    continue
                try:
                    data[name] = _attach_zone(data[name], zone)
                except ValidationError as exc:
                    self.add_error(name, exc)
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", "An engagement must end after it starts.")
        if problem := follow_up_problem(data.get("starts_at"), data.get("follow_up_by")):
            self.add_error("follow_up_by", problem)
        return data

    # Folded under "More details" (the common case needs the rest only), unless one of them is wrong.
    MORE_FIELDS = (
        "status", "ends_at", "time_zone", "location", "is_virtual", "contacts", "staff", "city_officials",
        "outcomes", "topics", "confidentiality", "trade_mission",
    )

    @property
    def more_open(self) -> bool:
        return self.is_bound and any(name in self.errors for name in self.MORE_FIELDS)

    def _unchanged_time(self, name: str, typed: dt.datetime, zone) -> bool:
        """The time sent back as shown (to the minute, in the office zone): keep the stored instant.

        Otherwise an edit of anything else would round the time to the minute
        and, for an 1876 record, move it by the seconds of that year's local
        mean time offset.
        """
        stored = getattr(self.instance, name, None) if self.instance.pk else None
        if stored is None or zone.key != settings.TIME_ZONE:
            return False
        return typed == timezone.localtime(stored).replace(tzinfo=None, second=0, microsecond=0)

    def _post_clean(self):
        # Model validation runs in the service (engagement_create/update); the
        # aware datetimes are only ready after clean().
        pass

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("time_zone", None)
        return data


class InlineCommitmentForm(forms.Form):
    """One promise made in the meeting; a blank row is skipped."""

    description = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 2}), label="What was promised")
    made_by = forms.ChoiceField(choices=Commitment.MadeBy.choices, initial=Commitment.MadeBy.CITY, label="Made by")
    partner = PartnerChoiceField(
        queryset=Partner.objects.all(),
        required=False,
        widget=LookupSelect(PARTNER_LOOKUP),
        help_text="Needed when the partner made it; with one partner present it is filled in.",
    )
    owner = UserChoiceField(queryset=active_users(), required=False, label="Owner on our side")
    due_date = forms.DateField(
        required=False, widget=dates.date_input(), label="Due", validators=[dates.validate_date]
    )
    no_due_date = forms.BooleanField(required=False, label="No due date")
    priority = forms.TypedChoiceField(choices=Partner.Priority.choices, coerce=int, initial=Partner.Priority.MEDIUM)

    # A row is blank, and skipped, while these are empty: the other fields have defaults.
    CONTENT_FIELDS = ("description", "due_date", "partner")
    # Folded under "Who and priority" unless one of them is wrong.
    MORE_FIELDS = ("made_by", "partner", "owner", "priority")

    def __init__(self, *args, owner=None, **kwargs):
        super().__init__(*args, **kwargs)
        if owner is not None:
            self.fields["owner"].initial = owner.pk

    def has_changed(self):
        return any(name in self.changed_data for name in self.CONTENT_FIELDS)

    def clean(self):
        data = super().clean()
        if data.get("description") and not data.get("due_date") and not data.get("no_due_date") and "due_date" not in self.errors:
            self.add_error("due_date", NO_DUE_DATE)
        return data

    def service_data(self) -> dict:
        return dict(self.cleaned_data)

    @property
    def more_open(self) -> bool:
        return any(name in self.errors for name in self.MORE_FIELDS)


class BaseCommitmentFormSet(forms.BaseFormSet):
    row_noun = "Commitment"  # in the error summary: "Commitment 2: Due: …"

    def filled_forms(self) -> list:
        """Rows the user filled in (blank rows, left at their defaults, are ignored)."""
        return [f for f in self.forms if f.has_changed() and f.cleaned_data]


# No blank row by default: rows are added on demand ("Add a commitment", or ?commitments=N without JavaScript).
CommitmentFormSet = forms.formset_factory(
    InlineCommitmentForm, formset=BaseCommitmentFormSet, extra=0, max_num=20, validate_max=True, absolute_max=20
)
COMMITMENT_ROWS_MAX = 20


class NewContactForm(forms.ModelForm):
    """A person not in the CRM yet, added on the meeting form: created only when the meeting is saved.

    The contact fields are the contact form's (same model validation: a bad name
    or email is an error here, nothing written); `partner` is one of the
    meeting's partners ("new" for the partner added inline, blank for the only one).
    """

    partner = forms.CharField(required=False, max_length=20, label="Partner they work for")

    class Meta:
        model = Contact
        fields = ["honorific", "full_name", "title", "email"]
        # The hint goes in the label: a grey hint on the card's grey is too faint to read (axe, colour contrast).
        labels = {"honorific": "Honorific (H.E., Dr., Mayor …)"}
        help_texts = {"honorific": ""}

    # A row is blank, and skipped, while these are empty (the partner is preset by the page's script).
    CONTENT_FIELDS = ("honorific", "full_name", "title", "email")

    def has_changed(self):
        return any(name in self.changed_data for name in self.CONTENT_FIELDS)

    @property
    def pending(self) -> bool:
        """Filled in and accepted: the page says they will be added with the meeting."""
        return self.is_bound and self.has_changed() and not self.errors

    def clean_partner(self):
        value = self.cleaned_data["partner"].strip()
        if value and value != "new" and not value.isdigit():
            raise ValidationError("Choose one of the meeting's partners.")
        return value


class BaseNewContactFormSet(forms.BaseFormSet):
    row_noun = "New attendee"

    def clean(self):
        # The same person twice in one form (two "Add …" for one name) would be two contacts.
        seen = set()
        for row in self.filled_forms():
            key = (" ".join(fold(row.cleaned_data.get("full_name")).split()), row.cleaned_data.get("partner", ""))
            if key[0] and key in seen:
                row.add_error("full_name", "Already added above.")
            seen.add(key)

    def filled_forms(self) -> list:
        return [f for f in self.forms if f.has_changed() and f.cleaned_data]

    def service_data(self, partners) -> list[dict] | None:
        """The rows as engagement_create's `new_contacts`, their partner resolved among `partners`.

        None (and an error on the row) when a row names a partner the meeting does not have.
        """
        by_id = {str(p.pk): p for p in partners}
        rows, ok = [], True
        for row in self.filled_forms():
            data = dict(row.cleaned_data)
            choice = data.pop("partner", "")
            if choice and choice != "new" and choice not in by_id:
                row.add_error("partner", "Choose one of the meeting's partners (add their partner above first).")
                ok = False
            rows.append({**data, "partner": by_id.get(choice) or choice or None})
        return rows if ok else None


# One blank row (the form works without JavaScript); "Add another person" and the attendee picker's "Add …" add more.
NewContactFormSet = forms.formset_factory(
    NewContactForm, formset=BaseNewContactFormSet, extra=1, max_num=20, validate_max=True, absolute_max=20
)


class TradeMissionForm(RecordFormMixin, forms.ModelForm):
    partners = PartnerMultipleChoiceField(queryset=Partner.objects.all(), required=False, widget=LookupSelectMultiple(PARTNER_LOOKUP))
    delegates = ContactMultipleChoiceField(
        queryset=Contact.objects.select_related("partner"),
        required=False,
        widget=LookupSelectMultiple(CONTACT_LOOKUP),
        help_text="Type a name to search all contacts.",
    )
    owner = UserChoiceField(queryset=active_users(), required=False)

    class Meta:
        model = TradeMission
        fields = [
            "name", "direction", "status", "countries", "cities", "start_date", "end_date", "lead", "owner",
            "partners", "delegates", "objectives", "outcomes",
        ]
        widgets = {
            "start_date": dates.date_input(),
            "end_date": dates.date_input(),
            "objectives": forms.Textarea(attrs={"rows": 4}),
            "outcomes": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["countries"].widget.attrs["data-typeahead"] = ""
        group_countries(self.fields["countries"], blank=False)


class CommitmentForm(RecordFormMixin, forms.ModelForm):
    partner = PartnerChoiceField(queryset=Partner.objects.all(), required=False, widget=LookupSelect(PARTNER_LOOKUP))
    owner = UserChoiceField(queryset=active_users(), required=False, help_text="Reminders go to them.")
    engagement = forms.ModelChoiceField(queryset=Engagement.objects.none(), required=False, widget=forms.HiddenInput)
    trade_mission = MissionChoiceField(queryset=TradeMission.objects.all(), required=False,
                                       widget=LookupSelect(MISSION_LOOKUP))
    # A due date, or the explicit choice of none (as in the meeting form): a date left out by mistake
    # would never be reminded of. Ticked already when editing a commitment that has no date.
    no_due_date = forms.BooleanField(required=False, label="No due date")

    class Meta:
        model = Commitment
        fields = [
            "description", "made_by", "partner", "owner", "due_date", "status", "completed_on", "priority",
            "engagement", "trade_mission",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "due_date": dates.date_input(),
            "completed_on": dates.date_input(),
        }

    def __init__(self, *args, engagements=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Only engagements the user may see can be linked (a restricted one stays hidden).
        if engagements is not None:
            self.fields["engagement"].queryset = engagements
        if self.instance.pk is not None and self.instance.due_date is None:
            self.fields["no_due_date"].initial = True

    def clean(self):
        data = super().clean()
        if not data.get("due_date") and not data.get("no_due_date") and "due_date" not in self.errors:
            self.add_error("due_date", NO_DUE_DATE)
        return data

    def _post_clean(self):
        # The service validates the model (and fills completed_on when done).
        pass


class InvitationUploadForm(forms.Form):
    """An .ics invitation to plan (engagements.invitations), and the confidentiality of what it creates."""

    file = forms.FileField(
        label="Invitation (.ics)",
        help_text="The calendar file attached to the invitation email (invite.ics). Up to 1 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".ics,text/calendar"}),
    )
    confidentiality = forms.ChoiceField(
        choices=Engagement.Confidentiality.choices,
        initial=Engagement.Confidentiality.INTERNAL,
        help_text="Of a new engagement; an update keeps the engagement's.",
    )

    def clean_file(self):
        from .invitations import max_bytes

        upload = self.cleaned_data["file"]
        if upload.size > max_bytes():
            raise ValidationError(f"The file is too large for an invitation (more than {max_bytes() // 1024} KB).")
        return upload
