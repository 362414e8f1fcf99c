"""factory_boy factories for proposals tests (style.md §6). Small on purpose.

The factories write rows directly, like a fixture: a proposal built here starts in whatever
status the test needs. Moving it afterwards must go through `workflow.transition()`.
Pass `region=` (a desa Region row) and `created_by=`; `region_code` follows the region.
"""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from terpadu.proposals.models import Batch, Consent, Kind, Proposal, Status


class ProposalFactory(DjangoModelFactory[Proposal]):
    """ProposalFactory(region=desa, created_by=user, kind=..., status=...)."""

    class Meta:
        model = Proposal

    kind = Kind.PERBAIKAN
    status = Status.DRAFT
    region_code = factory.LazyAttribute(lambda p: p.region.digits)
    summary = factory.Sequence(lambda n: f"Usulan uji {n}")


class ConsentFactory(DjangoModelFactory[Consent]):
    """The destination's agreement to a pemindahan: ConsentFactory(proposal=p, by=user)."""

    class Meta:
        model = Consent

    region_code = factory.LazyAttribute(lambda c: c.proposal.destination_code)
    agreed = True


class BatchFactory(DjangoModelFactory[Batch]):
    """A kab/kota batch: BatchFactory(region=kabkota, finalised_by=admin_kabkota)."""

    class Meta:
        model = Batch

    region_code = factory.LazyAttribute(lambda b: b.region.digits)
    period = "2026-11"
    sequence = factory.Sequence(lambda n: n + 1)
