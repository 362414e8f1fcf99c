"""The synthetic generator: reproducible, labelled, duplicates really are dirty copies."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from terpadu.dedup import synthetic
from terpadu.dedup.names import name_key


def _swapped(a: dt.date | None, b: dt.date | None) -> bool:
    return bool(a and b and a != b and (a.day, a.month) == (b.month, b.day))


def test_generator_truth_and_reproducibility() -> None:
    recs = synthetic.generate(3000, seed=3)
    assert recs == synthetic.generate(3000, seed=3)
    assert [r["unique_id"] for r in recs] == list(range(1, 3001))
    assert set(recs[0]) == set(synthetic.FIELDS)
    by_id = {r["unique_id"]: r for r in recs}
    clusters = Counter(r["cluster_id"] for r in recs)
    dups = [r for r in recs if r["cluster_id"] != r["unique_id"]]
    assert 200 < len(dups) < 400  # ≈ 10 %
    # Every duplicate points at an original (its own cluster root), same sex.
    for d in dups:
        root = by_id[d["cluster_id"]]
        assert root["cluster_id"] == root["unique_id"] and root["sex"] == d["sex"]
    assert max(clusters.values()) >= 2
    # Duplicates carry the planned errors in realistic proportions.
    roots = [by_id[d["cluster_id"]] for d in dups]
    pairs = list(zip(dups, roots, strict=True))
    changed_name = sum(d["name"].upper() != r["name"] for d, r in pairs)
    swapped = sum(_swapped(d["birth_date"], r["birth_date"]) for d, r in pairs)
    no_nik = sum(d["nik"] is None for d in dups)
    moved = sum(d["region_code"] != r["region_code"] for d, r in pairs)
    assert changed_name > len(dups) * 0.3 and swapped > 5 and no_nik > len(dups) * 0.2
    assert moved > len(dups) * 0.1
    # Most changed names still fold to the original's key or close to it.
    same_key = sum(name_key(d["name"]) == name_key(r["name"]) for d, r in pairs)
    assert same_key > len(dups) * 0.5


def test_codes_are_respected() -> None:
    codes = ["1371011001", "1371011002"]
    assert {r["region_code"] for r in synthetic.generate(200, codes=codes)} <= set(codes)
    assert len(synthetic.desa_codes(2, 3, 4)) == 24
