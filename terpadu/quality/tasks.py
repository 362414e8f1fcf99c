"""Background jobs of the quality app (django-tasks; run by `manage.py db_worker`)."""

from __future__ import annotations

from django_tasks import task

from terpadu.quality import jobs


@task()
def run_quality(run_id: int) -> dict[str, str]:
    """NIK ganda refresh + flag evaluation for one QualityRun (see jobs.run)."""
    return {"state": jobs.run(run_id).state}
