"""Background jobs of the dedup app (django-tasks; run by `manage.py db_worker`)."""

from __future__ import annotations

from django_tasks import task

from terpadu.dedup import runs
from terpadu.dedup.models import DedupRun


@task()
def run_dedup(run_id: int) -> dict[str, str]:
    """A dedup run over one kab/kota (see runs.execute_run)."""
    run = runs.execute_run(DedupRun.objects.get(pk=run_id))
    return {"state": run.state}
