"""The index on Change.changeset, by database (see Change.changeset).

The model declares none (db_index=False, so 0006 dropped Django's b-tree); here PostgreSQL
gets a BRIN index — a changeset's append-only rows lie together on disk, and a BRIN costs
next to nothing per insert — and SQLite, which has no BRIN, a b-tree again.
"""

from django.db import migrations

NAME = "change_changeset_idx"


def create(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    using = " USING brin" if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{NAME}" ON "registry_change"{using} ("changeset_id")'
    )


def drop(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    schema_editor.execute(f'DROP INDEX IF EXISTS "{NAME}"')


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0006_fewer_indexes_on_bulk_writes"),
    ]

    operations = [migrations.RunPython(create, drop)]
