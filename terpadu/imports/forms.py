"""Forms of the import pages and the BNBA export: input shape only, rules live in services.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from terpadu.imports import layout, services
from terpadu.imports.models import MappingTemplate, Mode
from terpadu.regions.forms import RegionField

FORMAT_CHOICES = [("xlsx", _("Excel (.xlsx)")), ("csv", _("CSV (.csv)"))]
UPLOAD_EXTENSIONS = (".csv", ".xlsx", ".xls", ".txt")
IGNORE = ""  # the select value meaning "do not import this column"


class BnbaExportForm(forms.Form):
    """Which region's BNBA to download (empty = the whole scope) and in which format."""

    wilayah = RegionField(label=_("Wilayah"), required=False)
    format = forms.ChoiceField(
        label=_("Format"), choices=FORMAT_CHOICES, initial="xlsx", widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["wilayah"].limit_to_user(user)


class UploadForm(forms.Form):
    """The file, the region its rows must fall in, and the mode."""

    file = forms.FileField(
        label=_("Berkas (.xlsx, .xls, .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(UPLOAD_EXTENSIONS)}),
    )
    region = RegionField(label=_("Wilayah data"))
    mode = forms.ChoiceField(
        label=_("Mode"), choices=Mode.choices, initial=Mode.PROPOSAL, required=False
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].limit_to_user(user)
        if user.region_id:
            self.fields["region"].initial = user.region
        if not services.can_direct(user):
            self.fields["mode"].choices = [(Mode.PROPOSAL, Mode.PROPOSAL.label)]
            self.fields["mode"].widget = forms.HiddenInput()

    def clean_mode(self) -> str:
        return self.cleaned_data.get("mode") or Mode.PROPOSAL

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(UPLOAD_EXTENSIONS):
            raise forms.ValidationError(
                _("Jenis berkas tidak didukung. Unggah .xlsx, .xls atau .csv.")
            )
        return upload


def column_choices() -> list[tuple[str, Any]]:
    """Options of the mapping selects: ignore, then every layout column (required marked)."""
    choices: list[tuple[str, Any]] = [(IGNORE, _("— abaikan kolom ini —"))]
    for col in layout.COLUMNS:
        label = f"{col.header} · {col.label}"
        if col.required:
            label += " *"
        choices.append((col.key, label))
    return choices


class MappingForm(forms.Form):
    """One select per file header (named ``col_<index>``), plus "save as template"."""

    template_name = forms.CharField(
        label=_("Simpan pemetaan ini sebagai templat (opsional)"),
        max_length=80,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("mis. SIKS-NG offline")}),
    )

    def __init__(
        self, *args: Any, headers: list[str], initial_mapping: dict[str, str | None], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.headers = headers
        choices = column_choices()
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header or _("(tanpa judul)"),
                choices=choices,
                required=False,
                initial=initial_mapping.get(header) or IGNORE,
            )

    def rows(self, samples: list[list[str]]) -> list[tuple[str, Any, list[str]]]:
        """(header, bound select, sample values) per file column, for the mapping table."""
        out = []
        for index, header in enumerate(self.headers):
            values = [row[index] if index < len(row) else "" for row in samples]
            out.append((header, self[f"col_{index}"], values))
        return out

    def mapping(self) -> dict[str, str | None]:
        """raw header → column key (None = ignored), from the cleaned selects."""
        return {
            header: self.cleaned_data.get(f"col_{index}") or None
            for index, header in enumerate(self.headers)
        }


class TemplateChoiceForm(forms.Form):
    """Apply a saved mapping template to the job."""

    template = forms.ModelChoiceField(
        label=_("Pakai templat tersimpan"), queryset=MappingTemplate.objects.none()
    )

    def __init__(self, *args: Any, queryset: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = queryset


class ApplyForm(forms.Form):
    """Apply all rows, or apply the valid ones and quarantine the rest (explicitly confirmed)."""

    ALL, QUARANTINE = "all", "quarantine"
    choice = forms.ChoiceField(choices=[(ALL, ALL), (QUARANTINE, QUARANTINE)])
    confirm = forms.BooleanField(
        label=_("Saya mengerti: baris yang bermasalah tidak diterapkan dan disimpan di karantina."),
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("choice") == self.QUARANTINE and not data.get("confirm"):
            self.add_error(
                "confirm",
                _("Centang konfirmasi untuk menerapkan baris valid dan mengarantina sisanya."),
            )
        return data

    @property
    def quarantine(self) -> bool:
        return self.cleaned_data.get("choice") == self.QUARANTINE
