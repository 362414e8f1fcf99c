"""Project-wide signals that let one app react to another's bulk work without importing it.

`registry_bulk_changed` is sent (after commit) when a bulk path changed registry rows:
an applied import or a determined edition. The quality app listens and queues its checks.
Senders call `announce_bulk_change` from `transaction.on_commit`:

    transaction.on_commit(lambda: announce_bulk_change(
        ImportJob, source="import", ref=str(job.pk), region_code="1371"))
"""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import Signal

logger = logging.getLogger(__name__)

# kwargs: source ("import" | "edition"), ref (job id or edition period), region_code (digits
# prefix of what changed; "" = national).
registry_bulk_changed = Signal()


def announce_bulk_change(sender: Any, *, source: str, ref: str, region_code: str) -> None:
    """Send `registry_bulk_changed`; a failing listener is logged, never raised.

    Senders call this after their commit: the import or edition is done by then, and a
    listener's failure must not make the caller report committed work as failed.
    """
    for receiver, result in registry_bulk_changed.send_robust(
        sender=sender, source=source, ref=ref, region_code=region_code
    ):
        if isinstance(result, Exception):
            logger.error(
                "registry_bulk_changed listener %r failed after %s %s",
                receiver,
                source,
                ref,
                exc_info=result,
            )
