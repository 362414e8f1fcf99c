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

from collections.abc import Sequence

from django.db import connection, models

from terpadu.editions.models import FamilyVersion, HouseholdVersion, PersonVersion
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
