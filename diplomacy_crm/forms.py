"""What every record form carries besides its fields: the version it shows, or a one-time token."""

import uuid

from django import forms


class RecordFormMixin:
    """Hidden state for a ModelForm of a core record (put it first among the bases).

    Editing an existing record: `version`, the version the page showed. The
    services pass it on to save_record, which refuses the save (EditConflict)
    when the record has moved on since. A form posted without it (a script)
    saves as before.

    Creating one: `submit_token`, a fresh UUID per page, claimed with the new
    record (diplomacy_crm.services.create_once), so a second POST of the same
    page opens the record the first one made. It is taken out of
    cleaned_data (see `submit_token_value`).

    Templates render both through includes/form_state.html.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        if instance.pk is not None and hasattr(instance, "version"):
            self.fields["version"] = forms.IntegerField(
                widget=forms.HiddenInput, required=False, min_value=1, initial=instance.version
            )
        else:
            # Any text is accepted: one that is not a UUID (tampered) is no token at all.
            self.fields["submit_token"] = forms.CharField(
                widget=forms.HiddenInput, required=False, max_length=64, initial=uuid.uuid4
            )
        self.submit_token_value = None

    def clean(self):
        data = super().clean()
        self.submit_token_value = data.pop("submit_token", None)
        return data

    def show_version(self, version: int) -> None:
        """Keep everything the user typed, but on top of `version` (after an edit conflict)."""
        self.data = self.data.copy()
        self.data[self.add_prefix("version")] = str(version)
