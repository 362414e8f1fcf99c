"""Foreign keys of a bulk write checked as sets, not row by row.

PostgreSQL checks each inserted row's foreign keys with a system trigger: one lookup of the
referenced row, and a FOR KEY SHARE lock on it, per key per row. Django declares its keys
DEFERRABLE INITIALLY DEFERRED, so for a 300 k-person import about 1.9 M of them run at
COMMIT: about 5 s, a third of the whole apply.

Inside `set_checked_keys()` those triggers are switched off for the session
(``session_replication_role = replica``, which is what pg_restore does for the same
reason), every frame written is registered with `KeyCheck.add`, and on leaving the block
`KeyCheck.verify` checks the same keys for the whole batch:

* keys that point at rows written in the same block are checked in memory (Polars): those
  rows are new in this transaction, nobody else can see or remove them;
* the other keys are looked up with one query per referenced table, which also takes the
  FOR KEY SHARE lock the trigger would have taken, so the referenced rows cannot be deleted
  before the transaction ends.

A missing key raises `IntegrityError` naming the table, column and value, as PostgreSQL
would; the caller's transaction rolls back. The block is used only where it is safe to do:

* PostgreSQL 15 or later, whose role is a superuser or has been granted
  ``GRANT SET ON PARAMETER session_replication_role TO <role>`` (see README, Production);
* the tables written carry no triggers of their own (replica mode would skip those too).

Anywhere else (SQLite, an unprivileged role) the block yields None and the database checks
the keys itself as before: the same result, only slower. Inside a `bulkpipe.pipeline()` the
switch, the writes and the check are queued in that order for its writer thread.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import IntegrityError, connection, models

from terpadu.registry import bulkpipe


class KeyCheck:
    """The frames written inside one `set_checked_keys` block, checked on leaving it."""

    def __init__(self) -> None:
        self.frames: list[tuple[type[models.Model], Any]] = []

    def add(self, model: type[models.Model], frame: Any) -> None:
        """Register `frame` (a Polars frame of `model`'s column names) as written; only its
        primary and foreign keys are kept."""
        if frame.height:
            keys = [model._meta.pk.column, *(f.column for f in _constrained_keys(model))]
            self.frames.append((model, frame.select(c for c in keys if c in frame.columns)))

    def verify(self, raw: Any = None) -> None:
        """Raise IntegrityError unless every foreign key of every frame points at a row.
        `raw`: the psycopg connection to look up with (a `bulkpipe` writer), else Django's."""
        import polars as pl

        written: dict[type[models.Model], list[Any]] = {}
        for model, frame in self.frames:
            if model._meta.pk.column in frame.columns:
                written.setdefault(model, []).append(frame.get_column(model._meta.pk.column))
        own = {model: pl.concat(parts) for model, parts in written.items()}
        for model, frame in self.frames:
            for field in _constrained_keys(model):
                if field.column not in frame.columns:
                    continue
                target = field.target_field
                values = frame.get_column(field.column).drop_nulls().unique()
                if target.model in own and target.primary_key:
                    values = values.filter(~values.is_in(own[target.model].implode()))
                if values.len():
                    _check_existing(model, field, values.to_list(), raw)


def _constrained_keys(model: type[models.Model]) -> Iterable[models.ForeignKey]:
    for field in model._meta.concrete_fields:
        if field.is_relation and getattr(field, "db_constraint", False):
            yield field


def _check_existing(
    model: type[models.Model], field: models.ForeignKey, values: list, raw: Any
) -> None:
    """One query for the keys of `field` not written in the block: the rows must exist, and
    are locked FOR KEY SHARE as the trigger would have locked them."""
    q = connection.ops.quote_name
    target = field.target_field
    table, column = q(target.model._meta.db_table), q(target.column)
    if connection.vendor == "postgresql":
        sql = f"SELECT {column} FROM {table} WHERE {column} = ANY(%s) FOR KEY SHARE"  # noqa: S608
        if raw is not None:
            found = {row[0] for row in raw.execute(sql, [values]).fetchall()}
        else:
            with connection.cursor() as cursor:
                cursor.execute(sql, [values])
                found = {row[0] for row in cursor.fetchall()}
    else:  # nothing to lock against (SQLite writes one transaction at a time)
        manager = target.model._base_manager
        lookup = {f"{target.attname}__in": values}
        found = set(manager.filter(**lookup).values_list(target.attname, flat=True))
    missing = [v for v in values if v not in found]
    if missing:
        raise IntegrityError(
            f'insert or update on table "{model._meta.db_table}" violates foreign key '
            f'"{field.column}": Key ({field.column})=({missing[0]}) is not present in table '
            f'"{target.model._meta.db_table}" ({len(missing)} value(s) missing).'
        )


def available(models_written: Iterable[type[models.Model]]) -> bool:
    """Whether keys of writes to `models_written` may be checked as sets here (see module)."""
    if connection.vendor != "postgresql" or connection.pg_version < 150000:
        return False
    tables = [m._meta.db_table for m in models_written]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (current_setting('is_superuser') = 'on'"
            " OR has_parameter_privilege('session_replication_role', 'SET'))"
            " AND NOT EXISTS (SELECT 1 FROM pg_trigger"
            " WHERE tgrelid = ANY(%s::regclass[]) AND NOT tgisinternal)",
            [tables],
        )
        return bool(cursor.fetchone()[0])


@contextlib.contextmanager
def set_checked_keys(models_written: Iterable[type[models.Model]]) -> Iterator[KeyCheck | None]:
    """Write `models_written` inside this block with their foreign keys checked as sets on
    leaving it (yields the `KeyCheck` to register frames with), or — where that is not
    available — by the database as usual (yields None). Call inside a transaction."""
    models_written = tuple(models_written)
    pipe = bulkpipe.current()
    if pipe is None:
        usable = available(models_written)
    else:  # asked once per pipeline: a query waits for the queued writes
        usable = pipe.cache.get(("set-checked-keys", models_written))
        if usable is None:
            usable = pipe.cache[("set-checked-keys", models_written)] = available(models_written)
    if not usable:
        yield None
        return
    check = KeyCheck()
    _execute(pipe, "SET LOCAL session_replication_role = replica")
    # On an error the block's transaction (or savepoint) is rolled back, and the setting
    # with it; a reset there would only fail on the aborted transaction and hide the error.
    yield check
    _execute(pipe, "SET LOCAL session_replication_role TO DEFAULT")
    if pipe is None:
        check.verify()
    else:  # in order after the writes it checks; a failure surfaces at the next query
        pipe.submit(check.verify)


def _execute(pipe: bulkpipe.Pipe | None, sql: str) -> None:
    if pipe is not None:
        pipe.submit(lambda raw: raw.execute(sql))
        return
    with connection.cursor() as cursor:
        cursor.execute(sql)
