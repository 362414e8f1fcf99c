"""Usulan baru payloads built from pre-validated (dry-run) bundles equal the re-validated ones."""

from __future__ import annotations

import datetime as dt

import pytest

from terpadu.imports.models import JobStatus
from terpadu.proposals import bulk, creation
from terpadu.proposals.models import Proposal

from .engine_helpers import _imports_env, applied, households, kk, nik, person, validated, write_csv  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(cast):  # type: ignore[no-untyped-def]
    return cast["admin_kabkota"]


def _warning_rows() -> list[dict]:
    rows = households(2, size=3)
    # NIK says male born 17-05-1980, the row says female (sex_mismatch) ...
    rows[0]["JK"] = "2"
    # ... and another birth date (birth_date_mismatch).
    rows[1]["TGL_LAHIR"] = "01-01-1990"
    # Household 3: a family without a head (kk_tanpa_kepala / no_head), one member no NIK.
    rows += [person(3, 2), person(3, 3, NIK="")]
    # Household 4: two families, the second headless.
    rows += [person(4, 1), person(4, 2, NO_KK=kk(41), HUB_KELUARGA="3")]
    return rows


def test_payloads_equal_on_warning_cases(admin, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(tmp_path / "warn.csv", _warning_rows())
    job = validated(admin, regions["1371"], path)
    assert job.rows_invalid == 0, job.summary
    job = applied(admin, job)
    assert job.status == JobStatus.APPLIED, job.error_id
    proposals = list(Proposal.objects.order_by("pk"))
    assert len(proposals) == 4
    codes = set()
    for p in proposals:
        # The re-validating path (propose_new_household's) on the stored bundle.
        again, summary = creation._new_household_payload(
            p.region, p.payload["household_fields"], p.payload["families"]
        )
        mine = {k: v for k, v in p.payload.items() if k != "source"}
        assert mine == again and p.summary == summary
        codes |= {w["code"] for w in again["warnings"]}
    assert {"sex_mismatch", "birth_date_mismatch", "no_head"} <= codes


def test_typed_bundles_both_paths(regions) -> None:  # type: ignore[no-untyped-def]
    desa = regions["1371011001"]
    born = dt.date(1980, 5, 17)
    families = [
        {
            "no_kk": kk(5),
            "members": [
                {
                    "nik": nik(51, sex=1, born=born),
                    "name": "A",
                    "sex": 2,
                    "birth_date": born,
                    "relation_kk": 1,
                },
                {
                    "nik": nik(52, sex=2, born=born),
                    "name": "B",
                    "sex": 2,
                    "birth_date": dt.date(1991, 2, 3),
                    "relation_kk": 3,
                },
            ],
        },
        {"no_kk": kk(6), "members": [{"name": "C", "sex": 1, "relation_kk": 4}]},
    ]
    hh = {"address": "Jl. Uji 1", "rt": "001"}
    fast = bulk.new_household_payload(desa, hh, families, precleaned=True)
    slow = bulk.new_household_payload(desa, hh, families)
    assert fast == slow
    assert {w["code"] for w in fast[0]["warnings"]} >= {
        "sex_mismatch",
        "birth_date_mismatch",
        "no_head",
    }
