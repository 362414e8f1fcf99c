"""Set-based registry writes used by the monthly determination."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from terpadu.registry import records
from terpadu.registry.models import Change, ChangeSet, Family, FamilyMembership, Household, Person
from terpadu.registry.tests import conftest as registry_fixtures
from terpadu.registry.tests.conftest import family, member

# Shared fixtures from the registry and proposals tests.
make_household = registry_fixtures.make_household


@pytest.mark.django_db
def test_write_rows_bulk_one_statement_per_field_set(make_household: Any) -> None:
    a, b, c = make_household(3).members.order_by("member_no")
    hh = Household.objects.get(pk=a.household_id)
    rows = {
        a.pk: {"birth_date": dt.date(1990, 1, 2), "pregnant": True, "nik": None},
        b.pk: {"birth_date": dt.date(1991, 3, 4), "pregnant": False, "nik": None},
        c.pk: {"occupation": "Nelayan"},
    }
    with CaptureQueriesContext(connection) as ctx:
        assert records.write_rows_bulk(Person, rows, penetapan_period="2026-03") == 2
    assert len(ctx.captured_queries) == 2
    a.refresh_from_db()
    assert (a.birth_date, a.pregnant, a.nik, a.penetapan_period) == (
        dt.date(1990, 1, 2),
        True,
        None,
        "2026-03",
    )
    c.refresh_from_db()
    assert c.occupation == "Nelayan" and c.penetapan_period == "2026-03"
    records.write_rows_bulk(Household, {hh.pk: {"latitude": Decimal("-0.950001")}})
    hh.refresh_from_db()
    assert hh.latitude == Decimal("-0.950001")


@pytest.mark.django_db
def test_create_households_bulk_same_rules_fixed_queries(regions: Any) -> None:
    changeset = ChangeSet.objects.create(reason="uji", source=ChangeSet.Source.PROPOSAL)

    def bundles(n: int) -> list[records.HouseholdBundle]:
        return [
            records.HouseholdBundle(
                key=f"b{i}",
                region=regions["1371011001"],
                families=[family(member(f"Kepala {i}", relation=1), member(f"Anak {i}"))],
            )
            for i in range(n)
        ]

    with CaptureQueriesContext(connection) as small:
        records.create_households_bulk(changeset, bundles(2), stamp={"penetapan_period": "2026-03"})
    with CaptureQueriesContext(connection) as large:
        # (SQLite caps a bulk INSERT at 999 parameters, ≈ 15 persons: stay inside a batch)
        created = records.create_households_bulk(changeset, bundles(6))
    assert len(small.captured_queries) == len(large.captured_queries)
    assert len(created.persons) == 12
    fam = Family.objects.get(pk=created.families[3].pk)
    assert fam.head.name == "Kepala 3"
    assert Person.objects.get(pk=created.persons[0].pk).name_norm == "KEPALA 0"
    assert FamilyMembership.objects.filter(person__in=created.persons).count() == 12
    assert Change.objects.filter(changeset=changeset, action="create").count() == 4 * (
        2 + 6
    )  # ruta, KK, 2 ART per bundle
    assert Household.objects.filter(penetapan_period="2026-03").count() == 2


@pytest.mark.django_db
def test_create_households_bulk_refuses_every_bad_bundle(regions: Any) -> None:
    changeset = ChangeSet.objects.create(reason="uji", source=ChangeSet.Source.PROPOSAL)
    bad = records.HouseholdBundle(
        key="usulan #9",
        region=regions["1371011001"],
        families=[{"members": [{"name": "X", "sex": 3, "nik": "123"}]}],
    )
    with pytest.raises(records.RegistryError) as refused:
        records.create_households_bulk(changeset, [bad])
    assert all(i.path.startswith("usulan #9.") for i in refused.value.errors)
    assert not Household.objects.exists()


@pytest.mark.django_db
def test_write_changes_bulk_one_statement_in_index_order(regions: Any) -> None:
    changeset = ChangeSet.objects.create(reason="uji", source=ChangeSet.Source.PROPOSAL)
    rows = [
        ("person", 9, "1371011001", Change.Action.DEACTIVATE, {"status": ["aktif", "nonaktif"]}),
        ("household", 4, "1371011001", "update", {"address": ["Jl. Lama", "Jl. Baru ’A’"]}),
        (
            "person",
            2,
            "1371011002",
            "update",
            {"birth_date": ["1990-01-02", None], "desil": [1, 2]},
        ),
    ]
    with CaptureQueriesContext(connection) as ctx:
        assert records.write_changes_bulk(changeset, rows) == 3
    assert len(ctx.captured_queries) == 1  # COPY on PostgreSQL, one INSERT elsewhere
    stored = list(
        Change.objects.filter(changeset=changeset)
        .order_by("id")
        .values_list("entity", "entity_id", "region_code", "action", "diff")
    )
    assert stored == [  # in the history index's order: (entity_id, entity)
        (
            "person",
            2,
            "1371011002",
            "update",
            {"birth_date": ["1990-01-02", None], "desil": [1, 2]},
        ),
        ("household", 4, "1371011001", "update", {"address": ["Jl. Lama", "Jl. Baru ’A’"]}),
        ("person", 9, "1371011001", "deactivate", {"status": ["aktif", "nonaktif"]}),
    ]
    assert records.write_changes_bulk(changeset, []) == 0


@pytest.mark.django_db
def test_insert_rows_bulk_sets_pks_like_bulk_create(regions: Any) -> None:
    desa = regions["1371011001"]
    objs = [
        Household(
            region=desa, region_code=desa.digits, address=f"Jl. {i}", latitude=Decimal("-0.5")
        )
        for i in range(3)
    ]
    with CaptureQueriesContext(connection) as ctx:
        created = records.insert_rows_bulk(Household, objs)
    assert len(ctx.captured_queries) <= 2  # ids + COPY on PostgreSQL, one INSERT elsewhere
    assert created == objs and all(o.pk and not o._state.adding for o in objs)
    stored = Household.objects.in_bulk([o.pk for o in objs])
    assert [stored[o.pk].address for o in objs] == ["Jl. 0", "Jl. 1", "Jl. 2"]
    assert stored[objs[0].pk].latitude == Decimal("-0.5")
    assert stored[objs[0].pk].created_at is not None
    # the table's sequence moved past the ids taken
    later = Household.objects.create(region=desa, region_code=desa.digits, address="Jl. 3")
    assert later.pk > max(o.pk for o in objs)
