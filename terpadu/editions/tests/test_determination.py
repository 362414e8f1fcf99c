"""Determination: every kind applied set-based in one transaction, history written, frozen."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from terpadu.editions import determination
from terpadu.editions.determination import DeterminationError, determine_edition
from terpadu.editions.models import Edition, EditionFrozen, PersonVersion
from terpadu.proposals.models import Kind, Status
from terpadu.proposals.tests import conftest as proposal_fixtures
from terpadu.registry.models import (
    Change,
    FamilyMembership,
    Household,
    Person,
    RecordStatus,
)
from terpadu.registry.tests import conftest as registry_fixtures
from terpadu.registry.tests.conftest import family, member

ACCEPTED = Status.DITERIMA_PUSAT


# Shared fixtures from the registry and proposals tests.
make_household = registry_fixtures.make_household
make_proposal = proposal_fixtures.make_proposal


def determine(by: Any, period: str, **kw: Any) -> Edition:
    return determine_edition(
        by=by,
        period=period,
        decree_number=f"{period}/HUK",
        decree_date=dt.date(2026, 4, 2),
        signatory="Menteri Sosial",
        decree_pdf=ContentFile(b"%PDF-1.4 x", name="kepmensos.pdf"),
        **kw,
    )


def json_safe(value: Any) -> Any:
    """A bundle as proposals store it (dates as ISO text)."""
    return json.loads(json.dumps(value, default=str))


def person_target(p: Person) -> dict[str, Any]:
    return {
        "target_type": "person",
        "person": p,
        "household_id": p.household_id,
        "family_id": p.family_id,
    }


@pytest.fixture
def world(make_household: Any, make_proposal: Any) -> dict[str, Any]:
    """Two households in Desa A and one accepted proposal of each kind."""
    h1 = make_household(3, surname="Koto")
    h2 = make_household(2, surname="Piliang")
    a, b, c = Person.objects.filter(household=h1).order_by("member_no")
    props = {
        "fix": make_proposal(
            Kind.PERBAIKAN,
            ACCEPTED,
            period="2026-03",
            payload={"changes": {"name": "Budi Koto Sutan", "birth_place": "Solok"}},
            **person_target(a),
        ),
        "off": make_proposal(
            Kind.NONAKTIF, ACCEPTED, period="2026-03", reason_code="meninggal", **person_target(b)
        ),
        "move": make_proposal(
            Kind.PEMINDAHAN,
            ACCEPTED,
            period="2026-03",
            target_type="household",
            household=h2,
            destination="1371011002",
        ),
        "new": make_proposal(
            Kind.BARU,
            ACCEPTED,
            period="2026-03",
            payload={
                "household_fields": {"address": "Jl. Baru 1"},
                "families": json_safe(
                    [
                        family(
                            member("Rina Jambak", sex=2, relation=1),
                            member("Dedi Jambak", relation=3, born=dt.date(2014, 5, 5)),
                        )
                    ]
                ),
            },
        ),
    }
    return {"h1": h1, "h2": h2, "a": a, "b": b, "c": c, **props}


@pytest.mark.django_db(transaction=True)
def test_determination_applies_every_kind_and_freezes(world: dict[str, Any], cast: Any) -> None:
    edition = determine(cast["pusat"], "2026-03")

    a = Person.objects.get(pk=world["a"].pk)
    assert (a.name, a.birth_place, a.penetapan_period) == ("Budi Koto Sutan", "Solok", "2026-03")
    assert a.name_norm == "BUDI KOTO SUTAN"
    b = Person.objects.get(pk=world["b"].pk)
    assert (b.status, b.nonaktif_reason) == (RecordStatus.NONAKTIF, "meninggal")
    moved = Person.objects.filter(household=world["h2"])
    assert {p.region_code for p in moved} == {"1371011002"}
    assert {m.region_code for m in FamilyMembership.objects.filter(person__in=moved)} == {
        "1371011002"
    }
    assert Household.objects.get(pk=world["h2"].pk).region.digits == "1371011002"
    new = Household.objects.get(address="Jl. Baru 1")
    assert new.penetapan_period == "2026-03" and new.members.count() == 2
    assert new.families.get().head.name == "Rina Jambak"
    # untouched rows keep their period and get no version
    assert Person.objects.get(pk=world["c"].pk).penetapan_period == ""
    assert not PersonVersion.objects.filter(record=world["c"]).exists()

    assert edition.counts["added"] == {"households": 1, "families": 1, "persons": 2}
    assert edition.counts["deactivated"] == {"meninggal": 1}
    assert edition.counts["corrected"] == {"person": {"name": 1, "birth_place": 1}}
    assert edition.counts["moved"] == {"households": 1, "persons": 2}
    for key in ("fix", "off", "move", "new"):
        world[key].refresh_from_db()
        assert world[key].status == Status.DITETAPKAN
    changes = Change.objects.filter(changeset__source_ref="penetapan 2026-03")
    assert changes.get(entity="person", entity_id=a.pk).diff["name"] == [
        "Budi Koto",
        "Budi Koto Sutan",
    ]
    assert changes.get(entity="person", entity_id=b.pk).action == Change.Action.DEACTIVATE
    assert changes.filter(action=Change.Action.CREATE).count() == 4  # ruta, KK, 2 ART

    with pytest.raises(EditionFrozen):
        edition.save()


@pytest.mark.django_db
def test_registry_bulk_changed_is_sent_on_commit(
    world: dict[str, Any], cast: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from terpadu.core.signals import registry_bulk_changed

    heard: list[dict[str, Any]] = []

    def listen(sender: Any, **kwargs: Any) -> None:
        heard.append({"sender": sender, **{k: v for k, v in kwargs.items() if k != "signal"}})

    def broken(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("listener down")

    registry_bulk_changed.connect(broken)  # logged, never raised: the edition is committed
    registry_bulk_changed.connect(listen)
    try:
        with django_capture_on_commit_callbacks(execute=False) as failed:
            world["fix"].payload = {"changes": {"nik": "12"}}  # refused: nothing queued
            world["fix"].save()
            with pytest.raises(DeterminationError):
                determine(cast["pusat"], "2026-03")
        assert failed == [] and heard == []
        world["fix"].payload = {"changes": {"name": "Budi Koto Sutan"}}
        world["fix"].save()
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            determine(cast["pusat"], "2026-03")
            assert heard == []  # not before the commit
        for callback in callbacks:
            callback()
    finally:
        registry_bulk_changed.disconnect(listen)
        registry_bulk_changed.disconnect(broken)
    assert heard == [{"sender": Edition, "source": "edition", "ref": "2026-03", "region_code": ""}]


@pytest.mark.django_db
def test_timings_report_each_step(world: dict[str, Any], cast: Any) -> None:
    timings: dict[str, dict[str, float]] = {}
    determine(cast["pusat"], "2026-03", timings=timings)
    for step in ("select", "plan", "update_person", "history", "new_households", "total"):
        assert timings[step]["s"] >= 0
    assert ("wal_mb" in timings["total"]) == (connection.vendor == "postgresql")
    assert list(timings)[-1] == "commit"


@pytest.mark.django_db
def test_only_pusat_determines(world: dict[str, Any], cast: Any) -> None:
    with pytest.raises(PermissionDenied):
        determine(cast["admin_provinsi"], "2026-03")


@pytest.mark.django_db
def test_refuses_existing_and_earlier_periods(world: dict[str, Any], cast: Any) -> None:
    determine(cast["pusat"], "2026-03")
    with pytest.raises(DeterminationError) as exists:
        determine(cast["pusat"], "2026-03")
    assert exists.value.issues[0].code == "edition_exists"
    with pytest.raises(DeterminationError) as earlier:
        determine(cast["pusat"], "2026-02")
    assert earlier.value.issues[0].code == "period_before_latest"


@pytest.mark.django_db(transaction=True)
def test_a_failure_leaves_nothing(
    world: dict[str, Any], cast: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(determination.records, "create_households_bulk", boom)
    with pytest.raises(RuntimeError):
        determine(cast["pusat"], "2026-03")
    assert not Edition.objects.exists()
    assert not PersonVersion.objects.exists()
    a = Person.objects.get(pk=world["a"].pk)
    assert (a.name, a.penetapan_period) == ("Budi Koto", "")
    assert Person.objects.get(pk=world["b"].pk).status == RecordStatus.AKTIF
    world["fix"].refresh_from_db()
    assert world["fix"].status == ACCEPTED


@pytest.mark.django_db
def test_an_invalid_correction_refuses_with_its_proposal(
    world: dict[str, Any], cast: Any, make_proposal: Any
) -> None:
    make_proposal(
        Kind.PERBAIKAN,
        ACCEPTED,
        period="2026-03",
        payload={"changes": {"nik": "12"}},
        **person_target(world["c"]),
    )
    with pytest.raises(DeterminationError) as refused:
        determine(cast["pusat"], "2026-03")
    assert any(i.path.startswith("usulan #") for i in refused.value.issues)
    assert not Edition.objects.exists()


@pytest.mark.django_db
def test_query_count_does_not_grow_with_proposals(
    make_household: Any, make_proposal: Any, cast: Any
) -> None:
    def month(period: str, n: int) -> int:
        for _ in range(n):
            hh = make_household(2)
            for p in hh.members.all():
                make_proposal(
                    Kind.PERBAIKAN,
                    ACCEPTED,
                    period=period,
                    payload={"changes": {"occupation": f"Petani {period}"}},
                    **person_target(p),
                )
            make_proposal(
                Kind.PEMINDAHAN,
                ACCEPTED,
                period=period,
                target_type="household",
                household=hh,
                destination="1371011002",
            )
        with CaptureQueriesContext(connection) as ctx:
            determine(cast["pusat"], period)
        return len(ctx.captured_queries)

    assert month("2026-03", 2) == month("2026-04", 8)


@pytest.mark.django_db
def test_admin_shows_editions_read_only(world: dict[str, Any], cast: Any, client: Any) -> None:
    from django.contrib.auth import get_user_model

    edition = determine(cast["pusat"], "2026-03")
    admin_user = get_user_model().objects.create_superuser("root", "root@x.id", "pw-123456!")
    client.force_login(admin_user)
    page = client.get(f"/admin/editions/edition/{edition.pk}/change/")
    assert page.status_code == 200 and b'name="decree_number"' not in page.content
    assert client.post(f"/admin/editions/edition/{edition.pk}/delete/").status_code == 403
    assert client.get("/admin/editions/edition/add/").status_code == 403


@pytest.mark.django_db
def test_relation_corrections_move_the_family_head(
    make_household: Any, make_proposal: Any, cast: Any
) -> None:
    hh = make_household(3)
    head, child, _ = hh.members.order_by("member_no")
    for person, relation in ((child, 1), (head, 2)):  # the new head's proposal comes first
        make_proposal(
            Kind.PERBAIKAN,
            ACCEPTED,
            period="2026-03",
            payload={"changes": {"relation_kk": relation}},
            **person_target(person),
        )
    determine(cast["pusat"], "2026-03")
    fam = hh.families.get()
    assert fam.head_id == child.pk and fam.penetapan_period == "2026-03"
    open_rows = FamilyMembership.objects.filter(valid_to__isnull=True)
    assert open_rows.get(person=child).relation_kk == 1
    assert open_rows.get(person=head).relation_kk == 2


@pytest.mark.django_db
def test_light_instances_behave_like_only(make_household: Any) -> None:
    hh = make_household(2)
    qs = Person.objects.filter(household=hh).order_by("pk")
    light = list(determination._instances(qs, {"name", "household"}))
    plain = list(qs.only("name", "household"))
    assert [(p.pk, p.name, p.household_id) for p in light] == [
        (p.pk, p.name, p.household_id) for p in plain
    ]
    first = light[0]
    assert not first._state.adding and first.get_deferred_fields() == plain[0].get_deferred_fields()
    expected = plain[0].birth_place
    with CaptureQueriesContext(connection) as ctx:
        assert first.birth_place == expected  # deferred: read on access
    assert len(ctx.captured_queries) == 1
