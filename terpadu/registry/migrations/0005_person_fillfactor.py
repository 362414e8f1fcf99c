"""registry_person pages keep 10 % free (PostgreSQL fillfactor 90).

A monthly determination updates ≈ 1 % of the persons, each on a random page. Without free
space on that page the new row version goes to another page found through the free-space
map — a second random page read and written (with its full-page WAL image) per person. With
room on the page it stays there, and updates that change no indexed column (Dukcapil match
status, most field corrections outside a determination) become HOT: no index entries at all.
Costs ≈ 11 % more heap. Applies to pages written from now on; an existing table takes it
with a rewrite in a maintenance window (``VACUUM FULL registry_person``), or gradually.
"""

from django.db import migrations

TABLE = "registry_person"


def set_fillfactor(apps, schema_editor):  # migration signature
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} SET (fillfactor = 90)")


def reset_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("registry", "0004_person_id_dtks_unindexed")]

    operations = [migrations.RunPython(set_fillfactor, reset_fillfactor, elidable=False)]
