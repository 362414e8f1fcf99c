from __future__ import annotations

from datetime import date

from django import forms
from django.utils import translation

from terpadu.lib.fields import NIKField, NoKKField, form_warnings, recheck_nik


class PersonForm(forms.Form):
    nik = NIKField(required=False, known_prefixes=lambda: {"32", "3201", "320101"})
    no_kk = NoKKField()
    sex = forms.TypedChoiceField(choices=[(1, "L"), (2, "P")], coerce=int, required=False)
    birth_date = forms.DateField(required=False)

    def clean(self) -> dict[str, object]:
        cleaned = super().clean()
        recheck_nik(self)
        return cleaned


def test_valid_values_are_normalised() -> None:
    form = PersonForm({"nik": "'3201 0145 0190 0001", "no_kk": "3201.0105.0120.0001"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["nik"] == "3201014501900001"
    assert form.cleaned_data["no_kk"] == "3201010501200001"
    assert form_warnings(form) == {}


def test_optional_empty_becomes_none_and_required_is_enforced() -> None:
    form = PersonForm({"nik": "  ", "no_kk": ""})
    assert not form.is_valid()
    assert "nik" not in form.errors
    assert form.cleaned_data["nik"] is None
    assert form.errors.as_data()["no_kk"][0].code == "required"


def test_errors_are_in_the_active_language() -> None:
    with translation.override("id"):
        form = PersonForm({"nik": "32010101900001", "no_kk": "3.2E+15"})
        assert not form.is_valid()
        assert form.errors["nik"] == ["NIK harus 16 angka; '32010101900001' berisi 14 angka"]
        assert form.errors.as_data()["no_kk"][0].code == "excel_scientific"
    with translation.override("en"):
        form = PersonForm({"nik": "32010101900001", "no_kk": "3201010501200001"})
        assert not form.is_valid()
        assert form.errors["nik"] == ["NIK must have 16 digits; '32010101900001' has 14"]


def test_every_error_is_reported() -> None:
    form = PersonForm({"nik": "3201013204900000", "no_kk": "3201010501200001"})
    assert not form.is_valid()
    assert [e.code for e in form.errors.as_data()["nik"]] == ["day", "serial"]


def test_warnings_are_exposed_without_blocking() -> None:
    data = {"nik": "3202990501900001", "no_kk": "3201010501200001"}
    form = PersonForm(data)
    assert form.is_valid()
    assert [w.code for w in form.fields["nik"].warnings] == ["region_unknown"]
    with translation.override("en"):
        assert "not in the Kemendagri region table" in form_warnings(form)["nik"][0]
    # Fields are copied per form instance: another form starts clean.
    assert PersonForm(data).fields["nik"].warnings == []


def test_recheck_nik_compares_sex_and_birth_date() -> None:
    form = PersonForm(
        {
            "nik": "3201014501900001",
            "no_kk": "3201010501200001",
            "sex": "1",
            "birth_date": date(1990, 1, 6).isoformat(),
        }
    )
    assert form.is_valid()
    assert [w.code for w in form.fields["nik"].warnings] == ["sex_mismatch", "birth_date_mismatch"]


def test_widget_hints_numeric_keyboard() -> None:
    html = str(PersonForm()["nik"])
    assert 'inputmode="numeric"' in html
    assert "maxlength" not in html
