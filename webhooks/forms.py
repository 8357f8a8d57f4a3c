from django import forms

from .models import EVENT_TYPE_CHOICES, Endpoint


class EndpointForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        choices=EVENT_TYPE_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None selected: every event.",
    )
    rotate_secret = forms.BooleanField(
        required=False, label="Give it a new secret", help_text="The old secret stops working at once."
    )

    class Meta:
        model = Endpoint
        fields = ["url", "description", "event_types", "is_active", "include_restricted"]
        labels = {"url": "URL", "is_active": "Active", "include_restricted": "Include restricted records"}
