"""Pusat's national processing run of one month (domain.md §3.5: after the 25th cut-off).

`start_run` opens a run after the month's ratification day (pusat may force an earlier start
with a recorded note) and queues `run_processing` (tasks.py). The run takes every item of the
period that pusat holds (PROSES_PUSAT: batch received; DITERIMA_PUSAT: integrity passed) and

1. re-runs the integrity test (`proposals.integrity.check_items`) per kab/kota batch — each
   batch is one progress chunk, so the progress bar moves while the run works;
2. cross-matches the whole month (`crossmatch.crossmatch`: NIK in two batches, one record
   changed twice, a moved member active elsewhere, exclusion flags);
3. matches the NIKs with Dukcapil through the configured adapter (`dukcapil.get_adapter`):
   the test double answers at once and its results are stored like any exchange; with the
   file adapter the run does not wait — it reads the latest imported result per NIK and
   returns items whose NIK was never matched (``nik_belum_padan``): export the NIK list,
   import Dukcapil's answer, run again;
4. writes one ProcessingResult per item (bulk): DITERIMA, DIKEMBALIKAN (fixable by the
   kab/kota) or DITOLAK (REJECT_CODES: nothing to fix), with reasons in the shape of
   Proposal.return_reasons.

Steps 3–4 are one transaction: a failure leaves the run GAGAL with its error and no results
(and no Dukcapil rows). Pusat then reviews (`override_result`), applies the review
(`apply_review`: returns and rejections go through the proposals workflow) and determines
the edition with the run (determination.determine_edition(run=...)).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Count, Subquery
from django.utils import timezone, translation

from terpadu.accounts.models import Role
from terpadu.core.errors import BilingualError
from terpadu.editions import crossmatch, dukcapil
from terpadu.editions.models import (
    Edition,
    ProcessingResult,
    ProcessingRun,
    ProcessingRunEvent,
)
from terpadu.lib.nik import check_nik
from terpadu.proposals import calendar
from terpadu.proposals.integrity import REASON_LABELS as INTEGRITY_LABELS
from terpadu.proposals.integrity import check_items
from terpadu.proposals.models import Kind, Proposal, Status
from terpadu.proposals.workflow import bulk_transition
from terpadu.registry.models import Padan, Person

if TYPE_CHECKING:
    from terpadu.accounts.models import User

logger = logging.getLogger(__name__)

Outcome = ProcessingResult.Outcome
RunState = ProcessingRun.State
PERIOD_RE = re.compile(r"^[0-9]{4}-(0[1-9]|1[0-2])$")

# Reasons nobody can fix by correcting data: the item is rejected, not returned.
REJECT_CODES = frozenset({"sasaran_tidak_ada", "sasaran_tidak_aktif", "dikecualikan"})
# Kinds whose target person must match Dukcapil (a deactivation needs no match).
MATCHED_TARGET_KINDS = frozenset({Kind.PERBAIKAN, Kind.REAKTIVASI})

REASON_LABELS: dict[str, Any] = {
    **INTEGRITY_LABELS,
    "nik_ganda_usulan": translation.gettext_lazy("NIK diusulkan di paket lain"),
    "sasaran_ganda": translation.gettext_lazy("Sasaran diubah lebih dari sekali"),
    "aktif_di_wilayah_lain": translation.gettext_lazy("Aktif di wilayah lain"),
    "dikecualikan": translation.gettext_lazy("Tanda pengecualian"),
    "nik_tidak_padan": translation.gettext_lazy("NIK tidak padan Dukcapil"),
    "nik_belum_padan": translation.gettext_lazy("NIK belum dipadankan"),
    "tinjauan_pusat": translation.gettext_lazy("Catatan tinjauan pusat"),
}


class ProcessingError(BilingualError):
    """A refused request, with the reason in Indonesian and English."""


def is_pusat(user: Any) -> bool:
    """National processing is pusat's (Pusdatin's) work only."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.role == Role.PUSAT


def ensure_pusat(user: Any) -> None:
    if not is_pusat(user):
        raise PermissionDenied


def _event(run: ProcessingRun, action: str, by: User | None, note: str = "", **kw: Any) -> None:
    ProcessingRunEvent.objects.create(
        run=run, action=action, actor=by, actor_role=by.role if by else "", note=note, **kw
    )


# --- starting -----------------------------------------------------------------------------


def start_run(*, by: User, period: str, force: bool = False, note: str = "") -> ProcessingRun:
    """Open a run for `period` and queue it. Refused before the cut-off (the day after the
    ratification day) unless `force` with a note; refused while another run of the period
    is working or once the period is determined."""
    ensure_pusat(by)
    if not PERIOD_RE.match(period or ""):
        raise ProcessingError(
            "period",
            f"Periode '{period}' harus berbentuk TTTT-BB.",
            f"Period '{period}' must be YYYY-MM.",
        )
    cutoff = calendar.deadlines(period).ratification
    if calendar.today() <= cutoff and not force:
        raise ProcessingError(
            "before_cutoff",
            f"Proses nasional {period} baru dapat dimulai setelah batas pengesahan "
            f"{cutoff:%d-%m-%Y}.",
            f"National processing of {period} can only start after the ratification "
            f"deadline {cutoff:%Y-%m-%d}.",
        )
    if force and not note.strip():
        raise ProcessingError(
            "note_required",
            "Memulai sebelum batas waktu memerlukan catatan alasan.",
            "Starting before the deadline needs a note with the reason.",
        )
    expire_stale_runs(period)  # a dead worker's run must not block a new one
    with transaction.atomic():
        if Edition.objects.filter(period=period).exists():
            raise ProcessingError(
                "determined",
                f"Periode {period} sudah ditetapkan.",
                f"Period {period} is already determined.",
            )
        # Lock the period's runs so two pusat users cannot start two runs at once.
        busy = list(
            ProcessingRun.objects.select_for_update().filter(period=period, state=RunState.BERJALAN)
        )
        if busy:
            raise ProcessingError(
                "running",
                f"Proses nasional {period} sedang berjalan (#{busy[0].pk}).",
                f"National processing of {period} is already running (#{busy[0].pk}).",
            )
        run = ProcessingRun.objects.create(period=period, started_by=by)
        early = force and calendar.today() <= cutoff
        action = ProcessingRunEvent.Action.FORCE if early else ProcessingRunEvent.Action.START
        _event(run, action, by, note.strip())
        run_id = run.pk
        transaction.on_commit(lambda: _enqueue(run_id))
    return run


def _enqueue(run_id: int) -> None:
    from terpadu.editions.tasks import run_processing as task

    result = task.enqueue(run_id)
    # Kept so expire_stale_runs can ask the task backend whether the task still lives.
    ProcessingRun.objects.filter(pk=run_id).update(task_id=str(result.id)[:64])


# --- stale runs ---------------------------------------------------------------------------
# A worker that dies (killed, out of memory, machine restarted) leaves its run BERJALAN for
# ever and blocks a new run of the period. `expire_stale_runs` marks such runs GAGAL; the
# views call it before listing or showing runs and `start_run` before starting one. A run is
# stale when
# - (PostgreSQL) its worker claimed it but no longer holds the run's advisory lock: the
#   worker's database session ended, so the worker is gone (exact, no waiting);
# - its task is finished (failed, successful) or gone from the task backend while the run
#   still says BERJALAN (backends that keep results, e.g. the database backend);
# - nothing was heard from it (claim, progress) for TERPADU_PROCESSING_STALE_AFTER seconds
#   (default 2 h): the fallback for every database and for a run that was never picked up.

_LOCK_CLASS = 0x7E4D  # advisory-lock namespace of processing runs (PostgreSQL)
DEFAULT_STALE_AFTER = dt.timedelta(hours=2)


def stale_after() -> dt.timedelta:
    """How long a BERJALAN run may stay silent before it counts as dead."""
    seconds = getattr(settings, "TERPADU_PROCESSING_STALE_AFTER", None)
    return dt.timedelta(seconds=seconds) if seconds else DEFAULT_STALE_AFTER


@contextlib.contextmanager
def _worker_lock(run_id: int) -> Iterator[None]:
    """Hold the run's session-level advisory lock while the worker processes it (PostgreSQL;
    elsewhere nothing). The server releases it when the worker's session ends, dead or not."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [_LOCK_CLASS, run_id])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, run_id])


def _worker_gone(run: ProcessingRun) -> bool:
    """PostgreSQL: the run was claimed, yet nobody holds its lock (taken and let go at once)."""
    if connection.vendor != "postgresql" or run.heartbeat_at is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, run.pk])
        free = cursor.fetchone()[0]
        if free:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, run.pk])
    return bool(free)


def _task_ended(run: ProcessingRun) -> bool:
    """The task backend knows the run's task and says it is no longer queued or running."""
    from django_tasks.base import TaskResultStatus
    from django_tasks.exceptions import TaskResultDoesNotExist

    from terpadu.editions.tasks import run_processing as task

    if not run.task_id or not task.get_backend().supports_get_result:
        return False
    try:
        status = task.get_result(run.task_id).status
    except TaskResultDoesNotExist:
        return True
    return status in (TaskResultStatus.FAILED, TaskResultStatus.SUCCESSFUL)


def _stale_reason(run: ProcessingRun, now: dt.datetime) -> tuple[str, str] | None:
    if _worker_gone(run):
        return (
            "Pekerja latar berhenti sebelum proses selesai.",
            "The background worker stopped before the run finished.",
        )
    if _task_ended(run):
        return (
            "Tugas latar sudah berakhir tanpa menyelesaikan proses.",
            "The background task ended without finishing the run.",
        )
    last = run.heartbeat_at or run.started_at
    if last is not None and now - last > stale_after():
        minutes = int(stale_after().total_seconds() // 60)
        return (
            f"Tidak ada kabar dari proses selama lebih dari {minutes} menit.",
            f"No sign of life from the run for more than {minutes} minutes.",
        )
    return None


def expire_stale_runs(period: str | None = None, *, pk: int | None = None) -> list[int]:
    """Mark BERJALAN runs whose worker is gone as GAGAL (see above), optionally only those of
    `period` or the run `pk`; returns their ids. One query when nothing is running."""
    qs = ProcessingRun.objects.filter(state=RunState.BERJALAN)
    if period is not None:
        qs = qs.filter(period=period)
    if pk is not None:
        qs = qs.filter(pk=pk)
    now = timezone.now()
    expired: list[int] = []
    for run in qs:
        reason = _stale_reason(run, now)
        if reason is None:
            continue
        message = f"{reason[0]} / {reason[1]}"
        # Re-checked by the UPDATE: a worker that finished meanwhile keeps its state.
        if ProcessingRun.objects.filter(pk=run.pk, state=RunState.BERJALAN).update(
            state=RunState.GAGAL, error=message, finished_at=now
        ):
            _event(run, ProcessingRunEvent.Action.FAIL, None, message)
            logger.warning("processing run %s marked failed: %s", run.pk, reason[1])
            expired.append(run.pk)
    return expired


# --- the run ------------------------------------------------------------------------------


def run_processing(run: ProcessingRun) -> ProcessingRun:
    """Process `run` (see the module docstring); never raises: a failure marks it GAGAL."""
    with _worker_lock(run.pk):
        claimed = ProcessingRun.objects.filter(
            pk=run.pk, state=RunState.BERJALAN, progress_total=0
        ).update(heartbeat_at=timezone.now())
        if not claimed:
            return run
        try:
            _process(run)
        except Exception as exc:
            logger.exception("processing run %s failed", run.pk)
            message = f"{type(exc).__name__}: {exc}"[:2000]
            ProcessingRun.objects.filter(pk=run.pk).update(
                state=RunState.GAGAL, error=message, finished_at=timezone.now()
            )
            _event(run, ProcessingRunEvent.Action.FAIL, None, message)
    run.refresh_from_db()
    return run


def _set_progress(run: ProcessingRun, **fields: int) -> None:
    ProcessingRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now(), **fields)


def _process(run: ProcessingRun) -> None:
    items = crossmatch.period_items(run.period)
    total = len(items)
    # +1 step for the Dukcapil/write phase, so the bar is never full before the end.
    _set_progress(run, progress_total=total + 1, progress_done=0)
    reasons: dict[int, list[dict[str, str]]] = defaultdict(list)

    def add(found: dict[int, list[dict[str, str]]]) -> None:
        for pid, rs in found.items():
            reasons[pid] += [r for r in rs if r not in reasons[pid]]

    by_batch: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_batch[item["batch_id"]].append(item)
    done = 0
    for key in sorted(by_batch, key=lambda b: (b is None, b or 0)):
        group = by_batch[key]
        add(check_items(group))
        done += len(group)
        _set_progress(run, progress_done=done)  # committed: the UI polls it
    add(crossmatch.crossmatch(items))

    with transaction.atomic():
        found, batch_id = _match_dukcapil(run, items)
        add(found)
        results = [
            ProcessingResult(
                run=run,
                proposal_id=item["id"],
                region_code=item["region_code"],
                outcome=outcome_for(reasons.get(item["id"], [])),
                reasons=reasons.get(item["id"], []),
            )
            for item in items
        ]
        ProcessingResult.objects.bulk_create(results, batch_size=dukcapil.CHUNK)
        counts = _summarise(run)
        counts["dukcapil_batch"] = batch_id
        ProcessingRun.objects.filter(pk=run.pk).update(
            state=RunState.SELESAI,
            finished_at=timezone.now(),
            counts=counts,
            progress_done=total + 1,
        )
        _event(run, ProcessingRunEvent.Action.FINISH, None, f"{total} usulan")


def outcome_for(reasons: list[dict[str, str]]) -> str:
    """DITOLAK if any reason is unfixable, DIKEMBALIKAN if any other, else DITERIMA."""
    codes = {r["code"] for r in reasons}
    if codes & REJECT_CODES:
        return Outcome.DITOLAK
    return Outcome.DIKEMBALIKAN if codes else Outcome.DITERIMA


def _match_dukcapil(
    run: ProcessingRun, items: list[dict[str, Any]]
) -> tuple[dict[int, list[dict[str, str]]], int | None]:
    """Dukcapil reasons per item, and the exchange used (test double) or None (file)."""
    wanted: dict[str, set[int]] = defaultdict(set)  # nik -> item ids
    request: dict[tuple[str, int | None], str] = {}  # (nik, person) -> desa
    for item in items:
        for nik in crossmatch.proposed_niks(item):
            if check_nik(nik).ok:  # invalid NIKs are integrity's (nik_tidak_valid)
                wanted[nik].add(item["id"])
                request.setdefault((nik, None), item["region_code"])
    targets = {i["person_id"]: i["id"] for i in items if i["kind"] in MATCHED_TARGET_KINDS}
    targets = {k: v for k, v in targets.items() if k}
    ids = list(targets)
    for start in range(0, len(ids), dukcapil.CHUNK):
        rows = Person.objects.filter(
            pk__in=ids[start : start + dukcapil.CHUNK], padan=Padan.BELUM, nik__isnull=False
        ).values_list("pk", "nik", "region_code")
        for pk, nik, region in rows:
            if nik:
                wanted[nik].add(targets[pk])
                request[(nik, pk)] = region
    if not wanted:
        return {}, None
    adapter = dukcapil.get_adapter(by=run.started_by)
    batch_id = None
    if adapter.immediate:
        batch = adapter.request((nik, pk, region) for (nik, pk), region in request.items())
        rows = list(adapter.results(batch))
        dukcapil.apply_matches(batch, rows)
        status: dict[str, bool] = {}
        for row in rows:  # a NIK seen twice: tidak padan wins
            status[row.nik] = status.get(row.nik, True) and row.padan
        batch_id = batch.pk
    else:
        status = dukcapil.latest_matches(wanted)
    found: dict[int, list[dict[str, str]]] = defaultdict(list)
    for nik, pids in wanted.items():
        padan = status.get(nik)
        if padan:
            continue
        code = "nik_belum_padan" if padan is None else "nik_tidak_padan"
        for pid in pids:
            found[pid].append(dukcapil.reason(code, nik))
    return dict(found), batch_id


def _summarise(run: ProcessingRun) -> dict[str, Any]:
    """Counts per outcome (one GROUP BY) and per reason code (one pass over the reasons)."""
    outcomes = dict(
        ProcessingResult.objects.filter(run=run)
        .values("outcome")
        .annotate(n=Count("id"))
        .values_list("outcome", "n")
        .order_by()
    )
    per_reason: Counter[str] = Counter()
    for reasons in (
        ProcessingResult.objects.filter(run=run)
        .exclude(reasons=[])
        .values_list("reasons", flat=True)
    ):
        per_reason.update({r["code"] for r in reasons or []})
    return {
        "total": sum(outcomes.values()),
        "outcomes": {o.value: outcomes.get(o.value, 0) for o in Outcome},
        "reasons": dict(per_reason.most_common()),
    }


# --- review -------------------------------------------------------------------------------


def is_reviewed(run: ProcessingRun) -> bool:
    return run.events.filter(action=ProcessingRunEvent.Action.REVIEW).exists()


def ready_for_determination(run: ProcessingRun) -> bool:
    """A finished run whose review has been applied (determination may use it)."""
    return run.state == RunState.SELESAI and is_reviewed(run)


def _ensure_reviewable(run: ProcessingRun) -> None:
    if run.state != RunState.SELESAI:
        raise ProcessingError(
            "not_finished",
            f"Proses #{run.pk} belum selesai atau sudah ditetapkan.",
            f"Run #{run.pk} is not finished or already determined.",
        )
    if is_reviewed(run):
        raise ProcessingError(
            "reviewed",
            f"Tinjauan proses #{run.pk} sudah diterapkan.",
            f"The review of run #{run.pk} was already applied.",
        )


def override_result(
    *, by: User, result: ProcessingResult, outcome: str, note: str
) -> ProcessingResult:
    """Pusat changes one item's outcome during review (who and why are recorded)."""
    ensure_pusat(by)
    _ensure_reviewable(result.run)
    if outcome not in Outcome.values:
        raise ProcessingError("outcome", "Hasil tidak dikenal.", "Unknown outcome.")
    if not note.strip():
        raise ProcessingError(
            "note_required",
            "Perubahan hasil memerlukan catatan.",
            "Changing an outcome needs a note.",
        )
    reasons = list(result.reasons or [])
    if outcome != Outcome.DITERIMA and not reasons:
        # The kab/kota must learn why: the note becomes the reason.
        reasons.append(
            {
                "code": "tinjauan_pusat",
                "message_id": f"Catatan tinjauan pusat: {note.strip()}",
                "message_en": f"Ministry review note: {note.strip()}",
            }
        )
    with transaction.atomic():
        ProcessingResult.objects.filter(pk=result.pk).update(
            outcome=outcome, reasons=reasons, overridden_by=by, override_note=note.strip()
        )
        _event(
            result.run,
            ProcessingRunEvent.Action.OVERRIDE,
            by,
            f"#{result.proposal_id}: {result.outcome} → {outcome}. {note.strip()}",
            result=result,
        )
        counts = dict(result.run.counts or {})
        counts.update(_summarise(result.run))
        ProcessingRun.objects.filter(pk=result.run_id).update(counts=counts)
    result.refresh_from_db()
    return result


@dataclass(frozen=True)
class ReviewResult:
    returned: int
    rejected: int
    accepted: int


def apply_review(*, by: User, run: ProcessingRun) -> ReviewResult:
    """Send the run's decisions through the proposals workflow, all or nothing: returned
    items go back to their kab/kota with their reasons, rejected ones are closed, accepted
    ones still in PROSES_PUSAT are accepted (via "integrity"); the others stay DITERIMA_PUSAT
    for the determination."""
    ensure_pusat(by)
    with transaction.atomic():
        run = ProcessingRun.objects.select_for_update().get(pk=run.pk)
        _ensure_reviewable(run)
        results = ProcessingResult.objects.filter(run=run)
        moves = {}
        for outcome, action, label in (
            (Outcome.DIKEMBALIKAN, "return_to_kabkota", "dikembalikan ke kab/kota"),
            (Outcome.DITOLAK, "reject_pusat", "ditolak"),
        ):
            of = results.filter(outcome=outcome)
            expected = of.count()
            moved = 0
            if expected:
                moved = bulk_transition(
                    Proposal.objects.filter(pk__in=Subquery(of.values("proposal_id"))),
                    action,
                    by=by,
                    note=f"Hasil proses nasional {run.period}: {label}.",
                    via="proposal",
                ).moved
            if moved != expected:
                stuck = list(
                    Proposal.objects.filter(pk__in=Subquery(of.values("proposal_id")))
                    .exclude(status=_target_status(action))
                    .values_list("pk", flat=True)[:20]
                )
                raise ProcessingError(
                    "review_conflict",
                    f"{expected - moved} usulan tidak dapat {label} dari statusnya sekarang "
                    f"(mis. #{', #'.join(map(str, stuck))}); tinjauan tidak diterapkan.",
                    f"{expected - moved} proposals cannot be {_EN[action]} from their current "
                    f"status (e.g. #{', #'.join(map(str, stuck))}); the review was not applied.",
                )
            moves[outcome] = moved
        sent = results.exclude(outcome=Outcome.DITERIMA).values_list("proposal_id", "reasons")
        Proposal.objects.bulk_update(
            [Proposal(pk=pid, return_reasons=reasons) for pid, reasons in sent],
            ["return_reasons"],
            batch_size=1000,
        )
        accepted_ids = results.filter(outcome=Outcome.DITERIMA).values("proposal_id")
        accepted = bulk_transition(
            Proposal.objects.filter(pk__in=Subquery(accepted_ids), status=Status.PROSES_PUSAT),
            "accept",
            by=by,
            via="integrity",
        ).moved
        Proposal.objects.filter(pk__in=Subquery(accepted_ids)).exclude(return_reasons=[]).update(
            return_reasons=[]
        )
        review = ReviewResult(moves[Outcome.DIKEMBALIKAN], moves[Outcome.DITOLAK], accepted)
        _event(
            run,
            ProcessingRunEvent.Action.REVIEW,
            by,
            f"{review.returned} dikembalikan, {review.rejected} ditolak, "
            f"{results.filter(outcome=Outcome.DITERIMA).count()} diterima",
        )
        _notify_kabkota(run)
    return review


_EN = {"return_to_kabkota": "returned to the kab/kota", "reject_pusat": "rejected"}


def _target_status(action: str) -> str:
    from terpadu.proposals.transitions import TRANSITIONS

    return TRANSITIONS[action].target


def _notify_kabkota(run: ProcessingRun) -> None:
    """One notification per kab/kota user: how many of their items came back."""
    from django.db.models.functions import Substr

    from terpadu.accounts.models import User
    from terpadu.core.models import Notification
    from terpadu.proposals.transitions import KABKOTA_ROLES

    per_kab = dict(
        ProcessingResult.objects.filter(run=run)
        .exclude(outcome=Outcome.DITERIMA)
        .annotate(kab=Substr("region_code", 1, 4))
        .values("kab")
        .annotate(n=Count("id"))
        .values_list("kab", "n")
        .order_by()
    )
    if not per_kab:
        return
    users = User.objects.filter(
        role__in=list(KABKOTA_ROLES), scope__in=list(per_kab), is_active=True
    ).values_list("pk", "scope")
    Notification.objects.bulk_create(
        Notification(
            user_id=pk,
            message_id=f"{per_kab[scope]} usulan dikembalikan/ditolak pada proses nasional "
            f"{run.period}.",
            message_en=f"{per_kab[scope]} proposals were returned/rejected by the national "
            f"processing of {run.period}.",
            link="/usulan/periksa/?tab=dikembalikan",
        )
        for pk, scope in users
    )
