from __future__ import annotations

import datetime as dt

import pytest
from django import forms
from django.http import QueryDict

from terpadu.regions.forms import RegionField, RegionPickerWidget
from terpadu.regions.models import Level, Region

pytestmark = pytest.mark.django_db


class DesaForm(forms.Form):
    desa = RegionField(level=Level.DESA)


class AnyForm(forms.Form):
    wilayah = RegionField(within="13")


def test_accepts_code_dotted_or_digits_and_id(regions: dict[str, Region]) -> None:
    for value in ("13.71.01.1001", "1371011001"):
        form = DesaForm({"desa": value})
        assert form.is_valid(), form.errors
        assert form.cleaned_data["desa"] == regions["1371011001"]
    assert DesaForm().fields["desa"].clean(regions["1371011001"].pk) == regions["1371011001"]


def test_wrong_level_is_refused_with_what_was_chosen(regions: dict[str, Region]) -> None:
    form = DesaForm({"desa": "13.71.01"})
    assert not form.is_valid()
    assert form.errors["desa"] == [
        "Pilih Desa/Kelurahan; 13.71.01 Bungus Teluk Kabung adalah Kecamatan."
    ]


def test_unknown_and_retired_codes_are_refused(regions: dict[str, Region]) -> None:
    assert DesaForm({"desa": "9999999999"}).errors["desa"] == ["Kode wilayah tidak dikenal."]
    assert DesaForm({"desa": "12.3"}).errors["desa"] == ["Kode wilayah tidak dikenal."]
    Region.objects.filter(digits="1371011002").update(valid_to=dt.date(2026, 1, 1))
    assert DesaForm({"desa": "1371011002"}).errors["desa"] == [
        "Wilayah 13.71.01.1002 Bungus Timur sudah tidak berlaku sejak 2026-01-01."
    ]


def test_within_restriction(regions: dict[str, Region]) -> None:
    assert AnyForm({"wilayah": "1371"}).is_valid()
    assert AnyForm({"wilayah": "1471"}).errors["wilayah"] == [
        "Wilayah 14.71 Kota Pekanbaru tidak berada di Provinsi Sumatera Barat."
    ]


def test_outside_user_scope_is_refused(cast: dict, regions: dict[str, Region]) -> None:
    form = DesaForm({"desa": "1372011001"})
    form.fields["desa"].limit_to_user(cast["admin_kabkota"])  # Kota Padang
    assert form.errors["desa"] == [
        "Wilayah 13.72.01.1001 Tanah Garam berada di luar wilayah tugas Anda (Kota Padang)."
    ]
    inside = DesaForm({"desa": "1371021001"})
    inside.fields["desa"].limit_to_user(cast["admin_kabkota"])
    assert inside.is_valid()


def test_required_and_optional(regions: dict[str, Region]) -> None:
    assert DesaForm({"desa": ""}).errors.as_data()["desa"][0].code == "required"

    class Optional(forms.Form):
        wilayah = RegionField(required=False)

    form = Optional({"wilayah": ""})
    assert form.is_valid() and form.cleaned_data["wilayah"] is None


def test_deepest_chosen_level_is_the_value() -> None:
    widget = RegionPickerWidget()
    data = QueryDict("desa=13&desa=1371&desa=137101&desa=")
    assert widget.value_from_datadict(data, {}, "desa") == "137101"
    assert widget.value_from_datadict(QueryDict(""), {}, "desa") == ""


def test_widget_prefills_levels_and_fixes_the_scope(
    cast: dict, regions: dict[str, Region], django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    form = DesaForm(initial={"desa": regions["1371011002"]})
    form.fields["desa"].limit_to_user(cast["admin_kabkota"])
    with django_assert_max_num_queries(4):
        html = str(form["desa"])
    # Provinsi and kab/kota are fixed to the user's Kota Padang; lower levels are open.
    assert 'id="id_desa_l1"' in html and "data-fixed" in html
    assert '<option value="1372"' not in html  # Kota Solok is outside the scope
    assert '<option value="137102" data-code="13.71.02">' in html
    assert '<option value="1371011002" data-code="13.71.01.1002" selected>' in html
    assert 'data-root="1371"' in html
    assert form["desa"].id_for_label == "id_desa_l3"
    assert "region-picker.js" in html


def test_widget_national_user_sees_provinces_only_until_chosen(regions: dict[str, Region]) -> None:
    html = str(DesaForm()["desa"])
    assert '<option value="13" data-code="13">' in html
    assert '<option value="14" data-code="14">' in html
    assert html.count("disabled") == 3  # kab/kota, kecamatan, desa wait for a choice


def test_optional_field_shows_the_fixed_levels_chosen(
    cast: dict, regions: dict[str, Region]
) -> None:
    """A filter (required=False) for a kab/kota user shows its province and kab/kota chosen,
    not blank '— pilih —' selects it could not change anyway."""

    class FilterForm(forms.Form):
        wilayah = RegionField(required=False)

    form = FilterForm()
    form.fields["wilayah"].limit_to_user(cast["verifikator_kabkota"])
    html = str(form["wilayah"])
    assert '<option value="13" data-code="13" selected>' in html
    assert '<option value="1371" data-code="13.71" selected>' in html
