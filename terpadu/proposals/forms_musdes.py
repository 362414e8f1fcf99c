"""Forms of the musdes/muskel pages: input shape only; the rules live in musdes.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from terpadu.proposals.models import Proposal
from terpadu.regions.forms import RegionField
from terpadu.regions.models import Level


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class PlanForm(forms.Form):
    desa = RegionField(label=_("Desa/kelurahan"), level=Level.DESA)
    held_on = forms.DateField(label=_("Tanggal musyawarah"), widget=DateInput())
    place = forms.CharField(label=_("Tempat"), max_length=160)
    chair = forms.CharField(
        label=_("Pimpinan musyawarah"),
        max_length=120,
        help_text=_("Nama kepala desa/lurah atau penjabat yang memimpin."),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["desa"].limit_to_user(user)  # type: ignore[attr-defined]


class AttendeeForm(forms.Form):
    name = forms.CharField(label=_("Nama"), max_length=120, required=False)
    position = forms.CharField(label=_("Jabatan/unsur"), max_length=120, required=False)


AttendeeFormSet = forms.formset_factory(
    AttendeeForm, extra=4, max_num=200, validate_max=True, absolute_max=200
)


def attendee_formset(
    data: Any = None, *, initial: list[tuple[str, str]] | None = None
) -> forms.BaseFormSet:
    """The attendance list as rows; existing names first, then a few blank rows."""
    rows = [{"name": n, "position": p} for n, p in (initial or [])]
    return AttendeeFormSet(data, initial=rows or None, prefix="hadir")


def attendees_from(formset: forms.BaseFormSet) -> list[tuple[str, str]]:
    return [
        (f.cleaned_data.get("name", ""), f.cleaned_data.get("position", ""))
        for f in formset.forms
        if f.cleaned_data.get("name", "").strip()
    ]


AGREE, REJECT = "setuju", "tolak"


class DecisionsForm(forms.Form):
    """One agree/reject choice and a note per agenda item (fields d_<pk>, n_<pk>)."""

    def __init__(
        self,
        *args: Any,
        proposals: list[Proposal],
        recorded: dict[int, tuple[bool, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        recorded = recorded or {}
        self.proposals = proposals
        for p in proposals:
            agreed, note = recorded.get(p.pk, (None, ""))
            self.fields[f"d_{p.pk}"] = forms.ChoiceField(
                label=_("Keputusan"),
                choices=[(AGREE, _("Disepakati")), (REJECT, _("Ditolak"))],
                widget=forms.RadioSelect,
                initial=None if agreed is None else (AGREE if agreed else REJECT),
                error_messages={"required": _("Pilih disepakati atau ditolak.")},
            )
            self.fields[f"n_{p.pk}"] = forms.CharField(
                label=_("Catatan"), max_length=255, required=False, initial=note
            )

    def rows(self) -> list[tuple[Proposal, forms.BoundField, forms.BoundField]]:
        return [(p, self[f"d_{p.pk}"], self[f"n_{p.pk}"]) for p in self.proposals]

    def decisions(self) -> dict[int, tuple[bool, str]]:
        return {
            p.pk: (self.cleaned_data[f"d_{p.pk}"] == AGREE, self.cleaned_data[f"n_{p.pk}"])
            for p in self.proposals
        }


class SignedScanForm(forms.Form):
    file = forms.FileField(
        label=_("Berita acara bertanda tangan (PDF/JPEG/PNG, maks. 10 MB)"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )
