from django import forms

from .models import Profile


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["digest_opt_out", "reminder_lead_days"]
        widgets = {"reminder_lead_days": forms.NumberInput(attrs={"min": 1, "max": 60})}


class TokenForm(forms.Form):
    """A 6-digit code from an authenticator app ("123 456" as the app shows it is fine)."""

    token = forms.CharField(
        label="6-digit code",
        max_length=20,
        error_messages={
            "required": "Enter the 6-digit code from your authenticator app.",
            "max_length": "The code is 6 digits, as your authenticator app shows it.",
        },
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 7}),
    )

    def clean_token(self):
        token = self.cleaned_data["token"].replace(" ", "")
        if not (len(token) == 6 and token.isascii() and token.isdigit()):
            raise forms.ValidationError("The code is 6 digits, as your authenticator app shows it.")
        return token
