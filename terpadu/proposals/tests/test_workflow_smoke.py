from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from terpadu.proposals.models import Kind, Proposal, ProposalEvent, Status
from terpadu.proposals.workflow import TransitionError, bulk_transition, transition

pytestmark = pytest.mark.django_db


def _proposal(user, region, status=Status.DRAFT, kind=Kind.PERBAIKAN):
    return Proposal.objects.create(
        kind=kind, status=status, region=region, region_code=region.digits, created_by=user
    )


def test_submit_direct_then_approve_records_events(cast, regions):
    desa = regions["1371011001"]
    p = _proposal(cast["operator_desa"], desa)
    transition(p, "submit_direct", by=cast["operator_desa"])
    transition(p, "approve", by=cast["verifikator_kabkota"])
    assert p.status == Status.FINAL_KABKOTA
    events = list(ProposalEvent.objects.filter(proposal=p).values_list("from_status", "to_status"))
    assert events == [
        (Status.DRAFT, Status.DIPERIKSA_DINSOS),
        (Status.DIPERIKSA_DINSOS, Status.FINAL_KABKOTA),
    ]


def test_outsider_and_wrong_route_are_refused(cast, regions):
    p = _proposal(cast["operator_desa"], regions["1371011001"], status=Status.DIPERIKSA_DINSOS)
    with pytest.raises(PermissionDenied):
        transition(p, "approve", by=cast["outsider_kab"])
    with pytest.raises(TransitionError):
        transition(p, "ratify", by=cast["admin_kabkota"])


@pytest.mark.parametrize("n", [3, 40])
def test_bulk_approve_costs_the_same_for_any_size(cast, regions, n):
    desa = regions["1371011001"]
    ids = [
        _proposal(cast["operator_desa"], desa, status=Status.DIPERIKSA_DINSOS).pk for _ in range(n)
    ]
    _proposal(cast["outsider_desa"], regions["1372011001"], status=Status.DIPERIKSA_DINSOS)
    with CaptureQueriesContext(connection) as ctx:
        result = bulk_transition(Proposal.objects.all(), "approve", by=cast["verifikator_kabkota"])
    assert result.moved == n
    assert ProposalEvent.objects.filter(proposal_id__in=ids, action="approve").count() == n
    assert len(ctx.captured_queries) <= 8
