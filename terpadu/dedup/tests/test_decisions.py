"""Decisions: "same" creates exactly one deactivation proposal and no registry change;
"different" is remembered; bulk; every decision has an event; scope and roles."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from terpadu.dedup import decisions
from terpadu.dedup.models import CandidatePair, DecisionEvent, PairStatus
from terpadu.proposals.models import Kind, Proposal, Status
from terpadu.registry import records
from terpadu.registry.models import Change, NonaktifReason, Person, RecordStatus
from terpadu.registry.tests.conftest import family, member

pytestmark = pytest.mark.django_db


def make_pairs(cast: Any, regions: Any, n: int = 3, desa: str = "1371011001") -> list[Any]:
    """n households of two look-alike persons each, and an open pair per household."""
    by = cast["operator_desa"] if desa == "1371011001" else cast["admin_kabkota"]
    if desa.startswith("1372"):
        by = cast["outsider_kab"]
    pairs = []
    for i in range(n):
        born = dt.date(1970 + i, 5, 6)
        hh = records.create_household(
            by=by,
            region=regions[desa],
            household_fields={"address": f"Jl. Uji {i}"},
            families=[
                family(
                    member(f"Rahmat Hidayat {i}", relation=1, born=born),
                    member(f"Rahmad Hidayat {i}", born=born),
                )
            ],
            reason="uji",
        )
        a, b = sorted(hh.members.values_list("pk", flat=True))
        pairs.append(
            CandidatePair.objects.create(
                person_a_id=a,
                person_b_id=b,
                region_code=desa,
                region_code_b=desa,
                probability=0.99 - i / 100,
                match_weight=12.0,
                explanation=[
                    {"comparison": "name", "gamma": 4, "label": "nama mirip", "weight": 5}
                ],
                prior_weight=-13.0,
            )
        )
    return pairs


def test_same_creates_exactly_one_deactivation_proposal_and_no_registry_change(
    cast: Any, regions: Any
) -> None:
    [pair] = make_pairs(cast, regions, 1)
    changes_before = Change.objects.count()
    persons_before = list(Person.objects.order_by("pk").values())
    verifikator = cast["verifikator_kabkota"]
    decided = decisions.decide_same(
        by=verifikator, pair=pair, duplicate_id=pair.person_b_id, note="KK sama, tanggal sama"
    )
    assert decided.status == PairStatus.SAME and decided.duplicate_id == pair.person_b_id
    proposal = Proposal.objects.get()
    assert proposal == decided.proposal
    assert proposal.kind == Kind.NONAKTIF and proposal.reason_code == NonaktifReason.GANDA
    assert proposal.person_id == pair.person_b_id and proposal.status == Status.DRAFT
    assert f"#{pair.person_a_id}" in proposal.reason
    # The registry is untouched: no change rows, every person still active as before.
    assert Change.objects.count() == changes_before
    assert list(Person.objects.order_by("pk").values()) == persons_before
    assert Person.objects.get(pk=pair.person_b_id).status == RecordStatus.AKTIF
    event = DecisionEvent.objects.get()
    assert (event.decision, event.actor, event.proposal) == ("same", verifikator, proposal)
    assert event.note == "KK sama, tanggal sama" and event.actor_role == "verifikator_kabkota"
    with pytest.raises(decisions.DecisionError):  # decided once
        decisions.decide_different(by=verifikator, pair=pair)


def test_same_must_name_one_of_the_pair(cast: Any, regions: Any) -> None:
    [pair] = make_pairs(cast, regions, 1)
    with pytest.raises(decisions.DecisionError):
        decisions.decide_same(by=cast["verifikator_kabkota"], pair=pair, duplicate_id=999999)
    assert not Proposal.objects.exists()


def test_proposal_refusal_leaves_pair_open(cast: Any, regions: Any) -> None:
    [pair] = make_pairs(cast, regions, 1)
    Person.objects.filter(pk=pair.person_b_id).update(status=RecordStatus.NONAKTIF)
    with pytest.raises(records.RegistryError):
        decisions.decide_same(
            by=cast["verifikator_kabkota"], pair=pair, duplicate_id=pair.person_b_id
        )
    pair.refresh_from_db()
    assert pair.status == PairStatus.OPEN and not DecisionEvent.objects.exists()


def test_different_is_remembered_with_event(cast: Any, regions: Any) -> None:
    [pair] = make_pairs(cast, regions, 1)
    decisions.decide_different(by=cast["admin_kabkota"], pair=pair, note="kembar")
    pair.refresh_from_db()
    assert pair.status == PairStatus.DIFFERENT and pair.decided_by == cast["admin_kabkota"]
    assert DecisionEvent.objects.get().decision == PairStatus.DIFFERENT
    assert not Proposal.objects.exists()


def test_bulk_decisions(cast: Any, regions: Any) -> None:
    pairs = make_pairs(cast, regions, 3)
    done, refused = decisions.bulk_decide(
        by=cast["verifikator_kabkota"], pairs=pairs[:2], decision="different", note="cek lapangan"
    )
    assert len(done) == 2 and refused == []
    done, refused = decisions.bulk_decide(
        by=cast["verifikator_kabkota"], pairs=pairs, decision="same", note="ganda"
    )
    assert [p.pk for p in done] == [pairs[2].pk]
    assert len(refused) == 2  # already decided
    assert Proposal.objects.get().person_id == pairs[2].person_b_id  # the newer record
    assert DecisionEvent.objects.filter(bulk=True).count() == 3


@pytest.mark.parametrize(
    "role", ["operator_desa", "operator_kecamatan", "operator_provinsi", "pusat", "outsider_kab"]
)
def test_only_kabkota_deciders_in_scope(cast: Any, regions: Any, role: str) -> None:
    [pair] = make_pairs(cast, regions, 1)
    with pytest.raises(PermissionDenied):
        decisions.decide_different(by=cast[role], pair=pair)
    with pytest.raises(PermissionDenied):
        decisions.decide_same(by=cast[role], pair=pair, duplicate_id=pair.person_a_id)
    assert not DecisionEvent.objects.exists()
