"""Change.changeset: a BRIN index instead of a b-tree on PostgreSQL (see Change.changeset).

The model declares no index (db_index=False), so only the database side differs by vendor:
PostgreSQL swaps the b-tree for BRIN; SQLite keeps the b-tree 0001 created.
"""

from django.db import migrations, models
import django.db.models.deletion

BRIN = "registry_change_changeset_brin"


def _btree_names(schema_editor) -> list[str]:  # type: ignore[no-untyped-def]
    with schema_editor.connection.cursor() as cursor:
        found = schema_editor.connection.introspection.get_constraints(cursor, "registry_change")
    return [
        name
        for name, info in found.items()
        if info["index"] and info["columns"] == ["changeset_id"] and name != BRIN
    ]


def to_brin(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in _btree_names(schema_editor):
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{BRIN}" ON "registry_change" USING brin ("changeset_id")'
    )


def to_btree(apps, schema_editor) -> None:  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP INDEX IF EXISTS "{BRIN}"')
    schema_editor.execute(
        'CREATE INDEX "registry_change_changeset_id_d6a0c615" '
        'ON "registry_change" ("changeset_id")'
    )


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0006_fewer_indexes_on_bulk_writes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="change",
                    name="changeset",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="changes",
                        to="registry.changeset",
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(to_brin, to_btree)],
        ),
    ]
