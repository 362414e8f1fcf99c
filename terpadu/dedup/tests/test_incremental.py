"""Checks at entry: the planted match comes back, unrelated persons do not."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from terpadu.dedup.incremental import Candidate, match_records
from terpadu.dedup.models import DedupModel
from terpadu.dedup.tests.conftest import entry as _entry
from terpadu.registry.models import ChangeSet, Person

pytestmark = pytest.mark.django_db


def test_planted_match_found_and_unrelated_not(siti: Person, dedup_model: DedupModel) -> None:
    unrelated = _entry(
        name="Rahmat Hidayat", sex=1, mother_name="Nurlela", birth_date=dt.date(1990, 2, 2)
    )
    found, nothing = match_records([_entry(), unrelated], scope_prefix="1371")
    assert [c.person_id for c in found] == [siti.pk]
    best = found[0]
    assert isinstance(best, Candidate) and best.probability >= 0.8
    assert best.masked_nik and "*" in best.masked_nik and best.masked_nik != siti.nik
    assert "tanggal dan bulan tertukar" in best.reasons
    assert best.name == siti.name and best.region_code == "1371011001"
    assert nothing == []


def test_same_birth_date_alone_is_not_a_match(siti: Person, dedup_model: DedupModel) -> None:
    # Budi Santoso shares Siti's birth date and desa: prefiltered, scored, not returned.
    [found] = match_records(
        [_entry(name="Budi Susanto", sex=1, mother_name="Siti Zubaidah", birth_place="Solok")],
        scope_prefix="1371",
    )
    assert all(c.name != "Budi Santoso" or c.probability >= 0.8 for c in found)
    assert siti.pk not in [c.person_id for c in found]


def test_exact_nik_first_even_without_a_model(siti: Person) -> None:
    assert not DedupModel.objects.exists()
    [found] = match_records(
        [_entry(nik=siti.nik, name="Orang Lain", birth_date=None)], scope_prefix="1372"
    )
    assert [c.person_id for c in found] == [siti.pk]
    assert found[0].reasons == ["NIK sama"]


def test_scope_bounds_the_probabilistic_search(siti: Person, dedup_model: DedupModel) -> None:
    [found] = match_records([_entry()], scope_prefix="1372")
    assert found == []


def test_batch_keeps_order_and_inactive_persons_are_ignored(
    siti: Person, dedup_model: DedupModel, cast: Any
) -> None:
    batch = [_entry(name="Tidak Ada", mother_name="X", birth_date=dt.date(2001, 1, 1))] * 3
    batch.insert(1, _entry())
    results = match_records(batch, scope_prefix="1371")
    assert [len(r) for r in results] == [0, 1, 0, 0]
    changeset = ChangeSet.objects.create(reason="uji", source=ChangeSet.Source.SYSTEM)
    Person.objects.filter(pk=siti.pk).update(status="nonaktif")
    assert changeset.pk and match_records([_entry()], scope_prefix="1371") == [[]]


def test_empty_batch() -> None:
    assert match_records([], scope_prefix="1371") == []
