from django import forms

from engagements.models import Engagement
from partners.forms import PARTNER_LOOKUP, LookupSelect, PartnerChoiceField
from partners.models import Partner


class AssignForm(forms.Form):
    """Triage: the partner a message belongs to, and who may read the engagement it becomes."""

    partner = PartnerChoiceField(queryset=Partner.objects.all(), widget=LookupSelect(PARTNER_LOOKUP),
                                 help_text="The partner this letter is with; its contacts among the addresses are named too.")
    confidentiality = forms.ChoiceField(choices=Engagement.Confidentiality.choices)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            from accounts.access import partners_for

            self.fields["partner"].queryset = partners_for(user)
