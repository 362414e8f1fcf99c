"""Month-wide cross-matching: reason shapes, the exclusion-flag hook, set-based cost."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from terpadu.editions import crossmatch
from terpadu.editions.tests.test_processing import PERIOD, bundle, member, nik
from terpadu.proposals.models import Kind, Status
from terpadu.proposals.tests import conftest as proposals_fixtures

pytestmark = pytest.mark.django_db
make_proposal = proposals_fixtures.make_proposal  # shared fixture, registered here


def _baru(make_proposal: Any, n: str, status: str = Status.DITERIMA_PUSAT, **kw: Any) -> Any:
    return make_proposal(
        Kind.BARU, status, period=PERIOD, payload=bundle(member("Warga", nik_=n)), **kw
    )


def test_no_exclusion_flags_for_unflagged_niks():
    assert crossmatch.exclusion_flags([nik()]) == {}
    assert crossmatch.exclusion_flags([]) == {}


def test_exclusion_flags_reject_through_the_hook(make_proposal, monkeypatch):
    flagged = nik()
    p = _baru(make_proposal, flagged)
    monkeypatch.setattr(
        crossmatch, "exclusion_flags", lambda niks: {flagged: [("asn", "ASN")]} if niks else {}
    )
    found = crossmatch.crossmatch(crossmatch.period_items(PERIOD))
    assert [r["code"] for r in found[p.pk]] == ["dikecualikan"]
    assert "ASN" in found[p.pk][0]["message_id"] and "ASN" in found[p.pk][0]["message_en"]


def test_same_nik_in_one_item_only_is_not_a_cross_batch_duplicate(make_proposal):
    p = _baru(make_proposal, nik())
    _baru(make_proposal, nik(), status=Status.DIPERIKSA_DINSOS)  # not at pusat: ignored
    assert crossmatch.crossmatch(crossmatch.period_items(PERIOD)) == {}
    assert [i["id"] for i in crossmatch.period_items(PERIOD)] == [p.pk]


def _cost(make_proposal: Any, n: int) -> int:
    from terpadu.proposals.models import Proposal

    Proposal.objects.all().delete()
    for _ in range(n):
        _baru(make_proposal, nik())
    items = crossmatch.period_items(PERIOD)
    with CaptureQueriesContext(connection) as ctx:
        crossmatch.crossmatch(items)
    return len(ctx.captured_queries)


def test_crossmatch_cost_does_not_grow_with_items(make_proposal):
    assert _cost(make_proposal, 5) == _cost(make_proposal, 60)
