"""`manage.py setup_demo [--households N]`: regions + Padang demo registry + demo accounts.

Idempotent (used by `make run`): each step is skipped when already done (registry.demo).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from terpadu.registry.demo import setup_demo


class Command(BaseCommand):
    help = "Prepare a demo install: regions, a Kota Padang demo registry and demo accounts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--households", type=int, default=3000, help="demo households (default 3000)"
        )
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")

    def handle(self, *args: Any, **options: Any) -> None:
        done = setup_demo(households=options["households"], seed=options["seed"])
        # Proposals sit above the registry; the command (not registry.demo) brings them in.
        from terpadu.proposals.demo import seed_demo_proposals

        proposals = seed_demo_proposals()
        if proposals:
            self.stdout.write(f"Usulan demo: {proposals} usulan di berbagai tahap.")
        if not done.changed:
            self.stdout.write("Demo sudah disiapkan (already set up); tidak ada yang diubah.")
            return
        if done.regions_loaded:
            self.stdout.write(f"Wilayah dimuat: {done.regions_loaded:,} kode.")
        if done.demo:
            d = done.demo
            self.stdout.write(
                f"Data demo Kota Padang: {d.households:,} ruta, {d.families:,} keluarga, "
                f"{d.persons:,} individu ({d.seconds:.1f} detik)."
            )
        if done.new_accounts:
            self.stdout.write("\nAkun demo baru:")
            self.stdout.write(f"  {'username':<22} {'peran':<22} {'wilayah':<15} password")
            for username, role, region, password in done.new_accounts:
                self.stdout.write(
                    f"  {username:<22} {role or 'superuser':<22} {region or '-':<15} {password}"
                )
        if len(done.new_accounts) < len(done.accounts):
            self.stdout.write(
                "Akun demo yang sudah ada tetap memakai password lamanya (tidak direset)."
            )
