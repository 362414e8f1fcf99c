"""Deciding candidate pairs: "orang yang sama" or "orang berbeda", one by one or in bulk.

Each decision locks the pair, checks it is still open, writes the status and one
DecisionEvent (who, role, when, why). "Same" never touches the registry: it creates a
deactivation proposal of the chosen duplicate with reason *ganda* through
`terpadu.proposals.creation.propose_deactivation`, which then follows the proposals
workflow like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from terpadu.core.errors import BilingualError
from terpadu.dedup.access import may_decide
from terpadu.dedup.models import CandidatePair, DecisionEvent, PairStatus
from terpadu.proposals import creation
from terpadu.registry.models import NonaktifReason, Person
from terpadu.registry.records import RegistryError

if TYPE_CHECKING:
    from terpadu.accounts.models import User


class DecisionError(BilingualError):
    """A decision was refused (message in Indonesian and English)."""


def ensure_may_decide(user: User, pair: CandidatePair) -> None:
    """PermissionDenied unless the user may decide for both persons' regions."""
    if not (may_decide(user, pair.region_code) and may_decide(user, pair.region_code_b)):
        raise PermissionDenied


def _lock_open(pair: CandidatePair) -> CandidatePair:
    locked = CandidatePair.objects.select_for_update().get(pk=pair.pk)
    if locked.status != PairStatus.OPEN:
        raise DecisionError(
            "already_decided",
            f"Pasangan #{pair.pk} sudah diputuskan.",
            f"Pair #{pair.pk} has already been decided.",
        )
    return locked


def _event(
    pair: CandidatePair, *, by: User, note: str, bulk: bool, proposal_id: int | None = None
) -> DecisionEvent:
    return DecisionEvent.objects.create(
        pair=pair,
        decision=pair.status,
        duplicate_id=pair.duplicate_id,
        proposal_id=proposal_id,
        actor=by,
        actor_role=by.role or ("superuser" if by.is_superuser else ""),
        note=note,
        bulk=bulk,
    )


def decide_different(
    *, by: User, pair: CandidatePair, note: str = "", bulk: bool = False
) -> CandidatePair:
    """ "Orang berbeda": remembered on the pair, so later runs never show it again."""
    ensure_may_decide(by, pair)
    with transaction.atomic():
        locked = _lock_open(pair)
        locked.status = PairStatus.DIFFERENT
        locked.decided_by, locked.decided_at = by, timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
        _event(locked, by=by, note=note.strip(), bulk=bulk)
    return locked


def decide_same(
    *, by: User, pair: CandidatePair, duplicate_id: int, note: str = "", bulk: bool = False
) -> CandidatePair:
    """ "Orang yang sama": propose deactivating `duplicate_id` (one of the pair) as *ganda*.

    The proposal's reason names the record kept, so the desa and kab/kota reviewers of the
    proposal see why. Refusals of the proposals app (already inactive, an open deactivation
    proposal exists) come back as RegistryError and leave the pair open.
    """
    ensure_may_decide(by, pair)
    if duplicate_id not in (pair.person_a_id, pair.person_b_id):
        raise DecisionError(
            "bad_duplicate",
            "Pilih salah satu dari dua data sebagai data ganda.",
            "Choose one of the two records as the duplicate.",
        )
    kept_id = pair.person_b_id if duplicate_id == pair.person_a_id else pair.person_a_id
    with transaction.atomic():
        locked = _lock_open(pair)
        duplicate = Person.objects.get(pk=duplicate_id)
        reason = (
            f"Data ganda dengan individu #{kept_id} (kandidat duplikat #{locked.pk}, "
            f"probabilitas {locked.probability:.2f})."
        )
        if note.strip():
            reason += f" {note.strip()}"
        proposal = creation.propose_deactivation(
            by=by, target=duplicate, reason_code=NonaktifReason.GANDA, reason=reason
        )
        locked.status = PairStatus.SAME
        locked.duplicate_id = duplicate_id
        locked.proposal = proposal
        locked.decided_by, locked.decided_at = by, timezone.now()
        locked.save(
            update_fields=[
                "status",
                "duplicate",
                "proposal",
                "decided_by",
                "decided_at",
                "updated_at",
            ]
        )
        _event(locked, by=by, note=note.strip(), bulk=bulk, proposal_id=proposal.pk)
    return locked


def bulk_decide(
    *, by: User, pairs: Sequence[CandidatePair], decision: str, note: str = ""
) -> tuple[list[CandidatePair], list[tuple[CandidatePair, str]]]:
    """Decide many pairs the same way; each in its own transaction so one refusal does not
    undo the others. For "same" the newer record (higher id) is proposed as the duplicate.
    Returns (decided, [(pair, message)] refused)."""
    done: list[CandidatePair] = []
    refused: list[tuple[CandidatePair, str]] = []
    for pair in pairs:
        try:
            if decision == PairStatus.DIFFERENT:
                done.append(decide_different(by=by, pair=pair, note=note, bulk=True))
            elif decision == PairStatus.SAME:
                done.append(
                    decide_same(
                        by=by, pair=pair, duplicate_id=pair.person_b_id, note=note, bulk=True
                    )
                )
            else:
                raise DecisionError("bad_decision", "Keputusan tidak dikenal.", "Unknown decision.")
        except DecisionError as exc:
            refused.append((pair, exc.message))
        except RegistryError as exc:
            refused.append((pair, "; ".join(i.message for i in exc.errors)))
    return done, refused
