"""The quality job: NIK ganda refresh + flag evaluation over a region scope, with progress.

Started on demand (a button) or by `core.signals.registry_bulk_changed` after an import or an
edition (QualityConfig.ready). A run is claimed with a conditional UPDATE, so a second worker
never runs it twice; a scope with a run still waiting gets no second one.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from terpadu.accounts.access import Action, role_allows
from terpadu.quality import nikganda, rules
from terpadu.quality.models import QualityRun

log = logging.getLogger(__name__)
STEPS = 2


def can_start(user: Any) -> bool:
    return role_allows(user, Action.QUALITY_RUN)


def start_run(
    *, region_code: str, by: Any = None, source: str = "manual", source_ref: str = ""
) -> QualityRun:
    """Queue a run for `region_code` (cut to kab/kota, where NIK ganda worklists live) unless
    one is already waiting for that scope; enqueued when the transaction commits."""
    scope = nikganda.kabkota_scope(region_code)
    waiting = QualityRun.objects.filter(region_code=scope, state=QualityRun.State.ANTRE).first()
    if waiting:
        return waiting
    run = QualityRun.objects.create(
        region_code=scope,
        requested_by=by if by is not None and by.is_authenticated else None,
        source=source,
        source_ref=source_ref[:60],
        progress_total=STEPS,
    )
    run_id = run.pk
    transaction.on_commit(lambda: _enqueue(run_id))
    return run


def _enqueue(run_id: int) -> None:
    from terpadu.quality.tasks import run_quality

    run_quality.enqueue(run_id)


def run(run_id: int) -> QualityRun:
    """Do the run's work (the task body); a run already claimed is left alone."""
    claimed = QualityRun.objects.filter(pk=run_id, state=QualityRun.State.ANTRE).update(
        state=QualityRun.State.BERJALAN, started_at=timezone.now()
    )
    job = QualityRun.objects.get(pk=run_id)
    if not claimed:
        return job
    try:
        groups = nikganda.refresh(job.region_code)
        job.progress_done = 1
        job.counts = {"nik_ganda": groups.as_dict()}
        job.save(update_fields=["progress_done", "counts"])
        flags = rules.evaluate(job.region_code)
        job.counts = {**job.counts, "flags": flags.as_dict()}
        job.progress_done = 2
        job.state = QualityRun.State.SELESAI
    except Exception as exc:  # a failed run must say why on the page, not vanish
        log.exception("quality run %s failed", run_id)
        job.state, job.error = QualityRun.State.GAGAL, f"{type(exc).__name__}: {exc}"
    job.finished_at = timezone.now()
    job.save()
    return job


def on_registry_bulk_changed(sender: Any, **kwargs: Any) -> None:
    """Receiver of core.signals.registry_bulk_changed: queue a run for the changed region."""
    start_run(
        region_code=kwargs.get("region_code") or "",
        source=str(kwargs.get("source") or "signal"),
        source_ref=str(kwargs.get("ref") or ""),
    )
