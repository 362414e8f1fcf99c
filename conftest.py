"""Shared test cast, tied to a small real region tree (style.md §6).

Kota Padang (13.71) with two kecamatan; a sibling city (13.72 Solok) as "elsewhere".
Users: one per role, each bound to the region its role lives at. Tests read like
"operator_desa of Desa A cannot see Desa B".
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings

from terpadu.regions.models import Kind, Level, Region

TREE = [
    # digits, name, level, kind, parent digits
    ("13", "Sumatera Barat", Level.PROVINSI, Kind.PROVINSI, None),
    ("1371", "Kota Padang", Level.KABKOTA, Kind.KOTA, "13"),
    ("137101", "Bungus Teluk Kabung", Level.KECAMATAN, Kind.KECAMATAN, "1371"),
    ("1371011001", "Bungus Barat", Level.DESA, Kind.KELURAHAN, "137101"),
    ("1371011002", "Bungus Timur", Level.DESA, Kind.KELURAHAN, "137101"),
    ("137102", "Lubuk Kilangan", Level.KECAMATAN, Kind.KECAMATAN, "1371"),
    ("1371021001", "Bandar Buat", Level.DESA, Kind.KELURAHAN, "137102"),
    ("1372", "Kota Solok", Level.KABKOTA, Kind.KOTA, "13"),
    ("137201", "Lubuk Sikarah", Level.KECAMATAN, Kind.KECAMATAN, "1372"),
    ("1372011001", "Tanah Garam", Level.DESA, Kind.KELURAHAN, "137201"),
    ("14", "Riau", Level.PROVINSI, Kind.PROVINSI, None),
    ("1471", "Kota Pekanbaru", Level.KABKOTA, Kind.KOTA, "14"),
]


def _display(digits: str) -> str:
    parts = [digits[0:2], digits[2:4], digits[4:6], digits[6:10]]
    return ".".join(p for p in parts if p)


@pytest.fixture(autouse=True)
def _fast_hasher(settings: settings) -> None:  # type: ignore[valid-type]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def regions(db: None) -> dict[str, Region]:
    """The small tree above, keyed by digits (existing rows are reused)."""
    out: dict[str, Region] = {}
    for digits, name, level, kind, parent in TREE:
        region, _ = Region.objects.get_or_create(
            digits=digits,
            valid_from=dt.date(2025, 4, 25),
            defaults={
                "code": _display(digits),
                "name": name,
                "level": level,
                "kind": kind,
                "parent": out.get(parent) if parent else None,
            },
        )
        out[digits] = region
    return out


ROLE_REGION = {
    "operator_desa": "1371011001",
    "enumerator": "1371011001",
    "operator_kecamatan": "137101",
    "verifikator_kabkota": "1371",
    "admin_kabkota": "1371",
    "operator_provinsi": "13",
    "admin_provinsi": "13",
    "pusat": None,
    "auditor": None,
}


@pytest.fixture
def make_user(regions: dict[str, Region]):  # type: ignore[no-untyped-def]
    """make_user(role, region_digits=<role default>, **fields) -> User."""
    from terpadu.accounts.models import User

    counter = {"n": 0}

    def make(role: str, region: str | None = "default", **fields):  # type: ignore[no-untyped-def]
        counter["n"] += 1
        digits = ROLE_REGION[role] if region == "default" else region
        return User.objects.create_user(
            username=fields.pop("username", f"{role}{counter['n']}"),
            password=fields.pop("password", "rahasia-uji-123"),
            role=role,
            region=regions[digits] if digits else None,
            **fields,
        )

    return make


@pytest.fixture
def cast(make_user):  # type: ignore[no-untyped-def]
    """One user per role in Kota Padang (desa roles in Bungus Barat), plus outsiders."""
    users = {role: make_user(role) for role in ROLE_REGION}
    users["outsider_desa"] = make_user("operator_desa", "1372011001", username="outsider_desa")
    users["outsider_kab"] = make_user("admin_kabkota", "1372", username="outsider_kab")
    return users


@pytest.fixture(autouse=True)
def _fresh_region_caches() -> None:
    """known_prefixes() is cached per process; tests create and drop regions freely."""
    from terpadu.regions.queries import clear_region_caches

    clear_region_caches()
