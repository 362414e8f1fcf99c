"""Editions cost O(changes): a registry row's previous state is copied only when a
determination is about to change it.

Every household, family and person carries `penetapan_period`: the edition whose determination
made its current state valid ('' = a state older than every edition). When edition E changes a
row, `copy_versions` first copies the row as it is into its version table (same data columns,
see the abstract ``*Data`` models in registry.models) with ``valid_from = penetapan_period``
and ``valid_to = E``; the row is then changed and stamped ``penetapan_period = E``. Rows that
E creates get ``penetapan_period = E`` and no version. So the state as of edition P is: the
current rows with ``penetapan_period <= P`` plus the versions with
``valid_from <= P < valid_to`` (asof.py). Nothing is copied per month.

Changes made outside a determination (a superuser's audited correction in the admin, demo
loads, imports) are not versioned: they rewrite the current row without moving its
`penetapan_period`, so they also show in past editions that still read that row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection, models

from terpadu.editions.models import FamilyVersion, HouseholdVersion, PersonVersion
from terpadu.registry import records
from terpadu.registry.models import Family, Household, Person
from terpadu.registry.records import ids_condition

VERSION_OF: dict[type[models.Model], type[models.Model]] = {
    Household: HouseholdVersion,
    Family: FamilyVersion,
    Person: PersonVersion,
}
_INTERVAL = frozenset({"id", "record", "valid_from", "valid_to"})


def data_columns(version_model: type[models.Model]) -> list[str]:
    """The columns a version shares with its registry row (every one but the interval)."""
    return [f.column for f in version_model._meta.concrete_fields if f.name not in _INTERVAL]


def copy_versions(model: type[models.Model], ids: Sequence[int], edition: str) -> int:
    """Copy the rows `ids` of `model` as they are now into its version table, valid until
    `edition`: ONE ``INSERT … SELECT`` whatever the number of rows. Returns rows copied.

    The column list is built from model meta, so a field added to the shared abstract model
    is copied without touching this code.
    """
    if not ids:
        return 0
    version = VERSION_OF[model]
    q = connection.ops.quote_name
    columns = ", ".join(q(c) for c in data_columns(version))
    where, params = ids_condition(q(model._meta.pk.column), ids)
    sql = (
        f"INSERT INTO {q(version._meta.db_table)} "  # noqa: S608 — names from model meta
        f"({q('record_id')}, {q('valid_from')}, {q('valid_to')}, {columns}) "
        f"SELECT {q(model._meta.pk.column)}, {q('penetapan_period')}, %s, {columns} "
        f"FROM {q(model._meta.db_table)} WHERE {where}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [edition, *params])
        return cursor.rowcount


def update_with_versions(
    model: type[models.Model],
    rows: Mapping[int, Mapping[str, Any]],
    edition: str,
    **constants: Any,
) -> int:
    """Version the rows `rows` (copy them as they are, valid until `edition`), then write
    their new values: ``{pk: {field name: value}}`` plus the same `constants` on every row,
    as `records.write_rows_bulk` would. Returns the number of rows versioned.

    PostgreSQL: ONE statement for all the rows, whatever fields each changes. The UPDATE
    joins ``unnest`` of the ids, one value array and one "set" mask per column (a row that
    does not change a column keeps the table's value), and the table itself as ``o`` —
    read with the statement's snapshot, i.e. the row before the update — whose columns it
    RETURNs into the version INSERT. One pass in id order means every page of the table
    and of its id-ordered indexes (primary key, household, family) is changed once, in one
    burst: with one statement per set of changed fields each pass changed the same index
    pages again, and a checkpoint between two passes (a 1 % month at 10 M persons writes
    several GB of WAL, so several fall inside the transaction) made each of them write a
    full-page image again. And each row's page is read once, not once for the version copy
    and again for the update. Elsewhere: `copy_versions`, then `records.write_rows_bulk`.
    """
    if not rows:
        return 0
    if connection.vendor != "postgresql":
        copied = copy_versions(model, sorted(rows), edition)
        records.write_rows_bulk(model, rows, **constants)
        return copied
    q = connection.ops.quote_name
    meta = model._meta
    table, pk = q(meta.db_table), q(meta.pk.column)
    version = VERSION_OF[model]
    columns = ", ".join(q(c) for c in data_columns(version))
    returning = ", ".join(f"o.{q(c)}" for c in data_columns(version))
    pks = sorted(rows)  # id order: the table's pages and the id-ordered indexes forward
    fields = [meta.get_field(n) for n in sorted({n for r in rows.values() for n in r})]
    sets, types, params = [], ["bigint"], [pks]
    for i, f in enumerate(fields):
        col = q(f.column)
        sets.append(f"{col} = CASE WHEN v.m{i} THEN v.c{i} ELSE t.{col} END")
        types += [records._pg_type(f), "boolean"]
        params.append([records._db_value(f, rows[p].get(f.name)) for p in pks])
        params.append([f.name in rows[p] for p in pks])
    const_params = []
    for name, value in constants.items():
        f = meta.get_field(name)
        sets.append(f"{q(f.column)} = %s")
        const_params.append(f.get_db_prep_save(value, connection))
    arrays = ", ".join(f"%s::{t}[]" for t in types)
    v_names = ", ".join(["id"] + [f"c{i}, m{i}" for i in range(len(fields))])
    sql = (
        f"WITH old AS (UPDATE {table} AS t SET {', '.join(sets)} "  # noqa: S608 — meta names
        f"FROM unnest({arrays}) AS v({v_names}) JOIN {table} AS o ON o.{pk} = v.id "
        f"WHERE t.{pk} = v.id "
        f"RETURNING o.{pk} AS _record, o.{q('penetapan_period')} AS _valid_from, {returning}) "
        f"INSERT INTO {q(version._meta.db_table)} "
        f"({q('record_id')}, {q('valid_from')}, {q('valid_to')}, {columns}) "
        f"SELECT _record, _valid_from, %s, {columns} FROM old"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*const_params, *params, edition])
        return cursor.rowcount
