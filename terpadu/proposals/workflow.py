"""Every proposal status change goes through `transition()` / `bulk_transition()`.

One place decides: the transition table (transitions.py) says which statuses an action leaves
from, where it goes, which roles may take it and by which route; the actor's scope (region
subtree) must cover the proposal. A move is one conditional UPDATE (only rows still in a
source status move, so two operators acting at once cannot both win) plus one
INSERT … SELECT for the events: the number of statements does not depend on how many
proposals move, which is what makes bulk approval of 10 k items and forwarding a 50 k batch
cheap (see bench/bench_proposals.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone

from terpadu.core.errors import BilingualError
from terpadu.core.models import Notification
from terpadu.proposals.models import Consent, Kind, Proposal, ProposalEvent
from terpadu.proposals.transitions import TRANSITIONS, Transition
from terpadu.regions.models import prefix_q

if TYPE_CHECKING:
    from terpadu.accounts.models import User


class TransitionError(BilingualError):
    """A refused move, with the reason in Indonesian and English."""


@dataclass(frozen=True)
class MoveResult:
    action: str
    target: str
    moved: int


def get_transition(action: str) -> Transition:
    try:
        return TRANSITIONS[action]
    except KeyError:
        raise TransitionError(
            "unknown_action", f"Aksi '{action}' tidak dikenal.", f"Unknown action '{action}'."
        ) from None


def role_may(user: User, t: Transition) -> bool:
    """Whether the user's role may take transition `t` at all (region not considered)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.role in t.roles


def covers_proposal(user: User, proposal: Proposal) -> bool:
    """The proposal's desa lies in the user's subtree (pemindahan: the destination counts
    too, so the receiving region can see what it is asked to consent to)."""
    if user.is_superuser and not user.scope:
        return True
    if proposal.region_code.startswith(user.scope):
        return True
    return bool(proposal.destination_code) and proposal.destination_code.startswith(user.scope)


def _ensure_route(t: Transition, via: str) -> None:
    """Gated actions (musdes, QC, batch, integrity, edition) only come through their act."""
    if t.via != via:
        raise TransitionError(
            "wrong_route",
            f"'{t.label}' hanya dapat dilakukan melalui {via_label(t.via, 'id')}.",
            f"'{t.label}' can only be done through {via_label(t.via, 'en')}.",
        )


def _ensure_note(t: Transition, note: str) -> None:
    if t.needs_note and not note.strip():
        raise TransitionError(
            "note_required",
            f"'{t.label}' memerlukan alasan/catatan.",
            f"'{t.action}' needs a reason/note.",
        )


def check_transition(
    proposal: Proposal, action: str, *, by: User, via: str = "proposal"
) -> Transition:
    """Raise TransitionError / PermissionDenied unless `by` may take `action` now."""
    t = get_transition(action)
    _ensure_route(t, via)
    if not role_may(by, t) or not proposal.region_code.startswith(by.scope):
        raise PermissionDenied
    if proposal.kind not in t.kinds:
        raise TransitionError(
            "wrong_kind",
            f"'{t.label}' tidak berlaku untuk {proposal.get_kind_display()}.",
            f"'{t.label}' does not apply to a proposal of kind '{proposal.kind}'.",
        )
    if proposal.status not in t.sources:
        raise TransitionError(
            "wrong_status",
            f"Usulan #{proposal.pk} berstatus '{proposal.get_status_display()}'; "
            f"'{t.label}' tidak dapat dilakukan dari status itu.",
            f"Proposal #{proposal.pk} is '{proposal.status}'; '{action}' is not allowed "
            "from that status.",
        )
    if action == "approve" and proposal.kind == Kind.PEMINDAHAN:
        _ensure_destination_consent(proposal)
    return t


def _ensure_destination_consent(proposal: Proposal) -> None:
    # A move without a destination has nobody to consent: "" would match any consent row.
    agreed = (
        bool(proposal.destination_code)
        and _destination_consents()
        .filter(proposal=proposal, kab=proposal.destination_code[:4])
        .exists()
    )
    if not agreed:
        raise TransitionError(
            "no_consent",
            "Pemindahan wilayah memerlukan persetujuan wilayah tujuan lebih dulu.",
            "Moving a household needs the destination region's consent first.",
        )


def _destination_consents() -> QuerySet[Consent]:
    """Agreed consents, annotated with the kab/kota (`kab`) that gave them."""
    return Consent.objects.filter(agreed=True).annotate(kab=Substr("region_code", 1, 4))


def transition(
    proposal: Proposal, action: str, *, by: User, note: str = "", via: str = "proposal"
) -> Proposal:
    """Take `action` on one proposal; returns it refreshed. Raises on any refusal."""
    t = check_transition(proposal, action, by=by, via=via)
    _ensure_note(t, note)
    # Conditional on the status the actor saw, not merely on any source status: an action
    # with several sources (cancel) must not succeed from a status the actor never saw.
    current = Proposal.objects.filter(pk=proposal.pk, status=proposal.status)
    result = _move(current, t, by=by, note=note)
    if result.moved == 0:  # someone else moved it between our read and our write
        raise TransitionError(
            "conflict",
            f"Usulan #{proposal.pk} baru saja diubah oleh pengguna lain; muat ulang halaman.",
            f"Proposal #{proposal.pk} was just changed by someone else; reload the page.",
        )
    proposal.refresh_from_db()
    return proposal


def bulk_transition(
    proposals: QuerySet[Proposal] | Iterable[int],
    action: str,
    *,
    by: User,
    note: str = "",
    via: str = "proposal",
) -> MoveResult:
    """Take `action` on every eligible proposal of `proposals` in a fixed number of statements.

    Ineligible ones (other status, other kind, outside the actor's scope) are left alone and
    not counted. Gates that need per-item checks (pemindahan consent) exclude items lacking it.
    """
    t = get_transition(action)
    _ensure_route(t, via)
    if not role_may(by, t):
        raise PermissionDenied
    _ensure_note(t, note)
    qs = (
        proposals
        if isinstance(proposals, QuerySet)
        else Proposal.objects.filter(pk__in=list(proposals))
    )
    if action == "approve":
        # The same rule as the single move: an agreed consent from the destination kab/kota
        # (a consent recorded by anyone else does not count).
        consented = _destination_consents().filter(
            proposal=OuterRef("pk"), kab=Substr(OuterRef("destination_code"), 1, 4)
        )
        qs = qs.filter(~Q(kind=Kind.PEMINDAHAN) | (~Q(destination_code="") & Exists(consented)))
    return _move(qs, t, by=by, note=note)


def _scoped(qs: QuerySet[Proposal], user: User) -> QuerySet[Proposal]:
    return qs.filter(prefix_q("region_code", user.scope))


def _move(qs: QuerySet[Proposal], t: Transition, *, by: User, note: str) -> MoveResult:
    """Move the eligible rows in one UPDATE, stamping them with a fresh token and keeping their
    old status; then write their events from the stamped rows in one INSERT … SELECT. The
    UPDATE is atomic per row, so a concurrent actor either moved a row first (and ours skips
    it) or not at all; the events describe exactly the rows this call moved."""
    eligible = _scoped(qs, by).filter(status__in=list(t.sources), kind__in=list(t.kinds))
    now = timezone.now()
    token = uuid.uuid4().hex
    with transaction.atomic():
        moved = eligible.update(
            previous_status=F("status"),
            status=t.target,
            move_token=token,
            status_changed_at=now,
            updated_at=now,
        )
        if moved:
            _insert_events(token, t, by=by, note=note, at=now)
            _notify_creators(token, t, by=by)
    return MoveResult(t.action, t.target, moved)


# Table names come from our own models, never from input; every value is a parameter.
_EVENTS_FROM_MOVE = (
    "INSERT INTO {event} (proposal_id, from_status, action, to_status, actor_id, "
    "actor_role, actor_scope, note, at) "
    "SELECT id, previous_status, %s, %s, %s, %s, %s, %s, %s FROM {proposal} "
    "WHERE move_token = %s"
)


def _insert_events(token: str, t: Transition, *, by: User, note: str, at: Any) -> None:
    """INSERT INTO event … SELECT id, previous_status FROM proposal WHERE move_token = token."""
    event = ProposalEvent._meta.db_table
    proposal = Proposal._meta.db_table
    sql = _EVENTS_FROM_MOVE.format(event=event, proposal=proposal)
    # Adapt the timestamp as the ORM would: raw SQLite would otherwise store "...+00:00"
    # where ORM rows hold naive UTC text, and time filters on events would compare wrongly.
    at_db = connection.ops.adapt_datetimefield_value(at)
    params = [t.action, t.target, by.pk, by.role, by.scope, note, at_db, token]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _notify_creators(token: str, t: Transition, *, by: User) -> None:
    """One notification per proposal creator whose proposals were returned or decided."""
    if t.action not in NOTIFY_ACTIONS:
        return
    per_creator = (
        Proposal.objects.filter(move_token=token)
        .exclude(created_by=by)
        .values("created_by")
        .annotate(n=Count("id"))
    )
    message_id, message_en = NOTIFY_ACTIONS[t.action]
    Notification.objects.bulk_create(
        Notification(
            user_id=row["created_by"],
            message_id=message_id.format(n=row["n"]),
            message_en=message_en.format(n=row["n"]),
            link=f"/usulan/?status={t.target}",
        )
        for row in per_creator
    )


NOTIFY_ACTIONS: dict[str, tuple[str, str]] = {
    "return_to_desa": (
        "{n} usulan Anda dikembalikan oleh Dinsos kab/kota untuk diperbaiki.",
        "{n} of your proposals were returned by the kab/kota Dinsos for revision.",
    ),
    "approve": (
        "{n} usulan Anda disetujui Dinsos kab/kota.",
        "{n} of your proposals were approved by the kab/kota Dinsos.",
    ),
    "reject_kabkota": (
        "{n} usulan Anda ditolak Dinsos kab/kota.",
        "{n} of your proposals were rejected by the kab/kota Dinsos.",
    ),
    "return_to_kabkota": (
        "{n} usulan dikembalikan pusat ke kab/kota.",
        "{n} proposals were returned by the ministry to the kab/kota.",
    ),
    "accept": (
        "{n} usulan diterima pusat dan menunggu penetapan.",
        "{n} proposals were accepted by the ministry and await determination.",
    ),
    "reject_pusat": ("{n} usulan ditolak pusat.", "{n} proposals were rejected by the ministry."),
    "musdes_reject": ("{n} usulan ditolak musdes.", "{n} proposals were rejected by the musdes."),
    "verivali_negative": (
        "{n} usulan berhasil verivali negatif.",
        "{n} proposals had a negative field verification.",
    ),
}

VIA_LABELS = {
    "proposal": ("halaman usulan", "the proposal page"),
    "musdes": ("keputusan musdes/muskel", "the musdes decision"),
    "assign": ("penugasan verivali", "a verivali assignment"),
    "qc": ("pemeriksaan hasil verivali (QC)", "the verivali quality check"),
    "batch": ("paket pengesahan kab/kota", "the kab/kota ratification batch"),
    "integrity": ("uji integritas pusat", "the ministry's integrity test"),
    "edition": ("penetapan bulanan", "the monthly determination"),
}


def via_label(via: str, lang: str) -> str:
    id_, en = VIA_LABELS.get(via, (via, via))
    return en if lang == "en" else id_
