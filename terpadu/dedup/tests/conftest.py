"""Dedup test helpers: a small registry with planted duplicates, built through the real
bulk write path (records.create_households_bulk), and a model trained once per session on
synthetic data (a few seconds in DuckDB, no database)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import polars as pl
import pytest

from terpadu.dedup import model as dm
from terpadu.dedup import synthetic
from terpadu.dedup.models import DedupModel
from terpadu.registry import records
from terpadu.registry.models import ChangeSet, Person
from terpadu.registry.tests.conftest import family, member

PADANG_DESA = ["1371011001", "1371011002", "1371021001"]


@pytest.fixture(scope="session")
def trained_params() -> dict[str, Any]:
    """Splink model trained on 6 000 synthetic persons (cached for the session)."""
    recs = synthetic.generate(6000, seed=11, codes=synthetic.desa_codes(4, 4, 5))
    feats = dm.features(pl.DataFrame(recs, infer_schema_length=None).drop("cluster_id"))
    con = duckdb.connect()
    try:
        table = dm.load_features(con, feats)
        return dm.train(con, table, max_pairs=5e5)
    finally:
        con.close()


@pytest.fixture
def dedup_model(db: None, trained_params: dict[str, Any]) -> DedupModel:
    return DedupModel.objects.create(version=1, params=trained_params, scope="")


def bundle(key: str, region: Any, rec: dict[str, Any]) -> records.HouseholdBundle:
    """One single-person household from a synthetic record (NIK left out: synthetic NIKs
    with typos would not pass the registry's NIK rules, and dedup must work without NIK)."""
    person = {
        "name": rec["name"],
        "sex": rec["sex"],
        "birth_date": rec["birth_date"],
        "birth_place": rec["birth_place"] or "",
        "mother_name": rec["mother_name"] or "",
        "relation_kk": 1,
        "relation_ruta": 1,
    }
    return records.HouseholdBundle(
        key=key,
        region=region,
        families=[{"members": [person]}],
        household_fields={"address": rec["address"]},
    )


@pytest.fixture
def registry_with_duplicates(regions: dict[str, Any]) -> dict[str, Any]:
    """240 synthetic persons in Kota Padang's three desa (≈10 % duplicates) plus 5 in Kota
    Solok. Returns {"truth": {person_id: cluster_id}, "persons": [...], "solok": [...]}."""
    recs = synthetic.generate(240, seed=5, codes=PADANG_DESA)
    changeset = ChangeSet.objects.create(reason="uji dedup", source=ChangeSet.Source.PROPOSAL)
    created = records.create_households_bulk(
        changeset,
        [bundle(f"r{r['unique_id']}", regions[r["region_code"]], r) for r in recs],
        batch_size=50,
    )
    solok_recs = synthetic.generate(5, seed=9, codes=["1372011001"])
    solok = records.create_households_bulk(
        changeset,
        [bundle(f"s{r['unique_id']}", regions["1372011001"], r) for r in solok_recs],
        batch_size=50,
    )
    truth = {p.pk: rec["cluster_id"] for p, rec in zip(created.persons, recs, strict=True)}
    return {"truth": truth, "persons": created.persons, "records": recs, "solok": solok.persons}


@pytest.fixture
def siti(regions: Any, cast: Any) -> Person:
    """Siti Nurhayati of Bungus Barat, with a NIK, among a few unrelated neighbours."""
    head = member(
        "Hj. Siti Nurhayati",
        sex=2,
        born=dt.date(1980, 7, 3),
        relation=1,
        birth_place="Padang",
        mother_name="Rosmaniar",
    )
    others = [
        member("Budi Santoso", born=dt.date(1980, 7, 3), mother_name="Aminah"),
        member("Siti Aminah", sex=2, born=dt.date(1975, 1, 9), mother_name="Yusnidar"),
    ]
    records.create_household(
        by=cast["operator_desa"],
        region=regions["1371011001"],
        household_fields={"address": "Jl. Bungus Raya No. 5"},
        families=[family(head, *others)],
        reason="uji",
    )
    return Person.objects.get(name="Hj. Siti Nurhayati")


def entry(**over: Any) -> dict[str, Any]:
    rec = {
        "nik": None,
        "name": "SITI NUR HAYATI",
        "birth_date": dt.date(1980, 3, 7),  # day and month swapped
        "birth_place": "Kota Padang",
        "mother_name": "Rosmaniar",
        "sex": 2,
        "region_code": "1371011001",
        "address": "Jalan Bungus Raya No 5",
    }
    return {**rec, **over}
