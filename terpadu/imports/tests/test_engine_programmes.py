"""Programme flags of an import: memberships opened in direct mode, none from proposals."""

from __future__ import annotations

import pytest
from django.utils import timezone

from terpadu.imports.models import JobStatus
from terpadu.proposals.models import Proposal
from terpadu.registry.models import Change, Person, ProgramMembership

from .engine_helpers import HEADERS, _imports_env, applied, households, validated, write_csv  # noqa: F401

pytestmark = pytest.mark.django_db

FLAG_HEADERS = [*HEADERS, "PKH", "PBI", "PIP"]


@pytest.fixture
def admin(cast):  # type: ignore[no-untyped-def]
    return cast["admin_kabkota"]


def _rows() -> list[dict]:
    rows = households(3, size=3)
    # Household 1: PKH on the head's row only; PBI for head + member 2 ("Ya", "1").
    rows[0].update(PKH="1", PBI="Ya", PIP="0")
    rows[1].update(PKH="", PBI="1", PIP="tidak")
    # Household 2: PKH on a member row ("Y"), PIP for member 3 ("x").
    rows[4].update(PKH="Y")
    rows[5].update(PIP="x")
    # Household 3: no programme; an unreadable flag is a warning and means no.
    rows[6].update(PKH="mungkin", PBI="T")
    return rows


def test_direct_apply_opens_programme_memberships(admin, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = _rows()
    path = write_csv(tmp_path / "prog.csv", rows, headers=FLAG_HEADERS)
    job = validated(admin, regions["1371"], path, mode="direct")
    assert job.rows_invalid == 0, job.summary
    job = applied(admin, job)
    assert job.status == JobStatus.APPLIED, job.error_id
    today = timezone.localdate()
    got = {
        (m.program.code, m.person.nik if m.person_id else m.family.no_kk)
        for m in ProgramMembership.objects.select_related("program", "person", "family")
    }
    assert got == {
        ("PKH", rows[0]["NO_KK"]),  # family target: once per family
        ("PKH", rows[3]["NO_KK"]),
        ("PBI-JK", rows[0]["NIK"]),  # person target
        ("PBI-JK", rows[1]["NIK"]),
        ("PIP", rows[5]["NIK"]),
    }
    for m in ProgramMembership.objects.all():
        assert (m.period_from, m.period_to, m.status) == (today, None, "aktif")
        assert m.source == f"impor #{job.pk}"
        owner = m.person or m.family
        assert m.region_code == owner.region_code == "1371011001"
    # A CREATE history row per membership, in the import's change set.
    history = Change.objects.filter(entity="programmembership")
    assert {(c.entity_id, c.action, c.changeset_id) for c in history} == {
        (m.pk, "create", job.changeset_id) for m in ProgramMembership.objects.all()
    }
    assert Person.objects.count() == 9
    # The household's history lists its memberships' CREATE rows too.
    from terpadu.registry.queries import household_history

    head = Person.objects.get(nik=rows[0]["NIK"])
    entities = [c.entity for c in household_history(head.household)]
    assert entities.count("programmembership") == 3  # PKH of the family, PBI-JK × 2


def test_direct_apply_without_flag_columns_opens_none(admin, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(tmp_path / "plain.csv", households(2))
    job = applied(admin, validated(admin, regions["1371"], path, mode="direct"))
    assert job.status == JobStatus.APPLIED
    assert not ProgramMembership.objects.exists()
    assert not Change.objects.filter(entity="programmembership").exists()


def test_proposal_mode_carries_no_programmes(admin, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(tmp_path / "prop.csv", _rows(), headers=FLAG_HEADERS)
    job = applied(admin, validated(admin, regions["1371"], path, mode="proposal"))
    assert job.status == JobStatus.APPLIED, job.error_id
    assert Proposal.objects.count() == 3
    assert not ProgramMembership.objects.exists()
    assert all("program" not in str(p.payload).lower() for p in Proposal.objects.all())
