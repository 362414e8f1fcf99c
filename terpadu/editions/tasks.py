"""Background jobs of the editions app (django-tasks; run by `manage.py db_worker`).

Job bodies live in the domain modules; these wrappers only turn ids into objects.
"""

from __future__ import annotations

from django_tasks import task

from terpadu.editions import processing
from terpadu.editions.models import ProcessingRun


@task()
def run_processing(run_id: int) -> dict[str, str]:
    """Pusat's national processing run (see processing.run_processing)."""
    run = processing.run_processing(ProcessingRun.objects.get(pk=run_id))
    return {"state": run.state}
