"""Overlapping bulk writes (registry.bulkpipe): order, errors, ids, and the inline fallback."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from terpadu.registry import bulkpipe, records
from terpadu.registry.models import Household

postgres_only = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the writer thread is used on PostgreSQL"
)


def _households(regions: Any, n: int) -> Any:
    frame = pl.DataFrame(
        {
            "id": records.reserve_ids(Household, n),
            "region_id": [regions["1371011001"].pk] * n,
            "region_code": ["1371011001"] * n,
            "address": [f"Jl. Pipa {i}" for i in range(n)],
        }
    )
    return records._full_rows(Household, frame, now=timezone.now(), ids=True)


@pytest.mark.django_db
def test_sqlite_writes_inline() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with transaction.atomic(), bulkpipe.pipeline() as pipe:
        assert pipe is None and bulkpipe.current() is None


@pytest.mark.django_db
@postgres_only
def test_a_query_sees_the_queued_writes(regions: Any) -> None:
    before = Household.objects.count()
    with transaction.atomic(), bulkpipe.pipeline() as pipe:
        assert pipe is not None and bulkpipe.current() is pipe
        records._write_frame(Household, _households(regions, 3))
        records._write_frame(Household, _households(regions, 2))
        # The count waits for both COPYs (the drain wrapper), then runs after them.
        assert Household.objects.count() == before + 5
    assert bulkpipe.current() is None
    assert Household.objects.filter(address__startswith="Jl. Pipa").count() == 5


@pytest.mark.django_db
@postgres_only
def test_a_writer_error_surfaces_and_nothing_stays(regions: Any) -> None:
    before = Household.objects.count()
    bad = _households(regions, 1).with_columns(pl.lit("x" * 300).alias("address"))  # > 255

    with pytest.raises(DatabaseError), transaction.atomic(), bulkpipe.pipeline():
        records._write_frame(Household, _households(regions, 2))
        records._write_frame(Household, bad)
        records._write_frame(Household, _households(regions, 2))  # skipped: stopped
        Household.objects.count()  # raises the writer's failure
    assert Household.objects.count() == before


@pytest.mark.django_db
@postgres_only
def test_a_failure_is_raised_on_leaving_the_block_too(regions: Any) -> None:
    bad = _households(regions, 1).with_columns(pl.lit("x" * 300).alias("address"))
    with pytest.raises(DatabaseError), transaction.atomic(), bulkpipe.pipeline():
        records._write_frame(Household, bad)  # no query after it: the exit raises


@pytest.mark.django_db
@postgres_only
def test_ids_are_drawn_beside_the_queue(regions: Any) -> None:
    with transaction.atomic(), bulkpipe.pipeline() as pipe:
        records._write_frame(Household, _households(regions, 2))
        ids = records.reserve_ids(Household, 3)  # the side connection: no wait
        assert len(set(ids)) == 3
        pipe.drain()
        assert not Household.objects.filter(pk__in=ids).exists()
