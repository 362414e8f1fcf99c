"""Reads: which proposals a user may see, what waits for them, and the deadlines."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet
from django.http import Http404

from terpadu.accounts.models import Role
from terpadu.proposals.models import Assignment, Batch, Proposal, Status
from terpadu.regions.models import prefix_q

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from terpadu.accounts.models import User


def proposals_for_user(user: User | AnonymousUser) -> QuerySet[Proposal]:
    """Every proposal the user may see: its desa (or, for a move, its destination) lies in the
    user's subtree. Enumerators see only proposals assigned to them."""
    if not user.is_authenticated or not user.is_active:
        return Proposal.objects.none()
    qs = Proposal.objects.all()
    if user.role == Role.ENUMERATOR and not user.is_superuser:
        return qs.filter(assignments__enumerator=user).distinct()
    if not user.scope:
        return qs
    return qs.filter(prefix_q("region_code", user.scope) | prefix_q("destination_code", user.scope))


def filtered_proposals(
    user: User | AnonymousUser, filters: Mapping[str, Any] | None = None
) -> QuerySet[Proposal]:
    """`proposals_for_user` narrowed by the list page's filters (the cleaned values of
    `ProposalFilterForm`: status, kind, wilayah, q; missing or empty = no filter). The list
    page and the proposals export share it, so a download holds exactly what the page lists."""
    qs = proposals_for_user(user)
    data = filters or {}
    if data.get("status"):
        qs = qs.filter(status=data["status"])
    if data.get("kind"):
        qs = qs.filter(kind=data["kind"])
    if data.get("wilayah"):
        qs = qs.filter(prefix_q("region_code", data["wilayah"]))
    q = (data.get("q") or "").strip()
    if q:
        digits = q.lstrip("#").replace(" ", "")
        if digits.isdigit() and len(digits) == 16:
            # A NIK/No KK: the target person, or anywhere in a new household's payload.
            qs = qs.filter(
                Q(person__nik=digits) | Q(family__no_kk=digits) | Q(payload__icontains=digits)
            )
        elif digits.isdigit() and len(digits) <= 9:
            qs = qs.filter(pk=int(digits))
        else:
            qs = qs.filter(summary__icontains=q)
    return qs


def proposal_for_user(user: User | AnonymousUser, pk: int) -> Proposal:
    """One proposal for its page; 404 when the user may not see it."""
    try:
        return (
            proposals_for_user(user)
            .select_related("region", "destination", "created_by", "batch", "person", "household")
            .get(pk=pk)
        )
    except Proposal.DoesNotExist:
        raise Http404 from None


def batches_for_user(user: User | AnonymousUser) -> QuerySet[Batch]:
    """Kab/kota batches in the user's subtree (a desa user sees its kab/kota's batches)."""
    if not user.is_authenticated or not user.is_active:
        return Batch.objects.none()
    if not user.scope:
        return Batch.objects.all()
    return (
        Batch.objects.filter(region_code=user.scope[:4])
        if len(user.scope) > 4
        else (Batch.objects.filter(prefix_q("region_code", user.scope)))
    )


def status_counts(user: User | AnonymousUser) -> dict[str, int]:
    """{status: count} over what the user may see, in one GROUP BY query."""
    rows = proposals_for_user(user).values("status").annotate(n=Count("id")).order_by()
    return {row["status"]: row["n"] for row in rows}


def open_assignments(user: User) -> QuerySet[Assignment]:
    return Assignment.objects.filter(
        enumerator=user, state__in=[Assignment.State.DITUGASKAN, Assignment.State.DIKEMBALIKAN]
    ).select_related("proposal", "proposal__region")


# What waits for each role: the statuses in which the next move is theirs.
WAITING_FOR: dict[str, tuple[Status, ...]] = {
    Role.OPERATOR_DESA: (
        Status.DRAFT,
        Status.MENUNGGU_MUSDES,
        Status.DISEPAKATI,
        Status.DIKEMBALIKAN_KE_DESA,
    ),
    Role.OPERATOR_KECAMATAN: (Status.DRAFT, Status.VERIVALI, Status.DIKEMBALIKAN_KE_DESA),
    Role.ENUMERATOR: (Status.VERIVALI,),
    Role.VERIFIKATOR_KABKOTA: (
        Status.DIPERIKSA_DINSOS,
        Status.VERIVALI,
        Status.DIKEMBALIKAN_KE_KABKOTA,
    ),
    Role.ADMIN_KABKOTA: (
        Status.DIPERIKSA_DINSOS,
        Status.FINAL_KABKOTA,
        Status.DISAHKAN,
        Status.DIKEMBALIKAN_KE_KABKOTA,
    ),
    Role.OPERATOR_PROVINSI: (Status.DIKIRIM_PROVINSI,),
    Role.ADMIN_PROVINSI: (Status.DIKIRIM_PROVINSI,),
    Role.PUSAT: (Status.DIKIRIM_PUSAT, Status.PROSES_PUSAT),
    Role.AUDITOR: (),
}
