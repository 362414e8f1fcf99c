from __future__ import annotations

from types import SimpleNamespace

import pytest

from terpadu.registry import models
from terpadu.registry.codelists import (
    ASSET_YES_CODE,
    CODES,
    CROSSWALK,
    FIELD_VARIABLE,
    FORMAL_EMPLOYMENT,
    INFORMAL_EMPLOYMENT,
    Codelist,
    choices,
    decode_yes_no,
    is_informal,
    label,
    label_for,
    translate,
)

OLD, NEW = Codelist.DTKS2020.value, Codelist.DTSEN2025.value


def test_every_label_is_non_empty() -> None:
    for codelist, variables in CODES.items():
        for variable, codes in variables.items():
            assert codes, (codelist, variable)
            for code, text in codes.items():
                assert isinstance(code, int)
                assert text.strip(), (codelist, variable, code)


def test_both_versions_are_filled() -> None:
    assert set(CODES) == {OLD, NEW}
    assert len(CODES[OLD]["work_sector"]) == 22
    assert set(CODES[OLD]["disability"]) == set(range(13))
    assert len(CODES[NEW]["education_level"]) == 22
    assert len(CODES[NEW]["work_sector"]) == 26
    assert len(CODES[NEW]["chronic_illness"]) == 18
    assert set(CODES[NEW]["nutrition"]) == {1, 2, 3, 8}


def test_same_label_has_different_codes_across_versions() -> None:
    # domain.md §1.4: copying integers across versions corrupts data.
    assert label(OLD, "floor_type", 9) == label(NEW, "floor_type", 8) == "Tanah"
    assert label(OLD, "roof_type", 6) == label(NEW, "roof_type", 3) == "Seng"


def test_crosswalk_targets_exist_and_sources_exist() -> None:
    for (from_, to), variables in CROSSWALK.items():
        for variable, mapping in variables.items():
            assert mapping, variable
            assert set(mapping) <= set(CODES[from_][variable]), variable
            assert set(mapping.values()) <= set(CODES[to][variable]), variable


def test_crosswalk_covers_housing_variables() -> None:
    for variable in ("floor_type", "roof_type", "water_source"):
        assert set(CROSSWALK[(OLD, NEW)][variable]) == set(CODES[OLD][variable])


def test_translate() -> None:
    assert translate(9, "floor_type", OLD, NEW) == 8
    assert translate(6, "roof_type", OLD, NEW) == 3
    assert translate(12, "water_source", OLD, NEW) == 11
    assert translate(None, "floor_type", OLD, NEW) is None
    assert translate(1, "lighting", OLD, NEW) is None  # PLN with or without meter: unknown
    assert translate(5, "floor_type", NEW, NEW) == 5
    with pytest.raises(LookupError):
        translate(1, "land_tenure", OLD, NEW)
    with pytest.raises(LookupError):
        translate(8, "floor_type", NEW, OLD)


@pytest.mark.parametrize(
    ("status", "expected"),
    [(1, True), (2, True), (3, False), (4, False), (5, False), (6, True), (7, True),
     (8, True), (None, None), (0, None), (9, None)],
)  # fmt: skip
def test_is_informal(status: int | None, expected: bool | None) -> None:
    assert is_informal(status) is expected


def test_employment_sets_partition_the_codes() -> None:
    assert INFORMAL_EMPLOYMENT.isdisjoint(FORMAL_EMPLOYMENT)
    for codelist in (OLD, NEW):
        assert set(CODES[codelist]["employment_status"]) == INFORMAL_EMPLOYMENT | FORMAL_EMPLOYMENT


def test_decode_yes_no() -> None:
    assert [decode_yes_no(c) for c in (1, 2, 3, 4)] == [True, False, True, False]
    assert decode_yes_no("3") is True
    assert decode_yes_no(None) is None
    assert decode_yes_no("") is None
    assert decode_yes_no(5) is None
    assert decode_yes_no("x") is None
    # A 1/2 answer on a 3/4 row means the data-entry clerk skipped a row.
    assert decode_yes_no(1, yes_code=ASSET_YES_CODE["asset_fridge"]) is None
    assert decode_yes_no(4, yes_code=ASSET_YES_CODE["asset_fridge"]) is False
    assert decode_yes_no(1, yes_code=ASSET_YES_CODE["asset_gas_cylinder"]) is True


def test_field_variable_names_real_coded_fields() -> None:
    field_names = {
        f.name for model in (models.Household, models.Person) for f in model._meta.get_fields()
    }
    for field_name, variable in FIELD_VARIABLE.items():
        assert field_name in field_names, field_name
        assert variable in CODES[OLD] or variable in CODES[NEW], variable
    assert set(ASSET_YES_CODE) <= field_names


def test_label_for_reads_the_objects_codelist() -> None:
    old = SimpleNamespace(codelist=OLD, floor_type=9, relation_kk=7, education_level=None)
    new = SimpleNamespace(codelist=NEW, floor_type=8, relation_ruta=7)
    assert label_for(old, "floor_type") == "Tanah"
    assert label_for(old, "relation_kk") == "Pembantu ruta"
    assert label_for(old, "education_level") == ""
    assert label_for(new, "floor_type") == "Tanah"
    assert label_for(new, "relation_ruta") == "Pembantu/sopir"
    membership = SimpleNamespace(person=SimpleNamespace(codelist=NEW), relation_kk=1)
    assert label_for(membership, "relation_kk") == "Kepala keluarga"
    assert label_for(SimpleNamespace(codelist=NEW, floor_type=42), "floor_type") == "?42"


def test_choices_are_sorted() -> None:
    assert choices(NEW, "cooking_fuel")[0] == (0, "Tidak memasak di rumah")
    assert choices(OLD, "nope") == []
