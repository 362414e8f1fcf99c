"""`terpadu export persons|bnba|proposals --region CODE --format xlsx|csv --out FILE`.

The same export code as the download buttons (terpadu/imports/exports.py). With --user the
export is scoped, masked and logged as that user; without it, it runs as the system (national
scope, NIK in clear) and is logged without a user. See docs/exports.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from terpadu.accounts.access import covers
from terpadu.accounts.models import User
from terpadu.imports import exports
from terpadu.regions.models import to_digits


class Command(BaseCommand):
    help = "Export registry persons, a BNBA list or proposals of a region to xlsx or csv."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=["persons", "bnba", "proposals"])
        parser.add_argument("--region", default="", help="region code, e.g. 13.71 or 1371")
        parser.add_argument("--format", choices=exports.FORMATS, default="xlsx", dest="fmt")
        parser.add_argument("--out", required=True, help="output file ('-' = stdout)")
        parser.add_argument("--user", default="", help="export as this user (scope, masking)")
        parser.add_argument("--query", default="", help="search text (NIK, No KK or name)")

    def handle(self, *args: Any, **options: Any) -> None:
        region = to_digits(options["region"] or "")
        if options["user"]:
            user = User.objects.filter(username=options["user"], is_active=True).first()
            if user is None:
                raise CommandError(f"Unknown or inactive user {options['user']!r}.")
            if region and not covers(user, region):
                raise CommandError(f"Region {region} is outside {user.username}'s scope.")
        else:
            user = exports.system_user()
        export = exports.build(options["kind"], user, region=region, query=options["query"])
        exports.log_export(user if user.pk else None, export, options["fmt"])
        out = options["out"]
        if out == "-":
            exports.write_file(export, options["fmt"], self.stdout.buffer)
            return
        with Path(out).open("wb") as handle:
            exports.write_file(export, options["fmt"], handle)
        masked = "" if export.unmask else " (NIK disamarkan / masked)"
        self.stdout.write(f"{export.kind} → {out}{masked}")
