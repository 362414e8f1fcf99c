"""Background jobs of the imports app (django-tasks; run by `manage.py db_worker`).

Job bodies live in services.py; these wrappers only turn ids into objects. All state is in
the ImportJob row, so a page reload (or a worker restart) finds the job where it stood.
"""

from __future__ import annotations

from django_tasks import task

from terpadu.imports import services
from terpadu.imports.models import ImportJob


@task()
def run_validation(job_id: int) -> dict[str, str]:
    """The dry run of one import (services.validate)."""
    job = services.validate(ImportJob.objects.get(pk=job_id))
    return {"status": job.status}


@task()
def run_apply(job_id: int) -> dict[str, str]:
    """The apply of one import (services.apply), all or nothing."""
    job = services.apply(ImportJob.objects.get(pk=job_id))
    return {"status": job.status}
