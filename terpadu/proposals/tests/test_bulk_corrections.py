"""proposals.bulk.create_bulk for corrections: set-based, whatever the number of targets."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from terpadu.proposals import bulk
from terpadu.proposals.models import Proposal
from terpadu.registry.models import Household
from terpadu.registry.tests import conftest as registry_fixtures

make_household = registry_fixtures.make_household


def _queries(by: Any, households: list[Household], tag: str) -> int:
    corrections = [
        bulk.Correction(target=hh, changes={"address": f"Jl. {tag} {hh.pk}"}) for hh in households
    ]
    with CaptureQueriesContext(connection) as ctx:
        result = bulk.create_bulk(by=by, reason="uji", corrections=corrections)
    assert len(result.proposals) == len(households)
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_household_corrections_cost_the_same_queries_for_one_or_many(cast, make_household):  # type: ignore[no-untyped-def]
    by = cast["operator_desa"]
    one = _queries(by, [make_household(1)], "Satu")
    many = _queries(by, [make_household(1) for _ in range(4)], "Banyak")
    assert many == one
    summary = Proposal.objects.order_by("-pk").first().summary
    assert summary.startswith("Perbaikan Ruta #") and "(Budi Chaniago)" in summary
