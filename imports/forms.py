"""The upload form and the column-mapping form of the import page."""

from django import forms

from .importer import FIELDS, KINDS
from .services import max_upload_bytes

KIND_CHOICES = [(k, k.capitalize() + (" (with commitments)" if k == "engagements" else "")) for k in KINDS]


class UploadForm(forms.Form):
    kind = forms.ChoiceField(choices=KIND_CHOICES, label="What the file holds")
    file = forms.FileField(
        label="CSV or XLSX file",
        help_text="Up to 10 MB. The first row holds the column headers; the first sheet of a workbook is read.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,.xlsx"}),
    )

    def __init__(self, *args, allowed_kinds=KINDS, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [c for c in KIND_CHOICES if c[0] in allowed_kinds]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = max_upload_bytes()
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {upload.size / 1_048_576:.1f} MB; at most {limit // 1_048_576} MB can be imported. "
                "Split it into smaller files."
            )
        return upload


class MappingForm(forms.Form):
    """One select (which column) and one text box (a fixed value, or a template like "{A} {B}") per field."""

    def __init__(self, *args, kind: str, headers: list[str], mapping: dict, defaults: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        header_choices = [("", "— not imported —"), *((h, h) for h in headers)]
        self.rows = []
        for f in FIELDS[kind]:
            spec = mapping.get(f.name, "")
            is_template = "{" in spec
            self.fields[f"col_{f.name}"] = forms.ChoiceField(
                choices=header_choices, required=False, label=f.label,
                initial="" if is_template else spec,
            )
            self.fields[f"val_{f.name}"] = forms.CharField(
                required=False, max_length=500, label=f"{f.label}: fixed value or template",
                initial=spec if is_template else defaults.get(f.name, ""),
            )
            self.rows.append((f, f"col_{f.name}", f"val_{f.name}"))

    def bound_rows(self):
        return [(f, self[col], self[val]) for f, col, val in self.rows]

    def mapping_and_defaults(self) -> tuple[dict, dict]:
        mapping, defaults = {}, {}
        for f, col, val in self.rows:
            column = self.cleaned_data.get(col) or ""
            value = (self.cleaned_data.get(val) or "").strip()
            if "{" in value:
                mapping[f.name] = value
            else:
                if column:
                    mapping[f.name] = column
                if value:
                    defaults[f.name] = value
        return mapping, defaults
