"""Forms for partners, contacts and agreements, plus the type-ahead widgets every record form uses."""

from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse_lazy

from diplomacy_crm import dates
from diplomacy_crm.country_codes import country_choices
from diplomacy_crm.forms import RecordFormMixin

from .models import Agreement, Contact, Partner, Topic
from .similarity import similar_partners

User = get_user_model()

# Up to this many choices a type-ahead field renders every option, so it
# also works without JavaScript; above it, only the chosen ones and the
# browser asks the lookup endpoint as the user types.
INLINE_CHOICES_MAX = 300


class LookupSelectMixin:
    """A <select data-typeahead> that static/js/picker.js turns into a type-ahead fed by a JSON lookup endpoint."""

    lookup_only = True  # materialise_choices() leaves these to prepare_lookups()
    inline = False

    def __init__(self, lookup_url, attrs=None, **kwargs):
        attrs = {"data-typeahead": "", "data-lookup-url": lookup_url, **(attrs or {})}
        super().__init__(attrs=attrs, **kwargs)

    def optgroups(self, name, value, attrs=None):
        if self.inline:
            return super().optgroups(name, value, attrs)
        # Only the chosen options: the rest come from the lookup endpoint.
        chosen = [v for v in value if str(v).isdigit()]
        full = self.choices
        iterator_queryset = getattr(full, "queryset", None)
        if iterator_queryset is not None:
            field = full.field
            self.choices = [(str(obj.pk), field.label_from_instance(obj)) for obj in self.chosen_objects]
        try:
            return super().optgroups(name, [str(v) for v in chosen], attrs)
        finally:
            self.choices = full

    chosen_objects: list = []


class LookupSelect(LookupSelectMixin, forms.Select):
    pass


class LookupSelectMultiple(LookupSelectMixin, forms.SelectMultiple):
    pass


def prepare_lookups(form) -> None:
    """Decide, in the view, what each type-ahead renders, so that the template runs no query."""
    for name, field in form.fields.items():
        widget = field.widget
        if not isinstance(widget, LookupSelectMixin):
            continue
        widget.inline = field.queryset.count() <= INLINE_CHOICES_MAX
        if widget.inline:
            field.widget.choices = list(iter(field.choices))  # iter(): no COUNT for a length hint
            continue
        raw = form[name].value()
        values = raw if isinstance(raw, (list, tuple)) else [raw]
        ids = [int(v) for v in values if v not in (None, "") and str(v).isdigit() and len(str(v)) < 19]
        widget.chosen_objects = list(field.queryset.filter(pk__in=ids)) if ids else []


def active_users():
    return User.objects.filter(is_active=True).order_by("first_name", "last_name", "username")


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class UserMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class PartnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.country.code})" if obj.country else obj.name


class PartnerMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.country.code})" if obj.country else obj.name


PARTNER_LOOKUP = reverse_lazy("partners:lookup")


def group_countries(field, *, blank: bool = True) -> None:
    """Current countries first, the former ones (U.S.S.R., Yugoslavia, …) last in a group of their own.

    A new record is not steered to a state that no longer exists, while one
    that names it (an import, an old record) keeps it (diplomacy_crm.country_codes).
    """
    field.choices = ([("", "---------")] if blank else []) + country_choices()


LIKELY_DUPLICATE = (
    "A partner with a similar name is already in the CRM (listed below). Open it, or tick "
    "“Add it anyway” if this is a different partner."
)


class DuplicateCheckMixin:
    """A new partner named like one in the same country, or of the same kind, waits for a confirmation.

    The view calls `no_likely_duplicate(partners)` after `is_valid()`: with a match
    (partners.similarity, the duplicates page's rule) the name gets an error, `similar`
    lists the partners it may be, and the form offers "Add it anyway". Editing is not checked.
    """

    similar: list = []

    def add_duplicate_check(self) -> None:
        self.similar = []
        if self.instance.pk is None:
            self.fields["create_anyway"] = forms.BooleanField(
                required=False, label="Add it anyway: it is a different partner"
            )

    def no_likely_duplicate(self, partners) -> bool:
        """True when the partner may be created: no similar one, or the user confirmed."""
        confirmed = self.cleaned_data.pop("create_anyway", False)  # not a field of the partner
        if "create_anyway" not in self.fields or confirmed:
            return True
        data = self.cleaned_data
        self.similar = similar_partners(
            partners, name=data.get("name", ""), country=data.get("country", ""), kind=data.get("kind", "")
        )
        if not self.similar:
            return True
        self.add_error("name", LIKELY_DUPLICATE)
        return False


class PartnerForm(RecordFormMixin, DuplicateCheckMixin, forms.ModelForm):
    parent = PartnerChoiceField(
        queryset=Partner.objects.all(),
        required=False,
        widget=LookupSelect(PARTNER_LOOKUP),
        help_text="The body this one belongs to, e.g. a ministry's national government.",
    )
    owner = UserChoiceField(queryset=active_users(), required=False, help_text="The officer who looks after this relationship.")
    topics = forms.ModelMultipleChoiceField(
        queryset=Topic.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Partner
        fields = ["name", "kind", "country", "city", "parent", "website", "description", "topics", "priority", "owner", "status"]
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        group_countries(self.fields["country"])
        self.add_duplicate_check()


class QuickPartnerForm(DuplicateCheckMixin, forms.ModelForm):
    """The few fields a staff member fills in to add a missing partner while logging a meeting."""

    prefix = "newpartner"

    class Meta:
        model = Partner
        fields = ["name", "kind", "country", "city"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        group_countries(self.fields["country"])
        self.add_duplicate_check()


class ContactForm(RecordFormMixin, forms.ModelForm):
    partner = PartnerChoiceField(queryset=Partner.objects.all(), widget=LookupSelect(PARTNER_LOOKUP))

    class Meta:
        model = Contact
        fields = [
            "partner", "full_name", "honorific", "form_of_address", "title", "email", "phone",
            "languages", "protocol_notes", "is_active",
        ]
        widgets = {"protocol_notes": forms.Textarea(attrs={"rows": 4})}


class AgreementForm(RecordFormMixin, forms.ModelForm):
    partners = PartnerMultipleChoiceField(queryset=Partner.objects.all(), widget=LookupSelectMultiple(PARTNER_LOOKUP))
    owner = UserChoiceField(
        queryset=active_users(), required=False, help_text="Reminded 90 and 30 days before the expiry and notice dates."
    )

    class Meta:
        model = Agreement
        fields = ["title", "kind", "partners", "status", "signed_on", "expires_on", "notice_by", "summary", "owner"]
        widgets = {
            "signed_on": dates.date_input(),
            "expires_on": dates.date_input(),
            "notice_by": dates.date_input(),
            "summary": forms.Textarea(attrs={"rows": 5}),
        }
