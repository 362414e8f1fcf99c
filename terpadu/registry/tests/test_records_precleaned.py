"""create_households_precleaned writes exactly what create_households_bulk writes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import models
from django.utils import timezone

from terpadu.registry import records
from terpadu.registry.models import Change, ChangeSet, Family, FamilyMembership, Household, Person
from terpadu.registry.tests.conftest import family, member

SKIP = {"id", "created_at", "updated_at"}


def _bundles(regions: Any) -> list[records.HouseholdBundle]:
    return [
        records.HouseholdBundle(
            key="a",
            region=regions["1371011001"],
            household_fields={"address": "Jl. Sudirman 1", "rt": "001", "latitude": "-0.95"},
            families=[
                family(
                    member("Dr. H. Budi Santoso, S.H.", relation=1, employment_status=2),
                    member("  siti   aminah ", sex=2, relation=2, mother_name="Hj. Rosna"),
                    member("Anak Satu", relation=3, employment_status=4, birth_place="Padang"),
                ),
                family(
                    member("Kakak Ipar", relation=1, pregnant=True),
                    member("Tanpa NIK", nik=None, relation=3),
                ),
            ],
        ),
        records.HouseholdBundle(
            key="b",
            region=regions["1371021001"],
            families=[family(member("Seorang Diri", sex=2, relation=3, member_no=7))],
        ),
        records.HouseholdBundle(
            key="c",
            region=regions["1371011002"],
            household_fields={"sls_name": "Jorong Ateh"},
            families=[
                {"no_kk": None, "nuk": 3, "members": [member("Ibu", sex=2, relation=1)]},
                family(member("Bapak", relation=1, occupation="Petani")),
            ],
        ),
    ]


def _snapshot(changeset: ChangeSet) -> dict[str, Any]:
    """The rows a changeset created, with ids replaced by their rank within the changeset."""
    ids: dict[str, list[int]] = {}
    for entity in ("household", "family", "person"):
        ids[entity] = sorted(
            Change.objects.filter(changeset=changeset, entity=entity).values_list(
                "entity_id", flat=True
            )
        )
    rank = {e: {pk: i for i, pk in enumerate(pks)} for e, pks in ids.items()}

    def rows(model: type[models.Model], entity: str, refs: dict[str, str]) -> list[tuple]:
        out = []
        for obj in model.objects.filter(pk__in=ids[entity]).order_by("pk"):
            row = []
            for f in model._meta.concrete_fields:
                if f.name in SKIP:
                    continue
                value = getattr(obj, f.attname)
                if f.attname in refs and value is not None:
                    value = rank[refs[f.attname]][value]
                row.append((f.name, value))
            out.append(tuple(row))
        return out

    memberships = [
        (rank["person"][m.person_id], rank["family"][m.family_id], m.region_code, m.relation_kk,
         m.valid_from, m.valid_to)
        for m in FamilyMembership.objects.filter(person_id__in=ids["person"]).order_by("person_id")
    ]  # fmt: skip
    # Both writers order history by (entity_id, entity): with other absolute ids the same
    # rows interleave differently, so they are compared as a set of rows.
    history = sorted(
        (c.entity, rank[c.entity][c.entity_id], c.region_code, c.action, c.diff)
        for c in Change.objects.filter(changeset=changeset).order_by("id")
    )
    return {
        "household": rows(Household, "household", {}),
        "family": rows(Family, "family", {"household_id": "household", "head_id": "person"}),
        "person": rows(Person, "person", {"household_id": "household", "family_id": "family"}),
        "membership": memberships,
        "history": history,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("stamp", [None, {"penetapan_period": "2026-03"}])
def test_precleaned_writes_the_same_rows_as_create_households_bulk(regions, stamp) -> None:  # type: ignore[no-untyped-def]
    bundles = _bundles(regions)
    a = ChangeSet.objects.create(reason="bundles", source=ChangeSet.Source.IMPORT)
    records.create_households_bulk(a, bundles, stamp=stamp)
    b = ChangeSet.objects.create(reason="precleaned", source=ChangeSet.Source.IMPORT)
    counts = records.create_households_precleaned(
        b, records.precleaned_from_bundles(bundles), stamp=stamp
    )
    assert counts == (3, 5, 8)
    first, second = _snapshot(a), _snapshot(b)
    assert [len(first[k]) for k in first] == [3, 5, 8, 8, 16]
    for key in first:
        assert first[key] == second[key], key
    # Derived columns and defaults really are there (not just equally missing).
    budi = Person.objects.filter(name__startswith="Dr. H. Budi").order_by("pk").last()
    assert budi.name_norm == records.normalise_name(budi.name) and budi.informal_work is True
    assert budi.status == "aktif" and budi.member_no == 1
    head_family = Family.objects.get(pk=budi.family_id)
    assert head_family.head_id == budi.pk
    hh = Household.objects.get(pk=budi.household_id)
    assert hh.latitude == Decimal("-0.950000") and hh.created_at is not None
    assert FamilyMembership.objects.get(person=budi).valid_from == timezone.localdate()


@pytest.mark.django_db
def test_precleaned_refuses_a_region_that_is_not_a_desa(regions) -> None:  # type: ignore[no-untyped-def]
    bundle = records.HouseholdBundle(
        key="x", region=regions["1371011001"], families=[family(member("A", relation=1))]
    )
    data = records.precleaned_from_bundles([bundle])
    data.households = data.households.with_columns(
        data.households["region_id"] * 0 + regions["1371"].pk
    )
    cs = ChangeSet.objects.create(reason="x", source=ChangeSet.Source.IMPORT)
    with pytest.raises(records.RegistryError):
        records.create_households_precleaned(cs, data)
    assert not Person.objects.exists()


@pytest.mark.django_db
def test_precleaned_from_bundles_keeps_the_rules(regions) -> None:  # type: ignore[no-untyped-def]
    bad = records.HouseholdBundle(
        key="x", region=regions["1371011001"], families=[family(member("A", relation=1,
        nik="3.2E+15"))],
    )  # fmt: skip
    with pytest.raises(records.RegistryError) as err:
        records.precleaned_from_bundles([bad])
    assert err.value.errors[0].path.startswith("x.families[0].members[0].nik")


@pytest.mark.django_db
def test_precleaned_keeps_backslashes_tabs_and_line_breaks(regions) -> None:  # type: ignore[no-untyped-def]
    """COPY's text format escapes them; nothing is lost or split into another column."""
    address = "Jl. Kubu\\Dalam\tNo. 3\nRT 001\r\\N"
    bundle = records.HouseholdBundle(
        key="x",
        region=regions["1371011001"],
        household_fields={"address": address},
        families=[family(member("Tab\tBackslash\\", relation=1))],
    )
    cs = ChangeSet.objects.create(reason="escapes", source=ChangeSet.Source.IMPORT)
    records.create_households_precleaned(cs, records.precleaned_from_bundles([bundle]))
    hh = Household.objects.get(pk=Change.objects.get(changeset=cs, entity="household").entity_id)
    assert hh.address == address
    assert hh.members.get().name == "Tab\tBackslash\\"
    assert hh.created_at is not None and hh.members.get().updated_at is not None
