"""Set-based creation of many proposals at once (imports of BNBA/verivali files).

The same proposals `creation.propose_new_household` and `creation.propose_correction` write,
with the same payloads (built by their own payload builders, so the registry rules and the
payload shape stay in one place), but written with one `bulk_create` for the proposals and
one for their "create" events, whatever their number. The caller has checked the actor's
right over every region (``creation.ensure_can_propose``) and holds the transaction.

Every proposal carries where it came from: ``payload["source"] = {"import_job": id, "rows":
[row numbers]}`` and the creation event's note names the import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from terpadu.proposals import creation
from terpadu.proposals.models import Kind, Proposal, ProposalEvent, Status
from terpadu.regions.models import Region
from terpadu.registry import records
from terpadu.registry.models import Household
from terpadu.registry.records import RecordIssue, RegistryError, insert_rows_bulk

if TYPE_CHECKING:
    from terpadu.accounts.models import User


@dataclass
class NewHousehold:
    """One usulan baru: a household bundle as `propose_new_household` takes it."""

    region: Region
    families: Sequence[Mapping[str, Any]]
    household_fields: Mapping[str, Any] = field(default_factory=dict)
    rows: Sequence[int] = ()
    key: str = ""
    # The values already passed the registry's field cleaning (an import's dry run, typed
    # values): the payload is built without cleaning them again (see `new_household_payload`).
    precleaned: bool = False


@dataclass
class Correction:
    """One perbaikan: field changes to a registry row, as `propose_correction` takes them."""

    target: Any  # Person | Family | Household
    changes: Mapping[str, Any]
    rows: Sequence[int] = ()


@dataclass
class BulkResult:
    proposals: list[Proposal]
    unchanged: int  # corrections that changed nothing (skipped, as propose_correction refuses)


def _source(source: Mapping[str, Any] | None, rows: Sequence[int]) -> dict[str, Any]:
    out = dict(source or {})
    if rows:
        out["rows"] = list(rows)
    return out


def new_household_payload(
    region: Region,
    household_fields: Mapping[str, Any],
    families: Sequence[Mapping[str, Any]],
    *,
    precleaned: bool = False,
) -> tuple[dict[str, Any], str]:
    """The payload and summary of `creation._new_household_payload`; with `precleaned` (the
    typed values the registry's field cleaning already accepted) the bundle rules run without
    cleaning every field again: the same payload and warnings (proved by
    imports/tests/test_engine_precleaned_payload.py, warning cases included)."""
    if not precleaned:
        return creation._new_household_payload(region, household_fields, families)
    issues = records.validate_household_bundle(region, families, household_fields, precleaned=True)
    if any(i.severity == "error" for i in issues):
        raise creation.ProposalError(issues)
    fams = creation._json_bundle(list(families))
    payload = {
        "household_fields": creation._json_bundle(dict(household_fields)),
        "families": fams,
        "warnings": [creation._issue_dict(i) for i in issues],
    }
    n = sum(len(f.get("members") or []) for f in fams)
    summary = f"Ruta baru: {creation._head_name(fams) or '-'} ({n} ART)"
    return payload, summary


def create_bulk(
    *,
    by: User,
    reason: str,
    new_households: Sequence[NewHousehold] = (),
    corrections: Sequence[Correction] = (),
    source: Mapping[str, Any] | None = None,
    batch_size: int = 2000,
) -> BulkResult:
    """Validate every payload with the registry's rules, then write all proposals in DRAFT.

    Any error refuses the lot (ProposalError listing every issue, paths prefixed with the
    household key or the target); corrections that change nothing are skipped and counted.
    """
    reason = creation._ensure_reason(reason)
    issues: list[RecordIssue] = []
    objs: list[Proposal] = []
    actor_role = by.role or ("superuser" if by.is_superuser else "")
    for item in new_households:
        try:
            payload, summary = new_household_payload(
                item.region, item.household_fields, item.families, precleaned=item.precleaned
            )
        except RegistryError as exc:
            prefix = item.key or f"rows {list(item.rows)[:3]}"
            issues += [
                RecordIssue(f"{prefix}.{i.path}", i.code, i.severity, i.message_id, i.message_en)
                for i in exc.issues
            ]
            continue
        if source is not None:
            payload["source"] = _source(source, item.rows)
        objs.append(
            Proposal(
                kind=Kind.BARU,
                status=Status.DRAFT,
                reason=reason,
                summary=summary[:200],
                created_by=by,
                region=item.region,
                region_code=item.region.digits,
                target_type="household",
                payload=payload,
            )
        )
    unchanged = 0
    # Region ids of the targets' households in one query (creation._region_id_of is per row).
    hh_ids = {
        c.target.pk if isinstance(c.target, Household) else c.target.household_id
        for c in corrections
    }
    region_of = dict(Household.objects.filter(pk__in=hh_ids).values_list("pk", "region_id"))
    heads = creation.household_heads(
        c.target.pk for c in corrections if isinstance(c.target, Household)
    )
    for item in corrections:
        target = item.target
        try:
            payload, names = creation._correction_payload(target, item.changes)
        except RegistryError as exc:
            if [i.code for i in exc.issues] == ["no_change"]:
                unchanged += 1
                continue
            prefix = f"{target._meta.model_name}#{target.pk}"
            issues += [
                RecordIssue(f"{prefix}.{i.path}", i.code, i.severity, i.message_id, i.message_en)
                for i in exc.issues
            ]
            continue
        if source is not None:
            payload["source"] = _source(source, item.rows)
        fields = ", ".join(creation._field_label(type(target), n) for n in names)
        hh_id = target.pk if isinstance(target, Household) else target.household_id
        objs.append(
            Proposal(
                kind=Kind.PERBAIKAN,
                status=Status.DRAFT,
                reason=reason,
                summary=f"Perbaikan {creation._target_label(target, heads)}: {fields}"[:200],
                created_by=by,
                region_id=region_of[hh_id],
                region_code=target.region_code,
                payload=payload,
                **creation._target_fields(target),
            )
        )
    if issues:
        raise creation.ProposalError(issues)
    # COPY on PostgreSQL, one executemany on SQLite (Django's bulk INSERT builds SQL per row).
    created = insert_rows_bulk(Proposal, objs, batch_size=batch_size)
    insert_rows_bulk(
        ProposalEvent,
        [
            ProposalEvent(
                proposal=p,
                action="create",
                from_status="",
                to_status=Status.DRAFT,
                actor=by,
                actor_role=actor_role,
                actor_scope=by.scope,
                note=reason,
            )
            for p in created
        ],
        batch_size=batch_size,
    )
    return BulkResult(created, unchanged)
