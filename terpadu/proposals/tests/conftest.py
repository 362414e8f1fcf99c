"""Shared fixtures for proposals tests, on top of the root cast (conftest.py at the repo root).

    make_proposal(kind, status, desa="1371011001", created_by=None, **fields) -> Proposal
    registry_household -> Household in Desa A (1371011001), made by records.create_household

Rows are written directly (a fixture, not a move): tests then move them with `workflow.*`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable
from typing import Any

import pytest

from terpadu.lib.nik import compose_nik, compose_no_kk
from terpadu.proposals.models import Kind, Proposal, Status
from terpadu.proposals.tests.factories import ProposalFactory
from terpadu.regions.models import Region
from terpadu.registry import records
from terpadu.registry.models import Household

# NIK/KK serials unique within a test session; the registry warns on duplicates otherwise.
_serial = itertools.count(5001)

MakeProposal = Callable[..., Proposal]


@pytest.fixture
def make_proposal(cast: dict[str, Any], regions: dict[str, Region]) -> MakeProposal:
    """make_proposal(kind, status, desa="1371011001", created_by=None, **fields).

    `desa` (and `destination`, for a pemindahan) are region digits. The creator defaults to the
    desa's operator: operator_desa in Desa A, outsider_desa in Kota Solok, otherwise
    operator_kecamatan (its kecamatan covers 137101) or verifikator_kabkota.
    """

    def make(
        kind: str = Kind.PERBAIKAN,
        status: str = Status.DRAFT,
        desa: str = "1371011001",
        created_by: Any = None,
        **fields: Any,
    ) -> Proposal:
        if created_by is None:
            created_by = _default_creator(cast, desa)
        destination = fields.pop("destination", None)
        if destination is not None:
            fields["destination"] = regions[destination]
            fields["destination_code"] = destination
        return ProposalFactory.create(
            kind=kind, status=status, region=regions[desa], created_by=created_by, **fields
        )

    return make


def _default_creator(cast: dict[str, Any], desa: str) -> Any:
    if desa == "1371011001":
        return cast["operator_desa"]
    if desa.startswith("1372"):
        return cast["outsider_desa"]
    if desa.startswith("137101"):
        return cast["operator_kecamatan"]
    return cast["verifikator_kabkota"]


@pytest.fixture
def registry_household(cast: dict[str, Any], regions: dict[str, Region]) -> Household:
    """A two-person household in Desa A, written through the registry's own write path."""
    born = dt.date(1980, 5, 17)
    head = {
        "name": "Budi Chaniago",
        "sex": 1,
        "birth_date": born,
        "relation_kk": 1,
        "relation_ruta": 1,
        "nik": compose_nik("137101", born, 1, next(_serial)),
    }
    child = {
        "name": "Sari Chaniago",
        "sex": 2,
        "birth_date": dt.date(2012, 2, 3),
        "relation_kk": 3,
        "relation_ruta": 3,
        "nik": compose_nik("137101", dt.date(2012, 2, 3), 2, next(_serial)),
    }
    return records.create_household(
        by=cast["operator_desa"],
        region=regions["1371011001"],
        household_fields={"address": "Jl. Uji 2"},
        families=[
            {
                "no_kk": compose_no_kk("137101", dt.date(2015, 6, 1), next(_serial)),
                "members": [head, child],
            }
        ],
        reason="Data uji usulan",
    )
