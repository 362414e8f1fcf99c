"""Registry test helpers: households built through the real write path (records.py)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from terpadu.lib.nik import compose_nik, compose_no_kk
from terpadu.registry import records

_serial = itertools.count(1)


def member(
    name: str,
    *,
    sex: int = 1,
    born: dt.date = dt.date(1985, 3, 14),
    relation: int = 3,
    region6: str = "137101",
    **extra: Any,
) -> dict[str, Any]:
    """Person fields with a NIK that passes the rules (unique serial per test session)."""
    return {
        "name": name,
        "sex": sex,
        "birth_date": born,
        "relation_kk": relation,
        "relation_ruta": relation,
        "nik": compose_nik(region6, born, sex, next(_serial) % 9999 + 1),
        **extra,
    }


def family(*members: dict[str, Any], region6: str = "137101") -> dict[str, Any]:
    return {
        "no_kk": compose_no_kk(region6, dt.date(2015, 6, 1), next(_serial) % 9999 + 1),
        "members": list(members),
    }


@pytest.fixture
def make_household(cast, regions):  # type: ignore[no-untyped-def]
    """make_household(n_members=3, desa="1371011001", surname="CHANIAGO", by=operator_desa)."""

    def make(
        n_members: int = 3,
        desa: str = "1371011001",
        surname: str = "Chaniago",
        by: Any = None,
        **hh: Any,
    ):  # type: ignore[no-untyped-def]
        by = by or (cast["operator_desa"] if desa == "1371011001" else cast["admin_kabkota"])
        if desa.startswith("1372"):
            by = cast["outsider_kab"]
        head = member(f"Budi {surname}", relation=1, employment_status=6)
        others = [
            member(f"Anak{i} {surname}", sex=1 + i % 2, born=dt.date(2010, 1, 1 + i))
            for i in range(n_members - 1)
        ]
        return records.create_household(
            by=by,
            region=regions[desa],
            household_fields={"address": "Jl. Uji 1", **hh},
            families=[family(head, *others)],
            reason="Data uji",
        )

    return make
