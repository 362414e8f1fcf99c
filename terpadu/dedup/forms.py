"""Forms of the dedup pages (shape only; rules live in runs.py and decisions.py)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from terpadu.dedup.models import PairStatus
from terpadu.regions.forms import DIGITS_VALIDATOR
from terpadu.regions.models import Level, Region


class StartRunForm(forms.Form):
    region = forms.ModelChoiceField(label=_("Kab/kota"), queryset=Region.objects.none())
    retrain = forms.BooleanField(
        label=_("Latih ulang model dengan data wilayah ini"), required=False
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        qs = Region.objects.current().visible_to(user).filter(level=Level.KABKOTA)
        self.fields["region"].queryset = qs.order_by("digits")
        if qs.count() == 1:
            self.fields["region"].initial = qs.first()


class QueueFilterForm(forms.Form):
    wilayah = forms.CharField(
        label=_("Kode wilayah"), max_length=10, required=False, validators=[DIGITS_VALIDATOR]
    )
    min_prob = forms.FloatField(
        label=_("Probabilitas minimal"), min_value=0, max_value=1, required=False
    )
    status = forms.ChoiceField(
        label=_("Keputusan"), choices=PairStatus.choices, required=False, initial=PairStatus.OPEN
    )


class BulkDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Keputusan"),
        choices=[
            (PairStatus.DIFFERENT, _("Orang berbeda")),
            (PairStatus.SAME, _("Orang yang sama (usulkan nonaktif data yang lebih baru)")),
        ],
    )
    note = forms.CharField(label=_("Alasan"), max_length=500)
    pairs = forms.TypedMultipleChoiceField(coerce=int, choices=[])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any id is acceptable here; the view re-reads the pairs in the user's scope.
        self.fields["pairs"].choices = (
            [(v, v) for v in self.data.getlist("pairs")] if hasattr(self.data, "getlist") else []
        )


class SameForm(forms.Form):
    duplicate = forms.IntegerField(label=_("Data ganda yang diusulkan nonaktif"))
    note = forms.CharField(
        label=_("Alasan"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class DifferentForm(forms.Form):
    note = forms.CharField(
        label=_("Alasan"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
