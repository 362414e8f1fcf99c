"""Forms of the verivali pages: input shape only; the rules live in verivali.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from terpadu.proposals.forms_musdes import DateInput
from terpadu.proposals.models import VisitPhoto, VisitResult


class EnumeratorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        name = obj.get_full_name() or obj.username
        area = obj.region.name if obj.region_id else ""
        return f"{name} ({area})" if area else name


class IdsField(forms.Field):
    """A list of ids from checkboxes named alike. Which ids may be used is the domain's call
    (assign() re-checks status and area), so only the shape is validated here."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": _("Pilihan usulan tidak sah.")}

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        try:
            ids = [int(v) for v in value]
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if any(pk <= 0 for pk in ids):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return ids


class AssignForm(forms.Form):
    proposals = IdsField(
        label=_("Usulan"), error_messages={"required": _("Pilih sekurang-kurangnya satu usulan.")}
    )
    enumerator = EnumeratorChoiceField(label=_("Enumerator"), queryset=None)
    due_on = forms.DateField(label=_("Batas waktu"), required=False, widget=DateInput())

    def __init__(self, *args: Any, enumerators: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["enumerator"].queryset = enumerators  # type: ignore[attr-defined]


PHOTO_KINDS = list(VisitPhoto.Kind)
PHOTO_WIDGET_ATTRS = {"accept": "image/*", "capture": "environment"}


class VisitForm(forms.Form):
    result = forms.TypedChoiceField(
        label=_("Hasil verivali"),
        choices=VisitResult.choices,
        coerce=int,
        widget=forms.RadioSelect,
    )
    visited_on = forms.DateField(label=_("Tanggal kunjungan"), widget=DateInput())
    # Text, not DecimalField: browsers report more than six decimals; the domain rounds.
    latitude = forms.CharField(
        label=_("Lintang"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "data-geo": "lat"}),
    )
    longitude = forms.CharField(
        label=_("Bujur"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "data-geo": "lon"}),
    )
    respondent = forms.CharField(label=_("Nama responden"), max_length=120, required=False)
    notes = forms.CharField(label=_("Catatan"), required=False, widget=forms.Textarea({"rows": 3}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind in PHOTO_KINDS:
            self.fields[f"photo_{kind.value}"] = forms.FileField(
                label=kind.label,
                required=False,
                widget=forms.ClearableFileInput(attrs=PHOTO_WIDGET_ATTRS),
            )

    def photo_fields(self) -> list[forms.BoundField]:
        return [self[f"photo_{kind.value}"] for kind in PHOTO_KINDS]

    def photos(self) -> list[tuple[str, UploadedFile]]:
        return [
            (kind.value, self.cleaned_data[f"photo_{kind.value}"])
            for kind in PHOTO_KINDS
            if self.cleaned_data.get(f"photo_{kind.value}")
        ]


class QcForm(forms.Form):
    ACCEPT, RETURN = "terima", "kembalikan"
    decision = forms.ChoiceField(
        choices=[(ACCEPT, _("Terima")), (RETURN, _("Kembalikan untuk kunjungan ulang"))]
    )
    note = forms.CharField(label=_("Catatan pengawas"), required=False, max_length=2000)
