from __future__ import annotations

import pytest
from django.core.management import call_command

from terpadu.proposals.models import Proposal, Status

pytestmark = pytest.mark.django_db


def test_setup_demo_seeds_proposals_at_every_stage_once(regions):
    call_command("setup_demo", households=60, verbosity=0)
    statuses = sorted(Proposal.objects.values_list("status", flat=True))
    assert statuses == sorted(
        [
            Status.DIPERIKSA_DINSOS,
            Status.DIKEMBALIKAN_KE_DESA,
            Status.FINAL_KABKOTA,
            Status.DRAFT,
            Status.MENUNGGU_MUSDES,
        ]
    )
    call_command("setup_demo", households=60, verbosity=0)
    assert Proposal.objects.count() == 5
