"""The vectorised fast paths accept only what the registry validator accepts unchanged.

validation.nik_fast_ok / text_fast_ok decide which values skip the registry's own
validator; these properties prove they never let through a value that check_nik /
check_no_kk / CharField.clean would refuse, warn about or change.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st

from terpadu.imports.validation import nik_fast_ok, nik_maybe_mismatch, text_fast_ok
from terpadu.lib.nik import check_nik, check_no_kk
from terpadu.registry.models import Person

DIGITS = st.text(alphabet="0123456789", min_size=14, max_size=18)
NOISE = st.text(alphabet="0123456789 '.-eE+,\t‘`٣", min_size=0, max_size=20)
ID_LIKE = st.one_of(
    DIGITS,
    NOISE,
    st.builds(lambda a, b, c: a + b + c, st.sampled_from(["", " ", "'", "‘"]), DIGITS,
              st.sampled_from(["", " ", ".0", "'"])),
)  # fmt: skip


def _fast(values: list[str], *, female: bool) -> list[bool]:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    return frame.select(nik_fast_ok(pl.col("v"), female_offset=female)).to_series().to_list()


@settings(max_examples=200, deadline=None)
@given(st.lists(ID_LIKE, min_size=1, max_size=30))
@example(["3201014101900001", "3201010101000000", "3201013102900001", "'3201011501900001 "])
def test_nik_fast_path_only_accepts_clean_niks(values: list[str]) -> None:
    for value, ok in zip(values, _fast(values, female=True), strict=True):
        if ok:
            result = check_nik(value)
            assert result.ok and not result.issues, (value, result.issues)
            assert result.value == value.strip(" \t\r\n'‘’`")


# Structured ids: a province, any day/month (incl. 29–31, 41–71, 00, 13…), any year/serial.
STRUCTURED = st.builds(
    lambda prov, rest, day, month, yy, serial: f"{prov}{rest}{day:02d}{month:02d}{yy:02d}{serial}",
    st.sampled_from(["11", "13", "32", "99", "00"]),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
    st.integers(0, 99),
    st.integers(0, 13),
    st.integers(0, 99),
    st.sampled_from(["0000", "0001", "9999"]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(STRUCTURED, min_size=1, max_size=30))
@example(
    [
        "1371013102000001",
        "1371012902000001",
        "1371017102000001",
        "1371013104900001",
        "1371013012900001",
        "1371017012900001",
        "1371016902900001",
        "1371012902010001",
    ]
)
def test_fast_paths_on_every_day_and_month(values: list[str]) -> None:
    for female, check in ((True, check_nik), (False, check_no_kk)):
        for value, ok in zip(values, _fast(values, female=female), strict=True):
            if ok:
                result = check(value)
                assert result.ok and not result.issues, (value, result.issues)
                assert result.value == value


@settings(max_examples=200, deadline=None)
@given(st.lists(ID_LIKE, min_size=1, max_size=30))
def test_kk_fast_path_only_accepts_clean_numbers(values: list[str]) -> None:
    for value, ok in zip(values, _fast(values, female=False), strict=True):
        if ok:
            result = check_no_kk(value)
            assert result.ok and not result.issues, (value, result.issues)
            assert result.value == value.strip(" \t\r\n'‘’`")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            DIGITS,
            st.sampled_from([None, 1, 2]),
            st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2025, 12, 31))),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_mismatch_superset_covers_every_check_nik_warning(rows) -> None:  # type: ignore[no-untyped-def]
    frame = pl.DataFrame(
        {"v": [r[0] for r in rows], "sex": [r[1] for r in rows], "b": [r[2] for r in rows]},
        schema={"v": pl.String, "sex": pl.Int64, "b": pl.Date},
    )
    out = frame.select(
        (
            nik_fast_ok(pl.col("v")) & ~nik_maybe_mismatch(pl.col("v"), pl.col("sex"), pl.col("b"))
        ).alias("ok")
    ).to_series()
    for (value, sex, born), ok in zip(rows, out.to_list(), strict=True):
        if ok:
            assert not check_nik(value, sex=sex, birth_date=born).issues


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=130)), min_size=1, max_size=30))
def test_text_fast_path_only_accepts_what_charfield_keeps(values) -> None:  # type: ignore[no-untyped-def]
    field = Person._meta.get_field("name")
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    oks = frame.select(text_fast_ok(pl.col("v"), field.max_length)).to_series().to_list()
    for value, ok in zip(values, oks, strict=True):
        if ok:
            assert field.clean(value, None) == value
