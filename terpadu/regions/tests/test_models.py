from __future__ import annotations

import pytest

from terpadu.regions.models import Level, Region, digits_range, level_of, to_digits, to_display


def test_code_forms_round_trip() -> None:
    assert to_digits("13.71.01.1001") == "1371011001"
    assert to_display("1371011001") == "13.71.01.1001"
    assert to_display("1371") == "13.71"
    assert level_of("137101") == Level.KECAMATAN
    assert level_of("137") is None


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("", ("", None)),
        ("13", ("13", "14")),
        ("1371", ("1371", "1372")),
        ("1399", ("1399", "1400")),
        ("99", ("99", None)),
    ],
)
def test_digits_range_is_half_open_prefix_range(prefix: str, expected: tuple) -> None:
    assert digits_range(prefix) == expected


def test_within_selects_the_subtree_only(regions: dict[str, Region]) -> None:
    padang = set(Region.objects.within("1371").values_list("digits", flat=True))
    assert padang == {"1371", "137101", "1371011001", "1371011002", "137102", "1371021001"}
    assert Region.objects.within("").count() == len(regions)
    # 13 must not pick up 131x-less neighbours such as 14 (Riau).
    assert "14" not in set(Region.objects.within("13").values_list("digits", flat=True))


def test_full_name_adds_kind_except_for_kab_kota(regions: dict[str, Region]) -> None:
    assert regions["1371"].full_name == "Kota Padang"
    assert regions["137101"].full_name == "Kecamatan Bungus Teluk Kabung"
    assert regions["1371011001"].full_name == "Kelurahan Bungus Barat"
    assert regions["13"].full_name == "Provinsi Sumatera Barat"


def test_prefix_q_is_a_range_and_handles_an_all_nines_prefix() -> None:
    from terpadu.regions.models import prefix_q

    assert prefix_q("region_code", "") == __import__("django.db.models", fromlist=["Q"]).Q()
    q = str(prefix_q("region_code", "1371"))
    assert "region_code__gte', '1371'" in q and "region_code__lt', '1372'" in q
    # No upper bound when incrementing would overflow the width (was `__lt=None` before).
    assert "__lt" not in str(prefix_q("region_code", "99"))
