"""Input shapes for registry pages (the rules live in queries.py / records.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from terpadu.regions.models import Level, Region, level_of
from terpadu.registry.models import RecordStatus


def region_options(user: Any) -> list[tuple[str, str]]:
    """Filter choices: the two region levels below the user's own, inside their scope.

    Two levels keep the list short at every level (a kab/kota user gets its kecamatan and
    desa, a province its kab/kota and kecamatan, pusat provinces and kab/kota): one query.
    """
    scope = getattr(user, "scope", "") or ""
    own = level_of(scope) if scope else 0
    levels = [lv for lv in (own + 1, own + 2) if lv <= Level.DESA]
    if not levels:
        return []
    rows = (
        Region.objects.current()
        .within(scope)
        .filter(level__in=levels)
        .order_by("digits")
        .values_list("digits", "name", "level")
    )
    return [
        (digits, ("— " if level == levels[-1] and len(levels) > 1 else "") + name)
        for digits, name, level in rows
    ]


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("NIK, No KK, atau nama"),
        required=False,
        max_length=100,
        strip=True,
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "autofocus": True,
                "placeholder": _("mis. 1371014101900001 atau SITI"),
            }
        ),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Semua status")), *RecordStatus.choices],
    )
    # A CharField with a select widget: breadcrumb links may name any region, and a region
    # above the user's own simply means "all of my scope".
    wilayah = forms.CharField(label=_("Wilayah"), required=False, max_length=10)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scope = getattr(user, "scope", "") or ""
        options = region_options(user)
        if options:
            self.fields["wilayah"].widget = forms.Select(
                choices=[("", _("Seluruh wilayah Anda")), *options]
            )
        else:
            self.fields["wilayah"].widget = forms.HiddenInput()

    def clean_wilayah(self) -> str:
        value = self.cleaned_data["wilayah"]
        if not value:
            return ""
        if not value.isdigit() or len(value) not in (2, 4, 6, 10):
            raise forms.ValidationError(_("Kode wilayah harus 2, 4, 6 atau 10 digit angka."))
        if self.scope.startswith(value):
            return ""
        if not value.startswith(self.scope):
            raise forms.ValidationError(_("Wilayah ini di luar lingkup tugas Anda."))
        return value

    @property
    def has_criteria(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return bool(data.get("q") or data.get("status") or data.get("wilayah"))
