from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terpadu.lib.nik import (
    PROVINCE_CODES,
    IdCheck,
    check_nik,
    check_no_kk,
    compose_nik,
    compose_no_kk,
    decode_nik,
    mask_nik,
    normalise_id,
)

TODAY = date(2025, 6, 1)
VALID = "3201010501900001"  # 320101, man born 05-01-1990, serial 0001


def codes(result: IdCheck) -> list[str]:
    return [issue.code for issue in result.issues]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (VALID, []),
        # Normalisation
        ("'3201010501900001", []),
        ("  3201010501900001\t", []),
        ("3201 0105 0190 0001", []),
        ("3201.0105.0190.0001", []),
        ("3201-0105-0190-0001", []),
        ("３２０１０１０５０１９００００１", []),  # full-width digits from a phone keyboard
        (3201010501900001, []),
        # Empty
        ("", ["empty"]),
        ("   ", ["empty"]),
        ("'", ["empty"]),
        (None, ["empty"]),
        (float("nan"), ["empty"]),
        # Excel artefacts
        ("3.2E+15", ["excel_scientific"]),
        ("3,20101E+15", ["excel_scientific"]),
        ("3.57301e15", ["excel_scientific"]),
        (" 3.20101E+15 ", ["excel_scientific"]),
        (1e16, ["excel_scientific"]),
        ("3201010501900001.0", ["excel_decimal"]),
        ("3201010501900001,0", ["excel_decimal"]),
        ("3201010501900001.00", ["excel_decimal"]),
        (3201010501900001.0, ["excel_decimal"]),
        (3.2e15, ["excel_decimal"]),
        # Characters and length
        ("32010105019O0001", ["not_digits"]),
        ("NIK 3201010501900001", ["not_digits"]),
        ("3201/0105/0190/0001", ["not_digits"]),
        ("320101050190001", ["length"]),
        ("32010105019000011", ["length"]),
        ("3201 0105 0190 01", ["length"]),
        # Province
        ("9901010501900001", ["province"]),
        ("2001010501900001", ["province"]),
        ("1001010501900001", ["province"]),
        ("9101010501900001", []),  # Papua Barat (pre-2022 code, still valid for life)
        ("9601010501900001", []),  # Papua Barat Daya (2022)
        # Day: men 01-31, women 41-71
        ("3201010001900001", ["day"]),
        ("3201013201900001", ["day"]),
        ("3201014001900001", ["day"]),
        ("3201014101900001", []),
        ("3201017101900001", []),
        ("3201017201900001", ["day"]),
        ("3201019901900001", ["day"]),
        # Month
        ("3201010500900001", ["month"]),
        ("3201010513900001", ["month"]),
        ("3201010000900001", ["day", "month"]),
        # Date must exist in 19YY or 20YY
        ("3201012902000001", []),  # 29-02-2000
        ("3201012902960001", []),  # 29-02-1996
        ("3201012902010001", ["date"]),  # 29-02 in neither 1901 nor 2001
        ("3201016902000001", []),  # woman born 29-02-2000
        ("3201016902010001", ["date"]),
        ("3201013104900001", ["date"]),  # 31 April
        ("3201017104900001", ["date"]),  # woman, 31 April
        ("3201013102900001", ["date"]),
        # Serial
        ("3201010501900000", ["serial"]),
        ("9901013104900000", ["province", "date", "serial"]),  # every error at once
    ],
)
def test_check_nik_edge_cases(raw: object, expected: list[str]) -> None:
    result = check_nik(raw, today=TODAY)  # type: ignore[arg-type]
    assert codes(result) == expected
    assert result.ok == (not expected)
    assert (result.value is not None) == (not expected)


def test_valid_nik_is_decoded() -> None:
    result = check_nik("'3201 0145 0190 0007", today=TODAY)
    assert result.ok
    assert result.value == "3201014501900007"
    assert result.raw == "'3201 0145 0190 0007"
    assert result.sex == 2
    assert result.birth_date == date(1990, 1, 5)
    assert result.region_prefix == "320101"


def test_messages_name_the_value_and_rule() -> None:
    (issue,) = check_nik("32010101900001").issues
    assert issue.message_id == "NIK harus 16 angka; '32010101900001' berisi 14 angka"
    assert issue.message_en == "NIK must have 16 digits; '32010101900001' has 14"
    assert issue.message("en-us") == issue.message_en
    assert issue.message("id") == issue.message_id
    assert issue.message(None) == issue.message_id


def test_fifteen_digits_hint_at_lost_digit() -> None:
    (issue,) = check_nik("201010501900001").issues
    assert "digit hilang" in issue.message_id
    assert "missing" in issue.message_en


def test_not_digits_names_the_characters() -> None:
    (issue,) = check_nik("32010105019O00#1").issues
    assert "'O'" in issue.message_id
    assert "'#'" in issue.message_en


def test_day_message_explains_women_offset() -> None:
    (issue,) = check_nik("3201013501900001").issues
    assert "41–71" in issue.message_id
    assert "35" in issue.message_en


def test_excel_message_quotes_the_value() -> None:
    (issue,) = check_nik("3.2E+15").issues
    assert "'3.2E+15'" in issue.message_id
    assert "scientific" in issue.message_en


def test_region_warnings_need_known_prefixes() -> None:
    known = {"32", "3201", "320101", "3202"}
    assert codes(check_nik(VALID, known_prefixes=known, today=TODAY)) == []
    result = check_nik("3202990501900001", known_prefixes=known, today=TODAY)
    assert codes(result) == ["region_unknown"]
    assert result.ok  # a warning does not block
    assert "320299" in result.warnings[0].message_id
    assert (
        "kabupaten/kota '3299'"
        in check_nik("3299010501900001", known_prefixes=known, today=TODAY).warnings[0].message_id
    )


def test_known_prefixes_can_add_a_province_but_not_remove_one() -> None:
    assert codes(check_nik("9701010501900001", known_prefixes={"97", "9701", "970101"})) == []
    # A pilot that loaded only West Java still accepts a migrant from Padang (warning only).
    assert codes(check_nik("1371010501900001", known_prefixes={"32"}, today=TODAY)) == [
        "region_unknown"
    ]


def test_recorded_sex_and_birth_date_mismatch_are_warnings() -> None:
    woman = "3201014501900001"  # 05-01-90, female
    result = check_nik(woman, sex=1, birth_date=date(1990, 2, 5), today=TODAY)
    assert codes(result) == ["sex_mismatch", "birth_date_mismatch"]
    assert result.ok
    assert "perempuan" in result.warnings[0].message_id
    assert "05-02-1990" in result.warnings[1].message_id
    # The 2-digit year is all a NIK holds; either century matches.
    assert codes(check_nik(woman, sex=2, birth_date=date(1990, 1, 5))) == []
    assert codes(check_nik(woman, sex=2, birth_date=date(2090, 1, 5))) == []
    assert codes(check_nik(woman, birth_date=date(1991, 1, 5))) == ["birth_date_mismatch"]


def test_future_date_only_when_future_in_both_centuries() -> None:
    nik = "3201010501990001"  # 05-01-99
    assert codes(check_nik(nik, today=date(1998, 1, 1))) == ["future_date"]
    assert codes(check_nik(nik, today=TODAY)) == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3201010501200001", []),
        ("'3201.0105.0120.0001", []),
        ("3201014501200001", ["day"]),  # no +40 rule on a KK
        ("3201010001200001", ["day"]),
        ("3201013201200001", ["day"]),
        ("3201010513200001", ["month"]),
        ("3201013104200001", ["date"]),
        ("3201012902190001", ["date"]),
        ("3201012902200001", []),
        ("3201010501200000", ["serial"]),
        ("9901010501200001", ["province"]),
        ("3.20101E+15", ["excel_scientific"]),
        ("3201010501200001.0", ["excel_decimal"]),
        ("320101050120001", ["length"]),
        ("", ["empty"]),
    ],
)
def test_check_no_kk_edge_cases(raw: str, expected: list[str]) -> None:
    result = check_no_kk(raw, today=TODAY)
    assert codes(result) == expected


def test_no_kk_decodes_recording_date_not_sex() -> None:
    result = check_no_kk("3201010501200001", today=TODAY)
    assert result.recorded_date == date(2020, 1, 5)
    assert result.birth_date is None
    assert result.sex is None
    assert result.issues == []
    assert check_no_kk("3201010501200001").errors[0:] == []
    assert "No KK" in check_no_kk("3201010501200000").errors[0].message_id


def test_decode_nik_picks_century() -> None:
    assert decode_nik("3201010501100001", today=TODAY) == (date(2010, 1, 5), 1)
    assert decode_nik("3201014501900001", today=TODAY) == (date(1990, 1, 5), 2)
    # Born "today" is 20YY; one day later would be in the future, so 19YY.
    assert decode_nik("3201010106250001", today=TODAY) == (date(2025, 6, 1), 1)
    assert decode_nik("3201010206250001", today=TODAY) == (date(1925, 6, 2), 1)
    assert decode_nik("3201012902000001", today=TODAY) == (date(2000, 2, 29), 1)
    assert decode_nik("3201013104900001", today=TODAY) == (None, 1)
    assert decode_nik("3201013501900001") == (None, None)
    assert decode_nik("123") == (None, None)
    assert decode_nik(None) == (None, None)


def test_mask_nik() -> None:
    assert mask_nik("1371014507900001") == "137101********01"
    assert mask_nik("1371 0145 0790 0001") == "137101********01"
    assert mask_nik(None) == "—"
    assert mask_nik("") == "—"
    assert mask_nik("1234") == "****"


def test_compose_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="region6"):
        compose_nik("3201", date(1990, 1, 1), 1, 1)
    with pytest.raises(ValueError, match="sex"):
        compose_nik("320101", date(1990, 1, 1), 3, 1)
    with pytest.raises(ValueError, match="serial"):
        compose_no_kk("320101", date(2020, 1, 1), 0)
    assert compose_no_kk("320101", date(2020, 1, 5), 12) == "3201010501200012"
    assert compose_nik("320101", date(1990, 1, 5), 2, 7) == "3201014501900007"


# Properties

regions = st.builds(
    lambda province, rest: province + rest,
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
)


@settings(max_examples=200, deadline=None)
@given(
    region=regions,
    born=st.dates(min_value=date(1900, 1, 1), max_value=TODAY),
    sex=st.sampled_from([1, 2]),
    serial=st.integers(min_value=1, max_value=9999),
)
def test_composed_nik_passes_and_decodes_back(
    region: str, born: date, sex: int, serial: int
) -> None:
    nik = compose_nik(region, born, sex, serial)
    result = check_nik(nik, sex=sex, birth_date=born, today=TODAY)
    assert result.issues == []
    assert result.value == nik
    assert result.sex == sex
    assert result.birth_date is not None
    assert (result.birth_date.day, result.birth_date.month) == (born.day, born.month)
    assert result.birth_date.year % 100 == born.year % 100
    assert decode_nik(nik, today=TODAY)[1] == sex


@settings(max_examples=200, deadline=None)
@given(
    region=regions,
    recorded=st.dates(min_value=date(1950, 1, 1), max_value=TODAY),
    serial=st.integers(min_value=1, max_value=9999),
)
def test_composed_no_kk_passes(region: str, recorded: date, serial: int) -> None:
    result = check_no_kk(compose_no_kk(region, recorded, serial), today=TODAY)
    assert result.issues == []
    assert result.recorded_date is not None
    assert result.recorded_date.day == recorded.day


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789", min_size=1, max_size=40).filter(lambda s: len(s) != 16))
def test_wrong_number_of_digits_fails_with_length(digits: str) -> None:
    assert codes(check_nik(digits)) == ["length"]
    assert codes(check_no_kk(digits)) == ["length"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789", min_size=16, max_size=16))
def test_mask_keeps_length_and_hides_digits_7_to_14(nik: str) -> None:
    masked = mask_nik(nik)
    assert len(masked) == 16
    assert masked[6:14] == "*" * 8
    assert masked[:6] == nik[:6]
    assert masked[14:] == nik[14:]


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(),
        st.text(alphabet="0123456789 .,-'’eE+\t", max_size=24),
        st.integers(),
        st.none(),
    )
)
def test_normalisation_is_idempotent(raw: str | int | None) -> None:
    once = normalise_id(raw)
    assert normalise_id(once) == once
    # Checking the normal form gives the same verdict as checking the raw value.
    assert codes(check_nik(once, today=TODAY)) == codes(check_nik(raw, today=TODAY))


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_float_is_an_excel_artefact(raw: float) -> None:
    # A float means the cell was numeric in Excel: digits may already be lost, so even a
    # float whose text looks fine is refused rather than normalised.
    assert codes(check_nik(raw)) in (["excel_scientific"], ["excel_decimal"])
