"""Forms of the kab/kota review queue, the batch pages, the province and pusat pages.

Forms check the shape of the input; the rules (order of steps, roles, file types) are in
batches.py and workflow.py.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from terpadu.proposals.batches import MAX_LETTER_BYTES
from terpadu.proposals.models import Kind
from terpadu.regions.forms import RegionField

AGE_CHOICES = [
    ("", _("Semua")),
    ("7", _("≥ 7 hari")),
    ("14", _("≥ 14 hari")),
    ("30", _("≥ 30 hari")),
]
TAB_CHOICES = [
    ("periksa", _("Perlu diperiksa")),
    ("dikembalikan", _("Dikembalikan pusat")),
]


class ReviewFilterForm(forms.Form):
    tab = forms.ChoiceField(choices=TAB_CHOICES, required=False)
    kind = forms.ChoiceField(
        label=_("Jenis"), choices=[("", _("Semua jenis")), *Kind.choices], required=False
    )
    wilayah = RegionField(label=_("Kecamatan/desa"), required=False)
    age = forms.ChoiceField(label=_("Lama menunggu"), choices=AGE_CHOICES, required=False)
    overdue = forms.BooleanField(label=_("Hanya yang terlambat"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["wilayah"].limit_to_user(user)  # type: ignore[attr-defined]


BULK_ACTIONS = {
    # form value → (transition, label for the result message)
    "approve": ("approve", _("disetujui")),
    "return": ("return_to_desa", _("dikembalikan ke desa")),
    "reject": ("reject_kabkota", _("ditolak")),
    "fix": ("fix_kabkota", _("diperiksa ulang")),
}


class BulkReviewForm(forms.Form):
    ids = forms.TypedMultipleChoiceField(coerce=int, required=True)
    action = forms.ChoiceField(choices=[(k, k) for k in BULK_ACTIONS])
    note = forms.CharField(label=_("Catatan/alasan"), required=False, widget=forms.Textarea)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Ids are any integers here: the domain call only moves those the user may move.
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        self.fields["ids"].choices = [(v, v) for v in raw if str(v).isdigit()]  # type: ignore[attr-defined]
        self.fields["ids"].error_messages["required"] = _("Pilih minimal satu usulan.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") in ("return", "reject") and not (data.get("note") or "").strip():
            self.add_error("note", _("Alasan wajib diisi untuk mengembalikan atau menolak."))
        return data


class FinaliseForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("Saya memastikan seluruh usulan final sudah diperiksa."), required=True
    )


class SignedLetterForm(forms.Form):
    letter_number = forms.CharField(label=_("Nomor surat pengesahan"), max_length=80)
    signatory = forms.CharField(label=_("Nama penandatangan (bupati/wali kota)"), max_length=120)
    file = forms.FileField(
        label=_("Surat bertanda tangan (PDF/JPEG/PNG, maks. 10 MB)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
    )

    def clean_file(self) -> Any:
        file = self.cleaned_data["file"]
        if file.size > MAX_LETTER_BYTES:
            raise forms.ValidationError(_("Berkas surat terlalu besar (maksimal 10 MB)."))
        return file


class AnnotateForm(forms.Form):
    note = forms.CharField(label=_("Catatan provinsi"), widget=forms.Textarea(attrs={"rows": 3}))


class CalendarYearForm(forms.Form):
    year = forms.IntegerField(label=_("Tahun"), min_value=2020, max_value=2100)
    input_end_day = forms.IntegerField(
        label=_("Batas input desa (tanggal)"), min_value=1, max_value=28
    )
    ratification_day = forms.IntegerField(
        label=_("Batas pengesahan kab/kota (tanggal)"), min_value=1, max_value=28
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        end, ratify = data.get("input_end_day"), data.get("ratification_day")
        if end and ratify and end > ratify:
            self.add_error(
                "ratification_day",
                _("Batas pengesahan tidak boleh sebelum batas input desa."),
            )
        return data
