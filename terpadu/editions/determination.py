"""Determination (penetapan): apply the month's accepted proposals and freeze the edition.

`determine_edition` runs in ONE transaction and costs O(changes), with a fixed number of
statements per table and column whatever the number of proposals:

1. read the accepted proposals (DITERIMA_PUSAT of the run, or of periods up to this one) and
   the registry rows they touch (one SELECT per source, only the columns needed, as light
   instances: `_instances`);
2. plan every change in memory with the registry's own rules (`records.clean_changes`,
   `records.apply_values`: cleaning, NIK checks, derived columns) — nothing written yet;
3. copy the touched rows into their version tables and write the planned values with the
   edition stamp (`versions.update_with_versions`: on PostgreSQL ONE UPDATE per table whose
   RETURNING of the old rows feeds the version INSERT), re-stamp the memberships of moved
   households, create the new households
   (`records.create_households_bulk`), stamp ``penetapan_period`` on every touched row;
4. write the history (one ChangeSet, Change rows in bulk: one COPY on PostgreSQL,
   `records.write_changes_bulk`), move the proposals to DITETAPKAN
   (`bulk_transition(…, "determine", via="edition")`), mark the run, create the Edition with
   its counts. Editions are never edited afterwards (Edition.save refuses).

Any failure rolls the whole determination back: no partial edition, no half-applied month.
"""

from __future__ import annotations

import datetime as dt
import gc
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import connection, models, transaction
from django.db.models.base import ModelState
from django.utils import timezone

from terpadu.accounts.models import Role
from terpadu.core.signals import announce_bulk_change
from terpadu.editions.models import Edition, ProcessingResult, ProcessingRun
from terpadu.editions.versions import VERSION_OF, update_with_versions
from terpadu.proposals.models import Kind, Proposal, Status, Target
from terpadu.proposals.workflow import bulk_transition
from terpadu.regions.models import Region
from terpadu.registry import records
from terpadu.registry.models import (
    Change,
    ChangeSet,
    Family,
    Household,
    Person,
    RecordStatus,
)
from terpadu.registry.records import RecordIssue, RegistryError

if TYPE_CHECKING:
    from terpadu.accounts.models import User

PERIOD_FORMAT = "%Y-%m"
# Within one edition the kinds apply in this order, each in proposal order: a correction
# and a deactivation of the same person both land, the deactivation last.
KIND_ORDER = (Kind.PERBAIKAN, Kind.PEMINDAHAN, Kind.NONAKTIF, Kind.REAKTIVASI)
_MODELS: dict[str, type[models.Model]] = {
    Target.PERSON: Person,
    Target.FAMILY: Family,
    Target.HOUSEHOLD: Household,
}
_UNIT_KINDS = (Kind.NONAKTIF, Kind.REAKTIVASI, Kind.PEMINDAHAN)


class DeterminationError(RegistryError):
    """The determination was refused; nothing was written (`issues` says why, id/en)."""


def _refuse(code: str, message_id: str, message_en: str) -> DeterminationError:
    return DeterminationError([RecordIssue("", code, "error", message_id, message_en)])


class StepTimer:
    """Per-step wall time (and, on PostgreSQL, WAL bytes) of one determination, for the bench
    and for operators chasing a slow month: ``determine_edition(..., timings={})`` fills the
    dict with ``{step: {"s": seconds, "wal_mb": megabytes}}`` in the order the steps ran.
    Without a dict it costs nothing (no extra query)."""

    def __init__(self, out: dict[str, dict[str, float]] | None) -> None:
        self.out = out
        self.wal = out is not None and connection.vendor == "postgresql"
        self._open: dict[str, tuple[float, int]] = {}

    def _lsn(self) -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn")
            return int(cursor.fetchone()[0])

    def start(self, name: str) -> None:
        """Start timing step `name` (see `stop`; `__call__` wraps both around a block)."""
        if self.out is not None:
            self._open[name] = (time.perf_counter(), self._lsn() if self.wal else 0)

    def stop(self, name: str) -> None:
        """Record the step started by `start(name)`."""
        if self.out is None or name not in self._open:
            return
        began, lsn = self._open.pop(name)
        took = {"s": round(time.perf_counter() - began, 3)}
        if self.wal:
            took["wal_mb"] = round((self._lsn() - lsn) / 2**20, 1)
        self.out[name] = took

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        self.start(name)
        try:
            yield
        finally:
            self.stop(name)


@contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector for the block.

    A determination builds hundreds of thousands of small, long-lived objects (rows, plans,
    diffs); each allocation burst triggers collections that walk all of them again — about
    half of the planning time at 1 M persons (measured: 3.4 s → 1.5 s). Nothing here makes
    reference cycles worth collecting mid-way; collection resumes right after.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _tune_transaction() -> None:
    """PostgreSQL, for this transaction only: no JIT. The determination's statements join
    tens of thousands of ids to 10 M-row tables, so their estimated cost passes
    ``jit_above_cost`` and each one would first spend tens of milliseconds (37 ms measured
    for the row loading at 10 M persons; more with inlining and optimisation above 500 k)
    compiling code that saves nothing on work bound by page reads and WAL writes."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


# --- selection ------------------------------------------------------------------------------


def accepted_proposals(period: str, run: ProcessingRun | None = None) -> models.QuerySet[Proposal]:
    """The proposals a determination of `period` applies: the run's accepted items when a
    run is given, otherwise every DITERIMA_PUSAT proposal of `period` or earlier."""
    qs = Proposal.objects.filter(status=Status.DITERIMA_PUSAT)
    if run is not None:
        accepted = ProcessingResult.objects.filter(
            run=run, outcome=ProcessingResult.Outcome.DITERIMA
        ).values("proposal_id")
        return qs.filter(pk__in=accepted)
    return qs.filter(period__lte=period)


def _check(by: User, period: str, run: ProcessingRun | None) -> None:
    if not by.is_active or by.role != Role.PUSAT:
        raise PermissionDenied
    try:
        dt.datetime.strptime(period, PERIOD_FORMAT)  # noqa: DTZ007 — a month, not a moment
    except ValueError:
        raise _refuse(
            "bad_period", "Periode harus berformat YYYY-MM.", "The period must be YYYY-MM."
        ) from None
    if Edition.objects.filter(period=period).exists():
        raise _refuse(
            "edition_exists",
            f"Edisi {period} sudah ditetapkan.",
            f"Edition {period} has already been determined.",
        )
    latest = Edition.objects.order_by("-period").values_list("period", flat=True).first()
    if latest and period < latest:
        raise _refuse(
            "period_before_latest",
            f"Periode {period} sebelum edisi terakhir ({latest}).",
            f"Period {period} is before the latest edition ({latest}).",
        )
    if run is not None and (run.period != period or run.state != ProcessingRun.State.SELESAI):
        raise _refuse(
            "run_not_ready",
            "Proses nasional belum selesai atau untuk periode lain.",
            "The national processing run is not finished or is for another period.",
        )


# --- planning -------------------------------------------------------------------------------


@dataclass
class _Edit:
    """Planned change of one registry row: merged diff, columns to write, history action."""

    obj: models.Model
    diff: dict[str, list[Any]] = field(default_factory=dict)
    dirty: set[str] = field(default_factory=set)
    action: str = Change.Action.UPDATE.value

    def apply(self, values: dict[str, Any], action: str | None = None) -> dict[str, list[Any]]:
        diff, dirty = records.apply_values(self.obj, values)
        for name, (old, new) in diff.items():
            self.diff[name] = [self.diff[name][0] if name in self.diff else old, new]
        self.dirty |= dirty
        if action and diff:
            self.action = action
        return diff


@dataclass
class _Plan:
    rows: dict[type[models.Model], dict[int, models.Model]]
    edits: dict[type[models.Model], dict[int, _Edit]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    counts: dict[str, Any] = field(default_factory=dict)

    def edit(self, obj: models.Model) -> _Edit:
        by_pk = self.edits[type(obj)]
        if obj.pk not in by_pk:
            by_pk[obj.pk] = _Edit(obj)
        return by_pk[obj.pk]


_PROPOSAL_COLUMNS = (
    "id",
    "kind",
    "target_type",
    "person_id",
    "family_id",
    "household_id",
    "region_id",
    "destination_id",
    "reason_code",
    "payload",
)
_ALWAYS = {
    Person: {"household", "family", "region_code", "status", "nonaktif_reason"},
    Family: {"household", "head", "region_code", "status", "nonaktif_reason"},
    Household: {"region", "region_code", "status", "nonaktif_reason"},
}
_PERSON_SOURCES = {
    "relation_kk",
    "sex",
    "birth_date",
    "name",
    "mother_name",
    "employment_status",
    "name_norm",
    "mother_name_norm",
    "informal_work",
    "penetapan_period",
}


def _load_rows(accepted: models.QuerySet[Proposal], proposals: list[dict[str, Any]]) -> _Plan:
    """One SELECT per table for every row the proposals touch, with the columns needed."""
    named: dict[type[models.Model], set[str]] = defaultdict(set)
    for p in proposals:
        if p["kind"] == Kind.PERBAIKAN and p["target_type"] in _MODELS:
            named[_MODELS[p["target_type"]]] |= set((p["payload"] or {}).get("changes", {}))

    def ids(kinds: Iterable[str], target: str, column: str) -> models.QuerySet[Proposal]:
        return accepted.filter(kind__in=list(kinds), target_type=target).values(column)

    unit_hh = ids(_UNIT_KINDS, Target.HOUSEHOLD, "household_id")
    unit_fam = ids((Kind.NONAKTIF, Kind.REAKTIVASI), Target.FAMILY, "family_id")
    # One SELECT per source, not an OR of subqueries: each part uses its own index (pk,
    # family_id, household_id) where an OR would scan the table.
    wanted: dict[type[models.Model], list[models.Q]] = {
        Household: [
            models.Q(pk__in=accepted.filter(target_type=Target.HOUSEHOLD).values("household_id"))
        ],
        Family: [
            models.Q(pk__in=accepted.filter(target_type=Target.FAMILY).values("family_id")),
            models.Q(household_id__in=unit_hh),
        ],
        Person: [
            models.Q(pk__in=accepted.filter(target_type=Target.PERSON).values("person_id")),
            models.Q(family_id__in=unit_fam),
            models.Q(household_id__in=unit_hh),
        ],
    }
    rows: dict[type[models.Model], dict[int, models.Model]] = {}
    for model, parts in wanted.items():
        columns = _ALWAYS[model] | {"penetapan_period"} | _valid(model, named[model])
        if model is Person:
            columns |= _PERSON_SOURCES
        rows[model] = {}
        for q in parts:
            for obj in _instances(model.objects.filter(q), columns):
                rows[model].setdefault(obj.pk, obj)
    return _Plan(rows)


def _instances(qs: models.QuerySet[Any], names: Iterable[str]) -> Iterator[models.Model]:
    """The rows of `qs` as instances holding only the fields `names` (plus the pk), like
    ``qs.only(*names)`` but without running ``Model.__init__`` over every field of the
    model: ≈ 3 µs a row instead of ≈ 25 µs (Person has ≈ 50 fields), which counts at the
    ≈ 90 k rows of a 1 % month at 10 M persons. The instances are ordinary saved instances
    (``_state.adding`` False); a field not loaded is deferred and reads from the database
    on access, as with ``only()``."""
    model = qs.model
    pk = model._meta.pk.attname
    attnames = [pk, *sorted({model._meta.get_field(n).attname for n in names} - {pk})]
    new, db = model.__new__, qs.db
    for values in qs.values_list(*attnames):
        obj = new(model)
        state = obj._state = ModelState()
        state.adding, state.db = False, db
        obj.__dict__.update(zip(attnames, values, strict=True))
        yield obj


def _valid(model: type[models.Model], names: set[str]) -> set[str]:
    fields = {f.name for f in model._meta.concrete_fields}
    return names & fields


def _index_members(plan: _Plan) -> dict[tuple[type[models.Model], int], list[models.Model]]:
    out: dict[tuple[type[models.Model], int], list[models.Model]] = defaultdict(list)
    for fam in plan.rows[Family].values():
        out[(Household, fam.household_id)].append(fam)
    for person in plan.rows[Person].values():
        out[(Household, person.household_id)].append(person)
        out[(Family, person.family_id)].append(person)
    return out


def _plan(
    accepted: models.QuerySet[Proposal], proposals: list[dict[str, Any]], step: StepTimer
) -> _Plan:
    with step("plan_load"):
        plan = _load_rows(accepted, proposals)
    members = _index_members(plan)
    issues: list[RecordIssue] = []
    corrected: dict[str, Counter[str]] = defaultdict(Counter)
    moved_hh: list[int] = []
    order = {k: i for i, k in enumerate(KIND_ORDER)}
    regions = Region.objects.in_bulk(
        {p["destination_id"] for p in proposals if p["kind"] == Kind.PEMINDAHAN}
    )
    for p in sorted(proposals, key=lambda p: (order.get(p["kind"], 99), p["id"])):
        if p["kind"] == Kind.BARU:
            continue
        model = _MODELS.get(p["target_type"])
        obj = plan.rows[model].get(p[f"{p['target_type']}_id"]) if model else None
        if obj is None:
            issues.append(_missing(p))
            continue
        where = f"usulan #{p['id']}"
        if p["kind"] == Kind.PERBAIKAN:
            changes = (p["payload"] or {}).get("changes", {})
            values, found = records.clean_changes(obj, changes)
            issues += [_at(where, i) for i in found if i.severity == "error"]
            diff = plan.edit(obj).apply(values)
            corrected[obj._meta.model_name].update(diff.keys())
        elif p["kind"] == Kind.PEMINDAHAN:
            dest = regions[p["destination_id"]]
            if plan.edit(obj).apply({"region": dest.pk, "region_code": dest.digits}):
                moved_hh.append(obj.pk)
            for member in members[(Household, obj.pk)]:
                plan.edit(member).apply({"region_code": dest.digits})
        elif p["kind"] == Kind.NONAKTIF:
            off = {"status": RecordStatus.NONAKTIF.value, "nonaktif_reason": p["reason_code"]}
            for row in [obj, *members.get((model, obj.pk), [])]:
                if row.status != RecordStatus.NONAKTIF:
                    plan.edit(row).apply(off, Change.Action.DEACTIVATE)
        elif p["kind"] == Kind.REAKTIVASI:
            reason = obj.nonaktif_reason
            on = {"status": RecordStatus.AKTIF.value, "nonaktif_reason": ""}
            if obj.status == RecordStatus.NONAKTIF:
                plan.edit(obj).apply(on, Change.Action.REACTIVATE)
            # Members that went with the unit (same reason) come back with it.
            for row in members.get((model, obj.pk), []):
                if row.status == RecordStatus.NONAKTIF and row.nonaktif_reason == reason:
                    plan.edit(row).apply(on, Change.Action.REACTIVATE)
    if issues:
        raise DeterminationError(issues)
    _plan_heads(plan)
    person_edits = plan.edits[Person].values()
    plan.counts = {
        "corrected": {entity: dict(c) for entity, c in corrected.items()},
        "deactivated": dict(
            Counter(
                e.obj.nonaktif_reason
                for e in person_edits
                if e.action == Change.Action.DEACTIVATE and "status" in e.diff
            )
        ),
        "reactivated": sum(
            1 for e in person_edits if e.action == Change.Action.REACTIVATE and "status" in e.diff
        ),
        "moved": {
            "households": len(moved_hh),
            "persons": sum(1 for e in person_edits if "region_code" in e.diff),
        },
    }
    plan.counts["_moved_households"] = moved_hh
    return plan


def _plan_heads(plan: _Plan) -> None:
    """A changed relation_kk moves the family head as `records.update_person` does."""
    changed = [e for e in plan.edits[Person].values() if "relation_kk" in e.diff]
    if not changed:
        return
    missing = {e.obj.family_id for e in changed} - set(plan.rows[Family])
    ordered = sorted(missing)
    for start in range(0, len(ordered), 20_000):  # PostgreSQL takes ≤ 65,535 parameters
        chunk = ordered[start : start + 20_000]
        more = _instances(Family.objects.filter(pk__in=chunk), _ALWAYS[Family])
        plan.rows[Family].update({f.pk: f for f in more})
    # Heads that step down first, so a swap within one family leaves the new head in place.
    changed.sort(key=lambda e: e.diff["relation_kk"][0] != records.RELATION_HEAD)
    for e in changed:
        family = plan.rows[Family][e.obj.family_id]
        old, new = e.diff["relation_kk"]
        head = family.head_id
        if new == records.RELATION_HEAD and head is None:
            head = e.obj.pk
        elif old == records.RELATION_HEAD and head == e.obj.pk:
            head = None
        if head != family.head_id:
            plan.edit(family).apply({"head": head})


def _missing(p: dict[str, Any]) -> RecordIssue:
    return RecordIssue(
        f"usulan #{p['id']}",
        "target_missing",
        "error",
        f"Data sasaran usulan #{p['id']} tidak ditemukan.",
        f"The record of proposal #{p['id']} was not found.",
    )


def _at(where: str, issue: RecordIssue) -> RecordIssue:
    path = f"{where}.{issue.path}" if issue.path else where
    return RecordIssue(path, issue.code, issue.severity, issue.message_id, issue.message_en)


# --- writing --------------------------------------------------------------------------------


def _write(plan: _Plan, changeset: ChangeSet, period: str, step: StepTimer) -> None:
    history: list[tuple[models.Model, str, dict[str, list[Any]]]] = []
    now = timezone.now()
    for model in VERSION_OF:
        edits = plan.edits[model].values()
        rows: dict[int, dict[str, Any]] = {}
        for e in edits:
            rows[e.obj.pk] = {
                name: getattr(e.obj, model._meta.get_field(name).attname) for name in e.dirty
            }
            # A member only re-stamped under its moved household gets no Change of its own:
            # the household's Change records the move (as records.update_household does).
            if set(e.diff) - {"region_code"} or (e.diff and model is Household):
                history.append((e.obj, e.action, e.diff))
        # Each row's previous state into its version table, then its new values and the
        # edition stamp: one statement per field set, each row read and written once.
        with step(f"update_{model._meta.model_name}"):
            update_with_versions(model, rows, period, penetapan_period=period, updated_at=now)
    moved = plan.counts.pop("_moved_households")
    with step("restamp_moved"):
        if moved:
            records.restamp_regions_bulk(Household.objects.filter(pk__in=moved), units=False)
    with step("memberships"):
        records.sync_memberships_bulk(
            [pk for pk, e in plan.edits[Person].items() if "relation_kk" in e.diff]
        )
    with step("history"):
        records.record_changes_bulk(changeset, history)


def _create_new(
    changeset: ChangeSet, proposals: list[dict[str, Any]], period: str
) -> dict[str, int]:
    new = [p for p in proposals if p["kind"] == Kind.BARU]
    if not new:
        return {"households": 0, "families": 0, "persons": 0}
    regions = Region.objects.in_bulk({p["region_id"] for p in new})
    bundles = [
        records.HouseholdBundle(
            key=f"usulan #{p['id']}",
            region=regions[p["region_id"]],
            families=(p["payload"] or {}).get("families", []),
            household_fields=(p["payload"] or {}).get("household_fields"),
        )
        for p in new
    ]
    try:
        created = records.create_households_bulk(
            changeset, bundles, stamp={"penetapan_period": period}
        )
    except RegistryError as exc:
        raise DeterminationError(exc.issues) from exc
    return {
        "households": len(created.households),
        "families": len(created.families),
        "persons": len(created.persons),
    }


def determine_edition(
    *,
    by: User,
    period: str,
    decree_number: str,
    decree_date: dt.date,
    signatory: str,
    decree_pdf: File,
    run: ProcessingRun | None = None,
    timings: dict[str, dict[str, float]] | None = None,
) -> Edition:
    """Determine edition `period`: apply the accepted proposals and freeze the edition.

    Pusat only (PermissionDenied otherwise). Refused (DeterminationError, nothing written)
    when the edition exists, the period is before the latest edition, the run is not a
    finished run of this period, or a proposal no longer applies (its record is gone or
    its correction fails the registry's rules). O(changes) in time and storage.
    `timings`, when given, receives the time (and WAL) of each step (`StepTimer`).
    """
    _check(by, period, run)
    step = StepTimer(timings)
    with _no_cyclic_gc(), step("total"), transaction.atomic():
        _tune_transaction()
        with step("select"):
            accepted = accepted_proposals(period, run)
            proposals = list(accepted.values(*_PROPOSAL_COLUMNS))
            changeset = records.open_changeset(
                by=by,
                reason=f"Penetapan DTKS {period} ({decree_number})",
                source=ChangeSet.Source.PROPOSAL,
                source_ref=f"penetapan {period}",
            )
        with step("plan"):
            plan = _plan(accepted, proposals, step)
        _write(plan, changeset, period, step)
        with step("new_households"):
            added = _create_new(changeset, proposals, period)
        with step("proposals"):
            moved = bulk_transition(
                accepted, "determine", by=by, via="edition", note=f"Penetapan DTKS {period}"
            )
        if moved.moved != len(proposals):
            raise _refuse(
                "proposals_moved",
                "Sebagian usulan berubah status selama penetapan; ulangi.",
                "Some proposals changed status during the determination; try again.",
            )
        if run is not None:
            ProcessingRun.objects.filter(pk=run.pk).update(state=ProcessingRun.State.DITETAPKAN)
        counts = {
            "proposals": dict(Counter(p["kind"] for p in proposals)),
            "added": added,
            **plan.counts,
            "versions": {m._meta.model_name: len(plan.edits[m]) for m in VERSION_OF},
        }
        edition = Edition.objects.create(
            period=period,
            decree_number=decree_number,
            decree_date=decree_date,
            signatory=signatory,
            decree_pdf=decree_pdf,
            run=run,
            determined_by=by,
            counts=counts,
        )
        if step.wal:
            # The deferred foreign-key checks run here instead of inside COMMIT, so the
            # timings tell them apart from the commit's WAL flush.
            with step("fk_checks"), connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        transaction.on_commit(
            lambda: announce_bulk_change(Edition, source="edition", ref=period, region_code="")
        )
        step.start("commit")
    step.stop("commit")
    return edition
