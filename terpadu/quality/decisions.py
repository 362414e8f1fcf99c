"""Human decisions on quality worklists: every one writes a `QualityDecision` row.

A decision that changes the registry becomes a deactivation proposal through
proposals.creation.propose_deactivation (which checks the user's EDIT right over the record);
nothing here deactivates anything itself. Acting on a flag also closes the open task items
that carry it, so a kab/kota works one list and the province sees the closure.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from terpadu.accounts.access import Action, can
from terpadu.accounts.models import User
from terpadu.proposals.creation import ProposalError, propose_deactivation
from terpadu.proposals.models import Proposal
from terpadu.quality.models import (
    ExclusionFlag,
    FlagStatus,
    GroupResolution,
    NikDuplicateGroup,
    QualityDecision,
    ReviewTaskItem,
    TaskItemState,
    WorkStatus,
)
from terpadu.registry.models import NonaktifReason, Person
from terpadu.registry.records import RecordIssue

Subject = QualityDecision.Subject


def _refuse(code: str, message_id: str, message_en: str) -> ProposalError:
    return ProposalError([RecordIssue("reason", code, "error", message_id, message_en)])


def _reason(reason: str) -> str:
    if not (reason or "").strip():
        raise _refuse(
            "reason_required",
            "Alasan keputusan wajib diisi.",
            "A reason for the decision is required.",
        )
    return reason.strip()


def _ensure_edit(by: User, region_code: str) -> None:
    if not can(by, Action.EDIT, region_code):
        raise PermissionDenied


def _record(
    subject: str,
    subject_id: int,
    action: str,
    *,
    by: User,
    reason: str,
    region_code: str,
    proposal: Proposal | None = None,
) -> QualityDecision:
    return QualityDecision.objects.create(
        subject=subject,
        subject_id=subject_id,
        action=action,
        reason=reason,
        region_code=region_code,
        by=by,
        proposal=proposal,
    )


# --- NIK ganda ------------------------------------------------------------------------------


def _lock_open_group(group: NikDuplicateGroup) -> None:
    """As `_lock_open` for a NIK ganda group: locked, read again, refused unless open."""
    group.refresh_from_db(from_queryset=NikDuplicateGroup.objects.select_for_update())
    if group.status != WorkStatus.OPEN:
        raise _refuse(
            "not_open",
            "Kelompok NIK ganda ini sudah diputuskan.",
            "This duplicate-NIK group has already been decided.",
        )


def propose_group_member(
    *, by: User, group: NikDuplicateGroup, person: Person, reason: str
) -> Proposal:
    """Propose deactivating one record of a NIK ganda group with reason *ganda*."""
    reason = _reason(reason)
    if not group.members.filter(person=person).exists():
        raise _refuse(
            "not_member",
            "Data ini bukan anggota kelompok NIK ganda tersebut.",
            "This record is not a member of that duplicate group.",
        )
    with transaction.atomic():
        _lock_open_group(group)
        proposal = propose_deactivation(
            by=by, target=person, reason_code=NonaktifReason.GANDA, reason=reason
        )
        group.status, group.resolution = WorkStatus.RESOLVED, GroupResolution.PROPOSED
        group.resolved_by, group.resolved_at, group.resolved_note = by, timezone.now(), reason
        group.proposal = proposal
        group.save()
        _record(
            Subject.NIK_GROUP,
            group.pk,
            "proposed",
            by=by,
            reason=reason,
            region_code=person.region_code,
            proposal=proposal,
        )
    return proposal


def dismiss_group(*, by: User, group: NikDuplicateGroup, reason: str) -> None:
    """Mark a group "bukan ganda/sudah benar"; holds until another record joins it."""
    reason = _reason(reason)
    member_regions = list(group.members.values_list("region_code", flat=True))
    if not any(can(by, Action.EDIT, code) for code in member_regions):
        raise PermissionDenied
    with transaction.atomic():
        _lock_open_group(group)
        group.status, group.resolution = WorkStatus.RESOLVED, GroupResolution.NOT_DUPLICATE
        group.resolved_by, group.resolved_at, group.resolved_note = by, timezone.now(), reason
        group.save()
        _record(
            Subject.NIK_GROUP,
            group.pk,
            "not_duplicate",
            by=by,
            reason=reason,
            region_code=group.region_code,
        )


# --- exclusion flags ------------------------------------------------------------------------


def _close_items(flag: ExclusionFlag, state: str, *, by: User, note: str, proposal=None) -> None:  # type: ignore[no-untyped-def]
    items = list(ReviewTaskItem.objects.filter(flag=flag, state=TaskItemState.OPEN))
    now = timezone.now()
    for item in items:
        item.state, item.closed_by, item.closed_at = state, by, now
        item.note, item.proposal = note, proposal
    ReviewTaskItem.objects.bulk_update(
        items, ["state", "closed_by", "closed_at", "note", "proposal"]
    )
    # One INSERT for the decisions, not one per item.
    QualityDecision.objects.bulk_create(
        [
            QualityDecision(
                subject=Subject.TASK_ITEM,
                subject_id=item.pk,
                action=state,
                reason=note,
                region_code=item.region_code,
                by=by,
                proposal=proposal,
            )
            for item in items
        ]
    )


def _lock_open(flag: ExclusionFlag) -> None:
    """Lock the flag's row for the running transaction and re-read it, so that of two
    reviewers deciding at once the second waits and then finds it decided."""
    locked = ExclusionFlag.objects.select_for_update(of=("self",)).select_related("person", "rule")
    flag.refresh_from_db(from_queryset=locked)
    _ensure_open(flag)


def _ensure_open(flag: ExclusionFlag) -> None:
    if flag.status != FlagStatus.OPEN:
        raise _refuse(
            "not_open",
            "Tanda ini sudah diputuskan atau tidak berlaku lagi.",
            "This flag has already been decided or no longer applies.",
        )


def propose_from_flag(
    *,
    by: User,
    flag: ExclusionFlag,
    reason: str,
    evidence_files: Sequence[UploadedFile] = (),
) -> Proposal:
    """Turn a flag into a deactivation proposal (reason code from the rule: tidak layak,
    meninggal — which needs evidence — or menolak)."""
    reason = _reason(reason)
    with transaction.atomic():
        _lock_open(flag)
        proposal = propose_deactivation(
            by=by,
            target=flag.person,
            reason_code=flag.rule.reason_code,
            reason=f"{flag.label}: {reason}",
            evidence_files=evidence_files,
        )
        flag.status, flag.decided_by, flag.decided_at = FlagStatus.PROPOSED, by, timezone.now()
        flag.decision_note, flag.proposal = reason, proposal
        flag.save()
        _record(
            Subject.FLAG,
            flag.pk,
            "proposed",
            by=by,
            reason=reason,
            region_code=flag.region_code,
            proposal=proposal,
        )
        _close_items(flag, TaskItemState.ACTED, by=by, note=reason, proposal=proposal)
    return proposal


def dismiss_flag(*, by: User, flag: ExclusionFlag, reason: str) -> None:
    """Dismiss a flag with a reason; re-evaluation keeps it dismissed for the same rule
    version and evidence."""
    reason = _reason(reason)
    _ensure_edit(by, flag.region_code)
    with transaction.atomic():
        _lock_open(flag)
        flag.status, flag.active = FlagStatus.DISMISSED, False
        flag.decided_by, flag.decided_at, flag.decision_note = by, timezone.now(), reason
        flag.save()
        _record(
            Subject.FLAG, flag.pk, "dismissed", by=by, reason=reason, region_code=flag.region_code
        )
        _close_items(flag, TaskItemState.DISMISSED, by=by, note=reason)


def history(subject: str, subject_id: int) -> list[QualityDecision]:
    """Decisions on one worklist row, newest first (one query)."""
    return list(
        QualityDecision.objects.filter(subject=subject, subject_id=subject_id).select_related("by")
    )
