"""workflow.transition / bulk_transition against the real database.

What a move writes (one event, with who/role/scope/from/to/note), what it refuses (notes,
stale writes, consent), what a bulk move skips and costs (the same number of statements for 10
or 200 items), whom it notifies, and what it never touches (the registry).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Max
from django.test.utils import CaptureQueriesContext

from terpadu.core.models import Notification
from terpadu.proposals.models import Kind, Proposal, ProposalEvent, Status
from terpadu.proposals.tests.conftest import MakeProposal
from terpadu.proposals.tests.factories import ConsentFactory
from terpadu.proposals.transitions import TRANSITIONS
from terpadu.proposals.workflow import (
    NOTIFY_ACTIONS,
    TransitionError,
    bulk_transition,
    transition,
)

pytestmark = pytest.mark.django_db

Cast = dict[str, Any]


def _events(proposal: Proposal) -> list[tuple[str, str, str]]:
    return list(
        ProposalEvent.objects.filter(proposal=proposal).values_list(
            "action", "from_status", "to_status"
        )
    )


# --- One move ---------------------------------------------------------------------------------


def test_a_move_writes_exactly_one_event_saying_who_where_what_and_why(
    cast: Cast, make_proposal: MakeProposal
) -> None:
    p = make_proposal(Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS)
    verifikator = cast["verifikator_kabkota"]

    transition(p, "return_to_desa", by=verifikator, note="Foto KK tidak terbaca")

    assert p.status == Status.DIKEMBALIKAN_KE_DESA
    event = ProposalEvent.objects.get(proposal=p)
    assert (event.action, event.from_status, event.to_status) == (
        "return_to_desa",
        Status.DIPERIKSA_DINSOS,
        Status.DIKEMBALIKAN_KE_DESA,
    )
    assert (event.actor, event.actor_role, event.actor_scope) == (
        verifikator,
        "verifikator_kabkota",
        "1371",
    )
    assert event.note == "Foto KK tidak terbaca"
    assert p.previous_status == Status.DIPERIKSA_DINSOS
    assert p.status_changed_at == event.at


def test_event_time_compares_equal_to_the_status_change_time(
    cast: Cast, make_proposal: MakeProposal
) -> None:
    """Events are written by raw INSERT … SELECT; their timestamps must filter like ORM ones
    (SQLite stored them with a '+00:00' suffix before, so `at <= status_changed_at` failed)."""
    p = make_proposal(Kind.PERBAIKAN, Status.DRAFT)
    transition(p, "submit_direct", by=cast["operator_desa"])
    assert ProposalEvent.objects.filter(proposal=p, at__lte=p.status_changed_at).count() == 1
    assert ProposalEvent.objects.filter(proposal=p, at__gte=p.status_changed_at).count() == 1


def test_the_whole_path_with_its_return_loops_records_every_step(
    cast: Cast, make_proposal: MakeProposal
) -> None:
    p = make_proposal(Kind.BARU, Status.DRAFT)
    steps = [
        ("submit", "operator_desa", "proposal", ""),
        ("musdes_agree", "operator_desa", "musdes", ""),
        ("assign", "operator_kecamatan", "assign", ""),
        ("verivali_positive", "operator_kecamatan", "qc", ""),
        ("return_to_desa", "verifikator_kabkota", "proposal", "Lengkapi foto rumah"),
        ("resubmit", "operator_desa", "proposal", ""),
        ("approve", "verifikator_kabkota", "proposal", ""),
        ("ratify", "admin_kabkota", "batch", ""),
        ("send_to_province", "admin_kabkota", "batch", ""),
        ("forward", "operator_provinsi", "batch", ""),
        ("receive", "pusat", "batch", ""),
        ("return_to_kabkota", "pusat", "proposal", "NIK kepala keluarga tidak padan"),
        ("fix_kabkota", "admin_kabkota", "proposal", ""),
        ("approve", "verifikator_kabkota", "proposal", ""),
        ("ratify", "admin_kabkota", "batch", ""),
        ("send_to_province", "admin_kabkota", "batch", ""),
        ("forward", "admin_provinsi", "batch", ""),
        ("receive", "pusat", "batch", ""),
        ("accept", "pusat", "integrity", ""),
        ("determine", "pusat", "edition", ""),
    ]
    for action, actor, via, note in steps:
        transition(p, action, by=cast[actor], via=via, note=note)
    assert p.status == Status.DITETAPKAN
    events = _events(p)
    assert [e[0] for e in events] == [s[0] for s in steps]
    # Each event starts where the previous one ended: no gap, no skipped status.
    assert all(a[2] == b[1] for a, b in itertools.pairwise(events))


@pytest.mark.parametrize("action", sorted(a for a, t in TRANSITIONS.items() if t.needs_note))
@pytest.mark.parametrize("note", ["", "   \n"])
def test_an_action_that_needs_a_note_refuses_without_one(
    cast: Cast, make_proposal: MakeProposal, action: str, note: str
) -> None:
    t = TRANSITIONS[action]
    actor = next(cast[r] for r in ("verifikator_kabkota", "pusat", "operator_desa") if r in t.roles)
    status = next(s for s in Status if s in t.sources)
    p = make_proposal(Kind.PERBAIKAN, status)

    with pytest.raises(TransitionError) as single:
        transition(p, action, by=actor, note=note, via=t.via)
    with pytest.raises(TransitionError) as bulk:
        bulk_transition([p.pk], action, by=actor, note=note, via=t.via)

    assert single.value.code == bulk.value.code == "note_required"
    p.refresh_from_db()
    assert p.status == status
    assert not ProposalEvent.objects.filter(proposal=p).exists()


def test_refusals_change_nothing(cast: Cast, make_proposal: MakeProposal) -> None:
    p = make_proposal(Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS)
    with pytest.raises(PermissionDenied):
        transition(p, "approve", by=cast["outsider_kab"])
    with pytest.raises(TransitionError) as route:
        transition(p, "ratify", by=cast["admin_kabkota"])
    with pytest.raises(TransitionError) as status:
        transition(p, "resubmit", by=cast["operator_desa"])
    assert (route.value.code, status.value.code) == ("wrong_route", "wrong_status")
    p.refresh_from_db()
    assert p.status == Status.DIPERIKSA_DINSOS
    assert not ProposalEvent.objects.exists()


# --- Two people at once -----------------------------------------------------------------------


def test_the_second_of_two_stale_moves_gets_a_conflict_and_writes_nothing(
    cast: Cast, make_proposal: MakeProposal
) -> None:
    p = make_proposal(Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS)
    seen_by_verifikator = Proposal.objects.get(pk=p.pk)
    seen_by_admin = Proposal.objects.get(pk=p.pk)

    transition(seen_by_verifikator, "approve", by=cast["verifikator_kabkota"])
    with pytest.raises(TransitionError) as exc:
        transition(seen_by_admin, "approve", by=cast["admin_kabkota"])

    assert exc.value.code == "conflict"
    assert ProposalEvent.objects.filter(proposal=p).count() == 1
    assert seen_by_admin.status == Status.DIPERIKSA_DINSOS  # not refreshed on refusal


def test_a_stale_move_cannot_succeed_from_a_status_the_actor_never_saw(
    cast: Cast, make_proposal: MakeProposal
) -> None:
    """`cancel` leaves from DRAFT and from MENUNGGU_MUSDES: an operator looking at the draft
    must not cancel what a colleague has meanwhile put on the musdes agenda."""
    p = make_proposal(Kind.BARU, Status.DRAFT)
    stale = Proposal.objects.get(pk=p.pk)
    transition(p, "submit", by=cast["operator_desa"])

    with pytest.raises(TransitionError) as exc:
        transition(stale, "cancel", by=cast["operator_kecamatan"], note="Salah input")

    assert exc.value.code == "conflict"
    p.refresh_from_db()
    assert p.status == Status.MENUNGGU_MUSDES
    assert [e[0] for e in _events(p)] == ["submit"]


# --- Bulk -------------------------------------------------------------------------------------


def test_bulk_moves_only_the_eligible_and_counts_them(
    cast: Cast, make_proposal: MakeProposal
) -> None:
    eligible = [make_proposal(Kind.PERBAIKAN, Status.DISEPAKATI) for _ in range(3)]
    eligible.append(make_proposal(Kind.NONAKTIF, Status.DISEPAKATI, desa="1371021001"))
    needs_visit = make_proposal(Kind.BARU, Status.DISEPAKATI)  # wrong kind: goes to verivali
    elsewhere = make_proposal(Kind.PERBAIKAN, Status.DISEPAKATI, desa="1372011001")
    other_status = make_proposal(Kind.PERBAIKAN, Status.DRAFT)
    everything = [*eligible, needs_visit, elsewhere, other_status]

    result = bulk_transition(
        [p.pk for p in everything], "send_to_dinsos", by=cast["verifikator_kabkota"]
    )

    assert (result.action, result.target, result.moved) == (
        "send_to_dinsos",
        Status.DIPERIKSA_DINSOS,
        4,
    )
    statuses = dict(Proposal.objects.values_list("pk", "status"))
    assert {statuses[p.pk] for p in eligible} == {Status.DIPERIKSA_DINSOS}
    assert statuses[needs_visit.pk] == statuses[elsewhere.pk] == Status.DISEPAKATI
    assert statuses[other_status.pk] == Status.DRAFT
    moved_events = ProposalEvent.objects.filter(action="send_to_dinsos")
    assert sorted(moved_events.values_list("proposal_id", flat=True)) == sorted(
        p.pk for p in eligible
    )
    assert set(moved_events.values_list("from_status", "actor_role")) == {
        (Status.DISEPAKATI, "verifikator_kabkota")
    }


def test_bulk_takes_a_queryset_and_a_second_move_writes_only_its_own_events(
    cast: Cast, make_proposal: MakeProposal
) -> None:
    for _ in range(3):
        make_proposal(Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS)
    admin = cast["admin_kabkota"]
    assert bulk_transition(Proposal.objects.all(), "approve", by=admin).moved == 3
    assert bulk_transition(Proposal.objects.all(), "approve", by=admin).moved == 0
    assert bulk_transition(Proposal.objects.all(), "ratify", by=admin, via="batch").moved == 3
    assert ProposalEvent.objects.filter(action="approve").count() == 3
    assert (
        ProposalEvent.objects.filter(action="ratify", from_status=Status.FINAL_KABKOTA).count() == 3
    )


def test_bulk_refuses_a_role_outright_and_a_route_outright(
    cast: Cast, make_proposal: MakeProposal
) -> None:
    p = make_proposal(Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS)
    with pytest.raises(PermissionDenied):
        bulk_transition([p.pk], "approve", by=cast["operator_desa"])
    with pytest.raises(TransitionError) as exc:
        bulk_transition([p.pk], "ratify", by=cast["admin_kabkota"])
    assert exc.value.code == "wrong_route"
    # In scope of nobody who acts: the outsider's bulk approve simply moves nothing.
    assert bulk_transition([p.pk], "approve", by=cast["outsider_kab"]).moved == 0


def _approve_queries(cast: Cast, make_proposal: MakeProposal, n: int, desa: str) -> int:
    """Queries of one bulk approve of n proposals from two creators, including moves that need
    consent and a notification per creator."""
    ids = []
    for i in range(n):
        creator = cast["operator_desa"] if i % 2 else cast["operator_kecamatan"]
        if i % 5 == 0:
            p = make_proposal(
                Kind.PEMINDAHAN,
                Status.DIPERIKSA_DINSOS,
                desa=desa,
                created_by=creator,
                destination="1372011001",
            )
            ConsentFactory.create(proposal=p, by=cast["outsider_kab"])
        else:
            p = make_proposal(
                Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS, desa=desa, created_by=creator
            )
        ids.append(p.pk)
    with CaptureQueriesContext(connection) as ctx:
        result = bulk_transition(ids, "approve", by=cast["verifikator_kabkota"])
    assert result.moved == n
    return len(ctx.captured_queries)


def test_bulk_costs_the_same_number_of_queries_for_10_and_200_items(
    cast: Cast, make_proposal: MakeProposal
) -> None:
    small = _approve_queries(cast, make_proposal, 10, "1371011001")
    large = _approve_queries(cast, make_proposal, 200, "1371011002")
    assert small == large
    # UPDATE, INSERT … SELECT events, SELECT creators, INSERT notifications (+ savepoints).
    assert small <= 6
    assert ProposalEvent.objects.filter(action="approve").count() == 210
    assert Notification.objects.count() == 4  # two creators, two moves


# --- Notifications ----------------------------------------------------------------------------


@pytest.mark.parametrize("action", sorted(NOTIFY_ACTIONS))
def test_a_notifying_move_notifies_each_creator_once(
    cast: Cast, make_proposal: MakeProposal, action: str
) -> None:
    t = TRANSITIONS[action]
    actor = next(
        cast[r]
        for r in ("verifikator_kabkota", "pusat", "operator_kecamatan", "operator_desa")
        if r in t.roles
    )
    status = next(s for s in Status if s in t.sources)
    by_desa = [
        make_proposal(Kind.NONAKTIF, status, created_by=cast["operator_desa"]) for _ in range(3)
    ]
    by_kab = [
        make_proposal(Kind.NONAKTIF, status, created_by=cast["admin_kabkota"]) for _ in range(2)
    ]
    own = make_proposal(Kind.NONAKTIF, status, created_by=actor)

    result = bulk_transition(
        [p.pk for p in [*by_desa, *by_kab, own]], action, by=actor, note="Catatan", via=t.via
    )

    assert result.moved == 6
    got = {n.user_id: n for n in Notification.objects.all()}
    # Creators other than the actor, one notification each, saying how many were theirs.
    assert set(got) == {cast["operator_desa"].pk, cast["admin_kabkota"].pk} - {actor.pk}
    for user, mine in ((cast["operator_desa"], 3), (cast["admin_kabkota"], 2)):
        if user.pk in got:
            assert got[user.pk].message_id.startswith(str(mine))
            assert got[user.pk].message_en.startswith(str(mine))
            assert got[user.pk].link == f"/usulan/?status={t.target}"


def test_moves_outside_the_notify_list_notify_nobody(
    cast: Cast, make_proposal: MakeProposal
) -> None:
    assert "submit_direct" not in NOTIFY_ACTIONS
    p = make_proposal(Kind.PERBAIKAN, Status.DRAFT, created_by=cast["operator_desa"])
    transition(p, "submit_direct", by=cast["verifikator_kabkota"])
    assert not Notification.objects.exists()


# --- Pemindahan wilayah -----------------------------------------------------------------------


def test_a_move_between_regions_is_approved_only_with_the_destinations_consent(
    cast: Cast, make_proposal: MakeProposal
) -> None:
    def moving() -> Proposal:
        return make_proposal(Kind.PEMINDAHAN, Status.DIPERIKSA_DINSOS, destination="1372011001")

    verifikator = cast["verifikator_kabkota"]
    no_consent, refused, wrong_region, agreed = moving(), moving(), moving(), moving()
    ConsentFactory.create(proposal=refused, by=cast["outsider_kab"], agreed=False)
    # A consent recorded by the origin (Padang) is not the destination's.
    ConsentFactory.create(proposal=wrong_region, by=verifikator, region_code="1371")
    ConsentFactory.create(proposal=agreed, by=cast["outsider_kab"])

    for p in (no_consent, refused, wrong_region):
        with pytest.raises(TransitionError) as exc:
            transition(p, "approve", by=verifikator)
        assert exc.value.code == "no_consent"
    ids = [p.pk for p in (no_consent, refused, wrong_region, agreed)]
    assert bulk_transition(ids, "approve", by=verifikator).moved == 1
    assert Proposal.objects.get(pk=agreed.pk).status == Status.FINAL_KABKOTA
    assert Proposal.objects.filter(status=Status.DIPERIKSA_DINSOS).count() == 3

    # Once the destination agrees, the single move goes through too.
    ConsentFactory.create(proposal=no_consent, by=cast["outsider_kab"], region_code="1372011001")
    transition(no_consent, "approve", by=verifikator)
    assert no_consent.status == Status.FINAL_KABKOTA


def test_a_move_without_a_destination_cannot_be_approved(
    cast: Cast, make_proposal: MakeProposal
) -> None:
    p = make_proposal(Kind.PEMINDAHAN, Status.DIPERIKSA_DINSOS)
    ConsentFactory.create(proposal=p, by=cast["outsider_kab"], region_code="1372")
    with pytest.raises(TransitionError) as exc:
        transition(p, "approve", by=cast["verifikator_kabkota"])
    assert exc.value.code == "no_consent"
    assert bulk_transition([p.pk], "approve", by=cast["verifikator_kabkota"]).moved == 0


# --- The registry stays as it is --------------------------------------------------------------


def _registry_state() -> dict[str, tuple[int, Any]]:
    """Row count and latest updated_at (where there is one) of every registry table."""
    state = {}
    for model in apps.get_app_config("registry").get_models():
        has_updated = any(f.name == "updated_at" for f in model._meta.get_fields())
        latest = model.objects.aggregate(m=Max("updated_at"))["m"] if has_updated else None
        state[model.__name__] = (model.objects.count(), latest)
    return state


def test_no_transition_touches_the_registry(
    cast: Cast, make_proposal: MakeProposal, registry_household: Any
) -> None:
    household = registry_household
    targets: dict[str, Any] = {
        "household": household,
        "family": household.families.get(),
        "person": household.members.order_by("pk").first(),
    }
    before = _registry_state()
    assert before["Person"][0] == 2

    fix = make_proposal(
        Kind.PERBAIKAN,
        Status.DRAFT,
        target_type="household",
        **targets,
        payload={"changes": {"address": "Jl. Baru 3"}},
    )
    gone = make_proposal(
        Kind.NONAKTIF, Status.DRAFT, target_type="person", reason_code="meninggal", **targets
    )
    paths = {
        fix.pk: [
            ("submit_direct", "operator_desa", "proposal"),
            ("approve", "verifikator_kabkota", "proposal"),
        ],
        gone.pk: [
            ("submit", "operator_desa", "proposal"),
            ("musdes_agree", "operator_desa", "musdes"),
            ("send_to_dinsos", "operator_desa", "proposal"),
            ("approve", "admin_kabkota", "proposal"),
        ],
    }
    for p in (fix, gone):
        for action, actor, via in paths[p.pk]:
            transition(p, action, by=cast[actor], via=via)
    ids = [fix.pk, gone.pk]
    for action, actor, via in [
        ("ratify", "admin_kabkota", "batch"),
        ("send_to_province", "admin_kabkota", "batch"),
        ("forward", "operator_provinsi", "batch"),
        ("receive", "pusat", "batch"),
        ("accept", "pusat", "integrity"),
        ("determine", "pusat", "edition"),
    ]:
        assert bulk_transition(ids, action, by=cast[actor], via=via).moved == 2

    assert set(Proposal.objects.values_list("status", flat=True)) == {Status.DITETAPKAN}
    # Determination by the workflow is a status; applying the payload is the editions' job.
    assert _registry_state() == before
