"""Reads over the region tree: search, children, lookup, and the code sets NIK checks use."""

from __future__ import annotations

import functools

from django.db.models import Count, Q
from django.db.models.functions import Substr

from terpadu.regions.models import (
    DIGITS_BY_LEVEL,
    Level,
    Region,
    RegionQuerySet,
    level_of,
    to_digits,
)

# Province codes that existed under any Kemendagri regulation since Permendagri 56/2015
# (domain.md §2.3). Before Kepmendagri 100.1.1-6117/2022 Papua had only 91 (Papua) and
# 92 (Papua Barat); 93–96 were carved out of them in 2022. A NIK issued in any of these is
# plausible; one whose first two digits are outside the set is not.
HISTORIC_PROVINCE_CODES: frozenset[str] = frozenset(
    {
        "11", "12", "13", "14", "15", "16", "17", "18", "19", "21",
        "31", "32", "33", "34", "35", "36",
        "51", "52", "53",
        "61", "62", "63", "64", "65",
        "71", "72", "73", "74", "75", "76",
        "81", "82",
        "91", "92", "93", "94", "95", "96",
    }
)  # fmt: skip


def search_regions(
    q: str, *, within: str = "", level: int | None = None, limit: int = 20
) -> list[Region]:
    """Current regions matching `q`, broad levels first.

    `q` made only of digits, dots and spaces (``13.71``, ``1371``) is a code prefix;
    anything else matches the name case-insensitively. `within` (digits) restricts to a
    subtree — callers pass the user's scope here. Parents are fetched along so a result can
    be labelled "Bungus Barat — Bungus Teluk Kabung, Kota Padang" without more queries.
    """
    q = " ".join(q.split())
    if not q:
        return []
    qs = Region.objects.current().within(within)
    if level is not None:
        qs = qs.filter(level=level)
    if q.replace(".", "").replace(" ", "").isdigit():
        digits = to_digits(q)
        if len(digits) > DIGITS_BY_LEVEL[Level.DESA]:
            return []
        qs = qs.within(digits)
    else:
        qs = qs.filter(name__icontains=q)
    qs = qs.select_related("parent", "parent__parent").order_by("level", "name", "digits")
    return list(qs[:limit])


def children_of(digits: str) -> RegionQuerySet:
    """Current regions one level below `digits` ("" = the provinces), by code order.

    Found by code prefix, not by the parent link, so the answer does not depend on which
    version of the parent row a child happens to point at.
    """
    if not digits:
        return Region.objects.current().filter(level=Level.PROVINSI)
    level = level_of(digits)
    if level is None or level == Level.DESA:
        return Region.objects.none()
    return Region.objects.current().within(digits).filter(level=level + 1)


def child_counts(digits: str, *, within: str = "") -> dict[str, int]:
    """For each child of `digits`, how many current children it has (one query).

    `within` restricts the grandchildren counted to a subtree (the user's scope).
    """
    level = level_of(digits) if digits else 0
    if level is None or level >= Level.KECAMATAN:
        return {}
    width = DIGITS_BY_LEVEL[Level(level + 1)]
    rows = (
        Region.objects.current()
        .within(digits)
        .within(within)
        .filter(level=level + 2)
        .annotate(child=Substr("digits", 1, width))
        .values("child")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["child"]: row["n"] for row in rows}


def region_by_code(code: str) -> Region | None:
    """The current region with this code (``13.71`` or ``1371``), or None."""
    digits = to_digits(code)
    if level_of(digits) is None:
        return None
    return Region.objects.current().filter(digits=digits).first()


def ancestors_of(digits: str) -> list[Region]:
    """Current regions on the path from the province down to `digits` itself (one query)."""
    prefixes = [digits[:width] for width in DIGITS_BY_LEVEL.values() if width <= len(digits)]
    if not prefixes:
        return []
    return list(Region.objects.current().filter(digits__in=prefixes).order_by("level"))


def narrower_prefix(a: str, b: str) -> str | None:
    """The longer of two nested code prefixes, or None when the subtrees do not overlap.

    ``narrower_prefix("13", "1371") == "1371"``; ``narrower_prefix("13", "14") is None``.
    """
    if a.startswith(b):
        return a
    if b.startswith(a):
        return b
    return None


@functools.lru_cache(maxsize=1)
def known_prefixes() -> frozenset[str]:
    """Province, kab/kota and kecamatan codes (digits) in the table, any version.

    Cached per process: NIK validation asks for every row of an import. Call
    `clear_region_caches()` after changing the table (the loader does, on commit).
    """
    qs = Region.objects.filter(~Q(level=Level.DESA)).values_list("digits", flat=True)
    return frozenset(qs.distinct())


def clear_region_caches() -> None:
    """Forget cached code sets (after a load, and between tests)."""
    known_prefixes.cache_clear()
