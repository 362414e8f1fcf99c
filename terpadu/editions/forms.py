"""Forms of the edition pages: determination (pusat), export purpose, diff choice."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from terpadu.editions.exports import period_label

MAX_DECREE_BYTES = 20 * 1024 * 1024
PERIOD_RE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")
# The decree is a signed PDF; the browser's Content-Type and the file name are not trusted.
PDF_MAGIC = b"%PDF-"
# Region filters are digits-only codes at one of the four levels (2, 4, 6 or 10 digits).
REGION_RE = re.compile(r"^([0-9]{2}|[0-9]{4}|[0-9]{6}|[0-9]{10})$")


def clean_period(value: str) -> str:
    value = (value or "").strip()
    if not PERIOD_RE.match(value):
        raise forms.ValidationError(_("Periode harus berbentuk TTTT-BB, misalnya 2026-03."))
    return value


class PeriodField(forms.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 7)
        kwargs.setdefault("widget", forms.TextInput(attrs={"placeholder": "2026-03"}))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        return clean_period(super().clean(value))


class DetermineForm(forms.Form):
    """Decree metadata for determining an edition; the rules live in determination.py."""

    period = PeriodField(label=_("Periode penetapan (TTTT-BB)"))
    decree_number = forms.CharField(label=_("Nomor Kepmensos"), max_length=80)
    decree_date = forms.DateField(
        label=_("Tanggal keputusan"),
        # <input type="date"> only takes ISO dates, whatever the locale's display format.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    signatory = forms.CharField(label=_("Penandatangan"), max_length=120)
    decree_pdf = forms.FileField(
        label=_("Berkas keputusan bertanda tangan (PDF, maks. 20 MB)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,application/pdf"}),
    )
    confirm = forms.BooleanField(
        label=_(
            "Saya memahami bahwa penetapan menerapkan semua usulan yang diterima ke registri "
            "dan tidak dapat diubah lagi."
        ),
        required=True,
    )

    def clean_decree_pdf(self) -> Any:
        upload = self.cleaned_data["decree_pdf"]
        if upload.size > MAX_DECREE_BYTES:
            raise forms.ValidationError(_("Berkas keputusan terlalu besar (maksimal 20 MB)."))
        head = upload.read(len(PDF_MAGIC))
        upload.seek(0)
        if head != PDF_MAGIC:
            raise forms.ValidationError(_("Berkas keputusan harus PDF."))
        return upload


class ExportForm(forms.Form):
    """UU PDP: every export of personal data states its purpose, which is logged."""

    purpose = forms.CharField(
        label=_("Tujuan ekspor"),
        max_length=500,
        min_length=5,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Misalnya: penyaluran BPNT tahap 2, rekonsiliasi data dinas sosial."),
    )
    include_inactive = forms.BooleanField(
        label=_("Sertakan individu nonaktif (dengan alasannya)"), required=False
    )

    def __init__(self, *args: Any, with_inactive: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The diff export has its own nonaktif sheet; only the edition list offers the choice.
        if not with_inactive:
            del self.fields["include_inactive"]


def clean_region(value: str | None) -> str:
    """A region filter from the query string: digits at a valid level, or '' for none."""
    value = (value or "").strip().replace(".", "")
    if not value:
        return ""
    if not REGION_RE.match(value):
        raise forms.ValidationError(_("Kode wilayah tidak valid."))
    return value


class DiffForm(forms.Form):
    """Which two editions to compare (GET); both must exist, checked by the view."""

    a = forms.ChoiceField(label=_("Edisi awal"))
    b = forms.ChoiceField(label=_("Edisi pembanding"))
    wilayah = forms.CharField(label=_("Kode wilayah"), required=False, max_length=13)

    def __init__(self, *args: Any, periods: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [(p, period_label(p)) for p in periods]
        self.fields["a"].choices = choices
        self.fields["b"].choices = choices

    def clean_wilayah(self) -> str:
        return clean_region(self.cleaned_data.get("wilayah"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("a") and data.get("a") == data.get("b"):
            raise forms.ValidationError(_("Pilih dua edisi yang berbeda."))
        return data
