"""Load (or update to) a Kemendagri region dataset. Thin: the work is in regions.loading."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from terpadu.regions.loading import DEFAULT_DATASET, load_regions
from terpadu.regions.models import Level


class Command(BaseCommand):
    help = "Load the region tree from a shipped dataset name or a directory of CSV files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dataset",
            default=DEFAULT_DATASET,
            help=f"shipped dataset name or a directory of CSV files (default {DEFAULT_DATASET})",
        )
        parser.add_argument(
            "--valid-from",
            type=dt.date.fromisoformat,
            default=None,
            help="effective date YYYY-MM-DD (default: from the dataset's dataset.json)",
        )

    def handle(self, *args: Any, dataset: str, valid_from: dt.date | None, **options: Any) -> None:
        result = load_regions(dataset=dataset, valid_from=valid_from)
        self.stdout.write(f"{result.source_version} (berlaku {result.valid_from})")
        for level in Level:
            self.stdout.write(
                f"  {level.label:<16} {result.current.get(level, 0):>7,} berlaku"
                f"  +{result.created.get(level, 0):,} baru"
                f"  ~{result.versioned.get(level, 0):,} versi baru"
                f"  -{result.closed.get(level, 0):,} ditutup"
            )
        verdict = "diperbarui" if result.changed else "tidak ada perubahan"
        self.stdout.write(self.style.SUCCESS(f"{verdict} dalam {result.seconds:.2f} detik"))
