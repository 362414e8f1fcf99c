"""`manage.py demo_accounts [--kabkota 1371]`: one demo login per role (services.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from terpadu.accounts.services import create_demo_accounts


class Command(BaseCommand):
    help = "Create one demo account per role around a kab/kota (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--kabkota", default="1371", help="kab/kota digits, e.g. 1371")

    def handle(self, *args: Any, **options: Any) -> None:
        for username, role, region, password in create_demo_accounts(
            kabkota_digits=options["kabkota"]
        ):
            shown = password or "(sudah ada, tidak diubah)"
            self.stdout.write(
                f"{username:<22} {role or 'superuser':<22} {region or '-':<15} {shown}"
            )
