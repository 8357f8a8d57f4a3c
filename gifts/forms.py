"""The gift form (gifts register): one gift given or received, optionally at an engagement."""

from django import forms

from diplomacy_crm import dates
from diplomacy_crm.forms import RecordFormMixin
from engagements.models import Engagement, Gift, currency_code
from partners.forms import PARTNER_LOOKUP, LookupSelect, PartnerChoiceField
from partners.models import Partner


class GiftForm(RecordFormMixin, forms.ModelForm):
    # Hidden: set from ?engagement=<id> or kept on edit; only engagements the user may see are accepted.
    engagement = forms.ModelChoiceField(queryset=Engagement.objects.none(), required=False, widget=forms.HiddenInput)
    partner = PartnerChoiceField(
        queryset=Partner.objects.all(), required=False, widget=LookupSelect(PARTNER_LOOKUP),
        help_text="The partner on the other side. Type to search.",
    )
    currency = forms.CharField(max_length=3, initial="USD", help_text="ISO 4217 code, e.g. USD, EUR, JPY.")

    class Meta:
        model = Gift
        fields = [
            "direction", "exchanged_on", "giver", "recipient", "partner", "description",
            "estimated_value", "currency", "disposition", "engagement",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "exchanged_on": dates.date_input(),
            "estimated_value": forms.NumberInput(attrs={"min": "0", "step": "0.01"}),
        }
        help_texts = {
            "giver": "Who gave it, e.g. “H.E. the Ambassador of Japan” or “The Mayor”.",
            "recipient": "Who received it.",
            "estimated_value": "Your best estimate; leave empty when unknown.",
        }

    def __init__(self, *args, engagements=None, **kwargs):
        super().__init__(*args, **kwargs)
        if engagements is not None:
            self.fields["engagement"].queryset = engagements

    def clean_currency(self):
        # Typed in lower case is fine on the form; the model's validator then decides.
        code = (self.cleaned_data.get("currency") or "").strip().upper()
        currency_code(code)
        return code

    def _post_clean(self):
        # The service validates the model.
        pass


class GiftReportForm(forms.Form):
    """The disclosure period: both dates inclusive."""

    exchanged_after = forms.DateField(label="From", widget=dates.date_input(), validators=[dates.validate_date])
    exchanged_before = forms.DateField(label="To", widget=dates.date_input(), validators=[dates.validate_date])

    def clean(self):
        data = super().clean()
        start, end = data.get("exchanged_after"), data.get("exchanged_before")
        if start and end and end < start:
            raise forms.ValidationError("The period must end on or after its first day.")
        if start and end and (end - start).days > 3660:
            raise forms.ValidationError("Choose a period of at most ten years.")
        return data
