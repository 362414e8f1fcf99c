"""Run the quality job now, in this process: NIK ganda refresh + flag evaluation.

manage.py quality_run --region 1371     # a kab/kota (a desa/kecamatan code is cut to it)
manage.py quality_run                   # national
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from terpadu.quality import jobs


class Command(BaseCommand):
    help = "Run the data-quality job (NIK ganda + tidak-layak flags) for a region, now."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--region", default="", help="digits-only region code; empty = all")

    def handle(self, *args: Any, **options: Any) -> None:
        # Queued like any run (so the page shows it), then claimed here; a worker that picks
        # the queued task later finds it claimed and does nothing.
        run = jobs.start_run(region_code=options["region"], source="cli")
        run = jobs.run(run.pk)
        self.stdout.write(f"{run.state}: {json.dumps(run.counts, default=str)}")
        if run.error:
            self.stderr.write(run.error)
