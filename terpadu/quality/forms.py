"""Forms of the quality pages (filters, decisions, reference-list upload)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from terpadu.quality.catalogue import LIST_KINDS
from terpadu.quality.models import DuplicateKind, FlagStatus, WorkStatus
from terpadu.regions.models import to_digits

WILAYAH_HELP = _("Kode wilayah (angka), mis. 1371 atau 137101.")


class GroupFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Jenis"), required=False, choices=[("", _("Semua")), *DuplicateKind.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Semua")), *WorkStatus.choices]
    )
    wilayah = forms.CharField(label=_("Wilayah"), required=False, help_text=WILAYAH_HELP)

    def clean_wilayah(self) -> str:
        return to_digits(self.cleaned_data["wilayah"] or "")


class FlagFilterForm(forms.Form):
    rule = forms.ChoiceField(label=_("Aturan"), required=False)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Semua")), *FlagStatus.choices]
    )
    wilayah = forms.CharField(label=_("Wilayah"), required=False, help_text=WILAYAH_HELP)

    def __init__(self, *args: Any, rules: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [("", _("Semua")), *rules]

    def clean_wilayah(self) -> str:
        return to_digits(self.cleaned_data["wilayah"] or "")


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Alasan"), widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )


class ProposeFlagForm(ReasonForm):
    evidence = forms.FileField(
        label=_("Bukti (PDF/JPG/PNG, wajib untuk meninggal)"), required=False
    )


class ProposeMemberForm(ReasonForm):
    person = forms.TypedChoiceField(label=_("Data yang diusulkan nonaktif"), coerce=int)

    def __init__(self, *args: Any, members: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["person"].choices = members


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("Jenis daftar"), choices=list(LIST_KINDS.items()))
    name = forms.CharField(label=_("Nama daftar"), max_length=160)
    source = forms.CharField(label=_("Sumber/instansi"), max_length=160)
    valid_as_of = forms.DateField(
        label=_("Keadaan per tanggal"), widget=forms.DateInput(attrs={"type": "date"})
    )
    file = forms.FileField(label=_("Berkas (.csv/.xlsx, kolom NIK; opsional nilai dan keterangan)"))


class PackForm(forms.Form):
    provinsi = forms.ChoiceField(label=_("Provinsi"), required=False)
    skema = forms.ChoiceField(label=_("Skema umur"), required=False)

    def __init__(
        self,
        *args: Any,
        provinces: list[tuple[str, str]],
        schemes: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provinsi"].choices = provinces
        self.fields["skema"].choices = schemes
