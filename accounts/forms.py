from django import forms

from .models import Profile


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["digest_opt_out", "reminder_lead_days"]
        widgets = {"reminder_lead_days": forms.NumberInput(attrs={"min": 1, "max": 60})}
