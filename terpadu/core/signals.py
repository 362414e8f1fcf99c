"""Project-wide signals that let one app react to another's bulk work without importing it.

`registry_bulk_changed` is sent (after commit) when a bulk path changed registry rows:
an applied import or a determined edition. The quality app listens and queues its checks.

    registry_bulk_changed.send(sender=ImportJob, source="import", ref=str(job.pk),
                               region_code="1371")
"""

from __future__ import annotations

from django.dispatch import Signal

# kwargs: source ("import" | "edition"), ref (job id or edition period), region_code (digits
# prefix of what changed; "" = national).
registry_bulk_changed = Signal()
