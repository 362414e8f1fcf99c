"""`manage.py demo --region 13.71 --households N [--seed S]`: synthetic registry (registry.demo)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from terpadu.registry.demo import DemoError, generate_demo


class Command(BaseCommand):
    help = "Generate a synthetic DTKS registry for every desa/kelurahan of one kab/kota."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--region", required=True, help="kab/kota code, e.g. 13.71 or 1371")
        parser.add_argument("--households", type=int, required=True, help="number of households")
        parser.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
        parser.add_argument(
            "--batch-size", type=int, default=5000, help="households per round (default 5000)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["households"] < 1:
            raise CommandError("--households harus minimal 1.")

        def progress(done: int, total: int) -> None:
            if options["verbosity"] >= 1 and sys.stdout.isatty():
                self.stdout.write(f"  {done:>9,} / {total:,} ruta", ending="\r")

        try:
            result = generate_demo(
                region_digits=options["region"],
                households=options["households"],
                seed=options["seed"],
                batch_size=options["batch_size"],
                progress=progress,
            )
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{result.persons:,} individu, {result.families:,} keluarga, "
            f"{result.households:,} ruta dalam {result.seconds:.1f} detik "
            f"({result.rows:,} baris, {result.rows / max(result.seconds, 1e-9):,.0f} baris/detik)"
        )
