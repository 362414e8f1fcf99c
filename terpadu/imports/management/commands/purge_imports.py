"""`manage.py purge_imports [--days N]`: delete checked dry runs and old uploads no longer needed.

Checked dry-run stores (MEDIA_ROOT/imports/checked/<job>/, they hold NIKs) of cancelled,
applied or deleted jobs, and of idle jobs older than the TTL; uploads of failed, cancelled and
duplicate jobs older than the TTL. The ImportJob rows and their issues stay. The TTL is
TERPADU_IMPORT_CHECKED_TTL_DAYS (default 7). Every dry run also runs this purge first.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from terpadu.imports import services


class Command(BaseCommand):
    help = "Delete checked dry runs and uploads of imports that are no longer needed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="TTL in days (default: TERPADU_IMPORT_CHECKED_TTL_DAYS or 7)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        done = services.purge(ttl_days=options["days"])
        self.stdout.write(
            f"{done['stores']} checked dry run(s) and {done['uploads']} upload(s) deleted."
        )
