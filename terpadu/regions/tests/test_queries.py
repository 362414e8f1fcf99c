from __future__ import annotations

import pytest

from terpadu.regions.models import Level, Region
from terpadu.regions.queries import (
    HISTORIC_PROVINCE_CODES,
    ancestors_of,
    child_counts,
    children_of,
    known_prefixes,
    narrower_prefix,
    region_by_code,
    search_regions,
)


def digits_of(regions: list[Region]) -> list[str]:
    return [r.digits for r in regions]


def test_search_by_name_is_case_insensitive_and_broad_levels_first(
    regions: dict[str, Region],
) -> None:
    assert digits_of(search_regions("bungus")) == ["137101", "1371011001", "1371011002"]
    assert digits_of(search_regions("KOTA")) == ["1371", "1471", "1372"]


def test_search_by_code_accepts_digits_or_dotted_prefix(regions: dict[str, Region]) -> None:
    dotted = digits_of(search_regions("13.71.01"))
    assert dotted == ["137101", "1371011001", "1371011002"]
    assert digits_of(search_regions("137101")) == dotted
    assert digits_of(search_regions("13.71.01.1002")) == ["1371011002"]
    assert search_regions("13710110021") == []


def test_search_respects_within_level_and_limit(regions: dict[str, Region]) -> None:
    assert digits_of(search_regions("kota", within="14")) == ["1471"]
    assert digits_of(search_regions("13", level=Level.KECAMATAN)) == ["137101", "137102", "137201"]
    assert len(search_regions("13", limit=2)) == 2
    assert search_regions("   ") == []


def test_search_skips_retired_versions(regions: dict[str, Region]) -> None:
    Region.objects.filter(digits="1371011002").update(valid_to="2026-01-01")
    assert digits_of(search_regions("Bungus Timur")) == []


def test_children_of_walks_one_level_down(regions: dict[str, Region]) -> None:
    assert digits_of(list(children_of(""))) == ["13", "14"]
    assert digits_of(list(children_of("13"))) == ["1371", "1372"]
    assert digits_of(list(children_of("137101"))) == ["1371011001", "1371011002"]
    assert list(children_of("1371011001")) == []


def test_child_counts_counts_grandchildren_in_one_query(
    regions: dict[str, Region],
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    with django_assert_num_queries(1):
        assert child_counts("1371") == {"137101": 2, "137102": 1}
    assert child_counts("") == {"13": 2, "14": 1}
    assert child_counts("13", within="1371") == {"1371": 2}


def test_region_by_code_and_ancestors(regions: dict[str, Region]) -> None:
    assert region_by_code("13.71.01.1001") == regions["1371011001"]
    assert region_by_code("1371") == regions["1371"]
    assert region_by_code("99") is None
    assert region_by_code("137") is None
    assert digits_of(ancestors_of("1371011001")) == ["13", "1371", "137101", "1371011001"]


def test_narrower_prefix() -> None:
    assert narrower_prefix("13", "1371") == "1371"
    assert narrower_prefix("1371", "") == "1371"
    assert narrower_prefix("13", "14") is None


def test_known_prefixes_covers_every_version_and_is_cached(
    regions: dict[str, Region],
    django_assert_num_queries,  # type: ignore[no-untyped-def]
) -> None:
    Region.objects.filter(digits="137201").update(valid_to="2026-01-01")
    with django_assert_num_queries(1):
        prefixes = known_prefixes()
        assert known_prefixes() is prefixes
    assert {"13", "1371", "137101", "137201", "14", "1471"} <= prefixes
    assert "1371011001" not in prefixes


def test_historic_province_codes_include_pre_2022_papua() -> None:
    assert {"91", "92"} <= HISTORIC_PROVINCE_CODES
    assert len(HISTORIC_PROVINCE_CODES) == 38
    assert "54" not in HISTORIC_PROVINCE_CODES


pytestmark = pytest.mark.django_db
