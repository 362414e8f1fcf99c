"""Forms of the national processing and Dukcapil pages (shape only; rules live in
processing.py and dukcapil.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from terpadu.editions.models import DukcapilBatch, ProcessingResult
from terpadu.regions.forms import DIGITS_VALIDATOR

PERIOD_VALIDATOR = RegexValidator(
    r"^[0-9]{4}-(0[1-9]|1[0-2])$", _("Periode harus berbentuk TTTT-BB, mis. 2026-11.")
)
MAX_RESULT_BYTES = 50 * 1024 * 1024


class StartRunForm(forms.Form):
    period = forms.CharField(label=_("Periode"), max_length=7, validators=[PERIOD_VALIDATOR])
    force = forms.BooleanField(label=_("Mulai sebelum batas waktu"), required=False)
    note = forms.CharField(
        label=_("Catatan (wajib bila dipaksa)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class OverrideForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Hasil"), choices=ProcessingResult.Outcome.choices)
    note = forms.CharField(label=_("Catatan"), max_length=500)


class ResultFilterForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Hasil"),
        choices=[("", _("Semua hasil")), *ProcessingResult.Outcome.choices],
        required=False,
    )
    reason = forms.ChoiceField(label=_("Alasan"), choices=[], required=False)
    wilayah = forms.CharField(
        label=_("Kab/kota"), max_length=10, required=False, validators=[DIGITS_VALIDATOR]
    )

    def __init__(self, *args: Any, reasons: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = [("", _("Semua alasan")), *reasons.items()]


class DukcapilExportForm(forms.Form):
    region_code = forms.CharField(
        label=_("Kode wilayah (kosong = nasional)"),
        max_length=10,
        required=False,
        validators=[DIGITS_VALIDATOR],
    )
    period = forms.CharField(
        label=_("Sertakan NIK usulan periode"),
        max_length=7,
        required=False,
        validators=[PERIOD_VALIDATOR],
    )


class DukcapilImportForm(forms.Form):
    batch = forms.ModelChoiceField(
        label=_("Pertukaran"),
        queryset=DukcapilBatch.objects.filter(state=DukcapilBatch.State.DIKIRIM).order_by("-pk"),
    )
    file = forms.FileField(label=_("Berkas hasil Dukcapil (CSV)"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_RESULT_BYTES:
            raise forms.ValidationError(_("Berkas lebih besar dari 50 MB."))
        return upload


TASK_STATES = [
    ("", _("Semua")),
    ("terbuka", _("Terbuka")),
    ("diusulkan", _("Perbaikan diusulkan")),
    ("selesai", _("Selesai")),
]


class TaskFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("Status"), choices=TASK_STATES, required=False)
