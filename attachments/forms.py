"""Upload forms: several files at once (a plain <input type=file multiple>), or one file to replace another."""

from django import forms
from django.conf import settings


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A list of uploaded files; at most ATTACHMENT_MAX_FILES. Content checks are the service's (attachments.checks)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("allow_empty_file", True)  # "x.pdf is empty.", named, by attachments.checks
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        files = [f for f in files if f]
        if not files:
            raise forms.ValidationError("Choose at least one file.", code="required")
        limit = settings.ATTACHMENT_MAX_FILES
        if len(files) > limit:
            raise forms.ValidationError(f"{len(files)} files chosen; at most {limit} at once.", code="too_many")
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class UploadForm(forms.Form):
    files = MultipleFileField(
        label="Files",
        help_text="PDF, Word, Excel, OpenDocument, PNG, JPEG, text, CSV or e-mail files; several at once.",
    )


class ReplaceForm(forms.Form):
    file = forms.FileField(label="New file", allow_empty_file=True, help_text="Replaces the file; the old one stays in the history.")
