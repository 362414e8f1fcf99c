"""Foreign keys of bulk writes checked as sets (registry.bulkkeys)."""

from __future__ import annotations

import os
from typing import Any

import polars as pl
import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from terpadu.registry import bulkkeys, records
from terpadu.registry.models import ChangeSet, Family, Household, Person
from terpadu.registry.tests.test_records_precleaned import _bundles, _snapshot

postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="session_replication_role is PostgreSQL's"
)


def _role() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_available_only_on_postgresql_with_the_privilege() -> None:
    expected = connection.vendor == "postgresql"  # the test role is a superuser
    assert bulkkeys.available([Household, Person]) is expected


@pytest.mark.django_db
@postgres_only
def test_available_refuses_tables_with_triggers_of_their_own() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION terpadu_noop() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RETURN NEW; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER noop BEFORE INSERT ON registry_family "
            "FOR EACH ROW EXECUTE FUNCTION terpadu_noop()"
        )
    assert bulkkeys.available([Household]) is True
    assert bulkkeys.available([Household, Family]) is False  # replica mode would skip it


@pytest.mark.django_db
@postgres_only
def test_block_switches_triggers_off_and_back_on(regions: Any) -> None:
    with transaction.atomic():
        with bulkkeys.set_checked_keys([Household]) as keys:
            assert keys is not None and _role() == "replica"
        assert _role() == "origin"


@pytest.mark.django_db
def test_keys_of_rows_written_in_the_block_are_checked_in_memory(regions: Any) -> None:
    check = bulkkeys.KeyCheck()
    check.add(Family, pl.DataFrame({"id": [10, 11], "household_id": [5, 5], "head_id": [7, None]}))
    check.add(Household, pl.DataFrame({"id": [5], "region_id": [regions["1371011001"].pk]}))
    check.add(Person, pl.DataFrame({"id": [7], "family_id": [10], "household_id": [5]}))
    check.verify()  # only the region was looked up, and it exists


@pytest.mark.django_db
def test_a_missing_key_is_named(regions: Any) -> None:
    check = bulkkeys.KeyCheck()
    check.add(Person, pl.DataFrame({"id": [7], "family_id": [987654], "household_id": [None]}))
    with pytest.raises(IntegrityError, match=r"family_id\)=\(987654\).*registry_family"):
        check.verify()


@pytest.mark.django_db
@postgres_only
def test_a_bad_key_written_in_the_block_fails_it_and_nothing_stays(regions: Any) -> None:
    """The write goes in without the trigger; leaving the block refuses it, as COMMIT would."""
    before = Household.objects.count()
    frame = pl.DataFrame(
        {
            "id": records.reserve_ids(Household, 1),
            "region_id": [10**9],
            "region_code": ["1371011001"],
        }
    )
    row = records._full_rows(Household, frame, now=timezone.now(), ids=True)
    with (
        pytest.raises(IntegrityError, match="regions_region"),
        transaction.atomic(),
        bulkkeys.set_checked_keys([Household]) as keys,
    ):
        records._write_frame(Household, row, keys)
        assert Household.objects.count() == before + 1  # in, unchecked so far
    assert Household.objects.count() == before
    assert _role() == "origin"


@pytest.mark.django_db
def test_same_rows_with_and_without_set_checks(regions: Any, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    bundles = _bundles(regions)
    a = ChangeSet.objects.create(reason="sets", source=ChangeSet.Source.IMPORT)
    records.create_households_precleaned(a, records.precleaned_from_bundles(bundles))
    monkeypatch.setattr(bulkkeys, "available", lambda models: False)
    b = ChangeSet.objects.create(reason="triggers", source=ChangeSet.Source.IMPORT)
    records.create_households_precleaned(b, records.precleaned_from_bundles(bundles))
    assert _snapshot(a) == _snapshot(b)


@pytest.mark.django_db
@postgres_only
def test_available_follows_the_roles_privilege() -> None:
    """An application role needs `GRANT SET ON PARAMETER` (PostgreSQL 15+); all rolled back."""
    role = f"terpadu_bulk_probe_{os.getpid()}"  # roles are cluster-wide: one per test worker
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
        cursor.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
        cursor.execute(f"SET LOCAL ROLE {role}")
    assert bulkkeys.available([Household]) is False
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
        cursor.execute(f"GRANT SET ON PARAMETER session_replication_role TO {role}")
        cursor.execute(f"SET LOCAL ROLE {role}")
    assert bulkkeys.available([Household]) is True
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")
