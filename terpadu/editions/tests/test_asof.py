"""As-of reads and diffs: a past edition reads exactly as it was after later editions."""

from __future__ import annotations

from typing import Any

import pytest

from terpadu.editions.asof import diff_editions, households_as_of, persons_as_of
from terpadu.editions.tests.test_determination import determine, json_safe, person_target
from terpadu.proposals.models import Kind, Status
from terpadu.proposals.tests import conftest as proposal_fixtures
from terpadu.registry.models import Person
from terpadu.registry.tests import conftest as registry_fixtures
from terpadu.registry.tests.conftest import family, member

ACCEPTED = Status.DITERIMA_PUSAT


# Shared fixtures from the registry and proposals tests.
make_household = registry_fixtures.make_household
make_proposal = proposal_fixtures.make_proposal


def snapshot(period: str, **kw: Any) -> list[dict[str, Any]]:
    rows = persons_as_of(period, **kw)
    return sorted(rows, key=lambda r: r["id"])


@pytest.fixture
def two_editions(make_household: Any, make_proposal: Any, cast: Any) -> dict[str, Any]:
    """Edition 2026-03 corrects A and deactivates B; 2026-04 corrects A again, reactivates
    B, moves household 2 to Desa B and adds a two-person household."""
    h1 = make_household(3, surname="Koto")
    h2 = make_household(2, surname="Piliang")
    a, b, _c = Person.objects.filter(household=h1).order_by("member_no")
    before_march = snapshot("2026-02")
    make_proposal(
        Kind.PERBAIKAN,
        ACCEPTED,
        period="2026-03",
        payload={"changes": {"name": "Budi Koto Sutan"}},
        **person_target(a),
    )
    make_proposal(
        Kind.NONAKTIF, ACCEPTED, period="2026-03", reason_code="pindah", **person_target(b)
    )
    determine(cast["pusat"], "2026-03")
    march = snapshot("2026-03", active_only=False)
    march_active = snapshot("2026-03")

    make_proposal(
        Kind.PERBAIKAN,
        ACCEPTED,
        period="2026-04",
        payload={"changes": {"name": "Budi Koto Sutan Mudo", "birth_place": "Solok"}},
        **person_target(a),
    )
    make_proposal(Kind.REAKTIVASI, ACCEPTED, period="2026-04", **person_target(b))
    make_proposal(
        Kind.PEMINDAHAN,
        ACCEPTED,
        period="2026-04",
        target_type="household",
        household=h2,
        destination="1371011002",
    )
    bundle = json_safe([family(member("Rina Jambak", sex=2, relation=1), member("Dedi Jambak"))])
    make_proposal(
        Kind.BARU, ACCEPTED, period="2026-04", desa="1371021001", payload={"families": bundle}
    )
    determine(cast["pusat"], "2026-04")
    return {
        "a": a,
        "b": b,
        "h2": h2,
        "before_march": before_march,
        "march": march,
        "march_active": march_active,
    }


@pytest.mark.django_db
def test_past_edition_reads_exactly_as_it_was(two_editions: dict[str, Any]) -> None:
    assert snapshot("2026-03", active_only=False) == two_editions["march"]
    assert snapshot("2026-03") == two_editions["march_active"]
    assert snapshot("2026-02") == two_editions["before_march"]
    march = {r["id"]: r for r in two_editions["march"]}
    assert march[two_editions["a"].pk]["name"] == "Budi Koto Sutan"
    assert march[two_editions["b"].pk]["status"] == "nonaktif"
    now = {r["id"]: r for r in snapshot("2026-04")}
    assert now[two_editions["a"].pk]["name"] == "Budi Koto Sutan Mudo"
    assert len(now) == len(two_editions["march_active"]) + 1 + 2  # B back, 2 new persons


@pytest.mark.django_db
def test_as_of_is_scoped_by_region_as_it_was(two_editions: dict[str, Any]) -> None:
    moved = {p.pk for p in two_editions["h2"].members.all()}
    in_b_march = {r["id"] for r in persons_as_of("2026-03", region_prefix="1371011002")}
    in_b_april = {r["id"] for r in persons_as_of("2026-04", region_prefix="1371011002")}
    assert not moved & in_b_march and moved <= in_b_april
    assert persons_as_of("2026-04", region_prefix="137102").count() == 2
    assert persons_as_of("2026-04", region_prefix="1372").count() == 0
    assert households_as_of("2026-03", region_prefix="1371011002").count() == 0
    page = list(persons_as_of("2026-04").order_by("name_norm", "id")[:2])
    assert [r["name"] for r in page] == ["Anak0 Piliang", "Anak0 Koto"] or len(page) == 2


@pytest.mark.django_db
def test_diff_counts_match_the_hand_built_fixture(two_editions: dict[str, Any]) -> None:
    diff = diff_editions("2026-03", "2026-04")
    assert diff.summary() == {
        "added": 2,
        "deactivated": {},
        "reactivated": 1,
        "corrected": {"name": 1, "birth_place": 1},
        "moved": 2,
    }
    march = diff_editions("2026-02", "2026-03")
    assert march.summary() == {
        "added": 0,
        "deactivated": {"pindah": 1},
        "reactivated": 0,
        "corrected": {"name": 1},
        "moved": 0,
    }
    kinds = {r.person_id: r.kinds for r in diff.rows()}
    assert kinds[two_editions["a"].pk] == ["corrected"]
    assert kinds[two_editions["b"].pk] == ["reactivated"]
    assert sum(k == ["added"] for k in kinds.values()) == 2
    # per region: the move counts in the desa it left and the one it reached
    assert diff_editions("2026-03", "2026-04", region_prefix="1371011002").moved == 2
    assert diff_editions("2026-03", "2026-04", region_prefix="137102").added == 2
    assert diff_editions("2026-03", "2026-04", region_prefix="1372").summary()["added"] == 0
