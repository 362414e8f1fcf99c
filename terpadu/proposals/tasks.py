"""Background jobs of the proposals app (django-tasks; run by `manage.py db_worker`).

Job bodies live in the domain modules; these wrappers only turn ids into objects.
"""

from __future__ import annotations

from django_tasks import task

from terpadu.accounts.models import User
from terpadu.proposals.integrity import run_integrity
from terpadu.proposals.models import Batch


@task()
def run_integrity_task(batch_id: int, user_id: int) -> dict[str, int]:
    """Pusat's integrity test of a received batch (see integrity.run_integrity)."""
    batch = Batch.objects.get(pk=batch_id)
    by = User.objects.get(pk=user_id)
    result = run_integrity(batch, by=by)
    return {"accepted": result.accepted, "returned": result.returned}
