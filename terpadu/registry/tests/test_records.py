from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from terpadu.registry import records
from terpadu.registry.models import (
    Change,
    ChangeSet,
    Family,
    FamilyMembership,
    Household,
    NonaktifReason,
    Person,
    RecordStatus,
)
from terpadu.registry.tests.conftest import family, member

pytestmark = pytest.mark.django_db


def test_create_household_builds_the_whole_tree_with_history(cast, regions):
    hh = records.create_household(
        by=cast["operator_desa"],
        region=regions["1371011001"],
        household_fields={"address": "Jl. Bungus 3", "floor_type": 9, "asset_tv": True},
        families=[
            family(
                member("Hj. Siti Aminah, S.Pd", sex=2, relation=1, employment_status=4),
                member("Rina", sex=2, born=dt.date(2012, 5, 1)),
            ),
            family(member("Andi Koto", relation=1, employment_status=7)),
        ],
        reason="Usulan baru musdes 2025",
    )
    assert hh.region_code == "1371011001"
    fams = list(Family.objects.filter(household=hh).order_by("nuk"))
    assert [f.nuk for f in fams] == [1, 2]
    siti = Person.objects.get(name__startswith="Hj. Siti")
    assert siti.name_norm == "SITI AMINAH"
    assert siti.informal_work is False
    assert Person.objects.get(name="Andi Koto").informal_work is True
    assert fams[0].head_id == siti.pk
    assert FamilyMembership.objects.filter(person__household=hh, valid_to=None).count() == 3
    changes = Change.objects.filter(changeset__reason="Usulan baru musdes 2025")
    assert sorted(changes.values_list("entity", flat=True)) == (
        ["family", "family", "household", "person", "person", "person"]
    )
    cs = ChangeSet.objects.get()
    assert (cs.actor, cs.actor_role, cs.actor_scope) == (
        cast["operator_desa"],
        "operator_desa",
        "1371011001",
    )
    assert hh.warnings == []


def test_create_household_costs_the_same_queries_for_3_or_12_members(make_household):
    with CaptureQueriesContext(connection) as small:
        make_household(3)
    with CaptureQueriesContext(connection) as large:
        make_household(12)
    assert len(small) == len(large)


def test_nik_error_refuses_everything_and_lists_every_issue(cast, regions):
    with pytest.raises(records.RegistryError) as exc:
        records.create_household(
            by=cast["operator_desa"],
            region=regions["1371011001"],
            families=[
                {
                    "no_kk": "12345",
                    "members": [
                        member("Budi", relation=1),
                        {"name": "Ani", "sex": 2, "nik": "3.57301E+15"},
                        {"name": "", "sex": 3},
                    ],
                }
            ],
            reason="uji",
        )
    paths = {i.path for i in exc.value.errors}
    assert "families[0].no_kk" in paths
    assert "families[0].members[1].nik" in paths
    assert {"families[0].members[2].name", "families[0].members[2].sex"} <= paths
    assert all(i.message_id and i.message_en for i in exc.value.errors)
    assert Household.objects.count() == Person.objects.count() == ChangeSet.objects.count() == 0


def test_nik_warning_is_kept_not_blocking(cast, regions):
    nik_male = member("X", sex=1)["nik"]
    hh = records.create_household(
        by=cast["operator_desa"],
        region=regions["1371011001"],
        families=[family({"name": "Sari", "sex": 2, "relation_kk": 1, "nik": nik_male})],
        reason="uji",
    )
    assert hh.warnings
    assert Person.objects.get(household=hh).nik == nik_male


def test_region_must_be_desa_and_in_scope(cast, regions):
    fams = [family(member("Budi", relation=1))]
    with pytest.raises(records.RegistryError):
        records.create_household(
            by=cast["operator_kecamatan"], region=regions["137101"], families=fams, reason="uji"
        )
    with pytest.raises(PermissionDenied):
        records.create_household(
            by=cast["outsider_desa"], region=regions["1371011001"], families=fams, reason="uji"
        )
    with pytest.raises(PermissionDenied):  # read-only role
        records.create_household(
            by=cast["operator_provinsi"], region=regions["1371011001"], families=fams, reason="uji"
        )
    assert Household.objects.count() == 0


def test_update_person_records_before_and_after(make_household, cast):
    hh = make_household()
    person = Person.objects.filter(household=hh).order_by("member_no").last()
    records.update_person(
        person,
        by=cast["verifikator_kabkota"],
        changes={"name": "dr. Rahmat Hidayat", "birth_date": "2011-02-03", "employment_status": 5},
        reason="Perbaikan sesuai KK",
    )
    person.refresh_from_db()
    assert person.name_norm == "RAHMAT HIDAYAT"
    assert person.informal_work is False
    change = Change.objects.get(entity="person", entity_id=person.pk, action="update")
    assert change.diff["name"][1] == "dr. Rahmat Hidayat"
    assert change.diff["birth_date"][1] == "2011-02-03"
    assert change.diff["employment_status"] == [None, 5]
    assert change.changeset.actor == cast["verifikator_kabkota"]
    assert change.changeset.actor_role == "verifikator_kabkota"
    assert change.changeset.reason == "Perbaikan sesuai KK"


def test_update_refuses_unknown_and_status_fields(make_household, cast):
    person = Person.objects.filter(household=make_household()).first()
    for bad in (
        {"name_norm": "X"},
        {"status": "nonaktif"},
        {"region_code": "1372011001"},
        {"colour": "red"},
    ):
        with pytest.raises(records.RegistryError):
            records.update_person(person, by=cast["operator_desa"], changes=bad, reason="x")
    with pytest.raises(records.RegistryError):  # bad NIK
        records.update_person(person, by=cast["operator_desa"], changes={"nik": "123"}, reason="x")
    assert not Change.objects.filter(action="update").exists()


def test_update_without_change_writes_nothing(make_household, cast):
    person = Person.objects.filter(household=make_household()).first()
    before = ChangeSet.objects.count()
    records.update_person(
        person, by=cast["operator_desa"], changes={"name": person.name}, reason="x"
    )
    assert ChangeSet.objects.count() == before


def test_update_refused_out_of_scope(make_household, cast):
    person = Person.objects.filter(household=make_household()).first()
    with pytest.raises(PermissionDenied):
        records.update_person(person, by=cast["outsider_kab"], changes={"name": "A"}, reason="x")


def test_moving_household_carries_members_along(make_household, cast, regions):
    hh = make_household()
    records.update_household(
        hh,
        by=cast["operator_kecamatan"],
        changes={"region": regions["1371011002"], "rt": "004"},
        reason="Salah input desa",
    )
    assert hh.region_code == "1371011002"
    assert set(Person.objects.filter(household=hh).values_list("region_code", flat=True)) == {
        "1371011002"
    }
    assert set(Family.objects.filter(household=hh).values_list("region_code", flat=True)) == {
        "1371011002"
    }
    assert set(
        FamilyMembership.objects.filter(family__household=hh).values_list("region_code", flat=True)
    ) == {"1371011002"}
    diff = Change.objects.get(entity="household", action="update").diff
    assert diff["region_code"] == ["1371011001", "1371011002"]
    assert diff["rt"] == ["", "004"]


def test_update_family_checks_no_kk(make_household, cast):
    fam = Family.objects.get(household=make_household())
    with pytest.raises(records.RegistryError):
        records.update_family(fam, by=cast["operator_desa"], changes={"no_kk": "99"}, reason="x")
    records.update_family(fam, by=cast["operator_desa"], changes={"desil": 2}, reason="x")
    assert Change.objects.get(entity="family", action="update").diff == {"desil": [None, 2]}


def test_deactivate_and_reactivate_keep_the_row_and_history(make_household, cast):
    person = Person.objects.filter(household=make_household()).first()
    records.deactivate_person(
        person,
        by=cast["operator_desa"],
        reason_code=NonaktifReason.MENINGGAL,
        reason="Akta kematian 12/2025",
    )
    person.refresh_from_db()
    assert (person.status, person.nonaktif_reason) == (RecordStatus.NONAKTIF, "meninggal")
    with pytest.raises(records.RegistryError):
        records.deactivate_person(
            person, by=cast["operator_desa"], reason_code=NonaktifReason.MENINGGAL, reason="lagi"
        )
    records.reactivate_person(person, by=cast["operator_desa"], reason="Salah lapor")
    actions = list(
        Change.objects.filter(entity="person", entity_id=person.pk)
        .order_by("pk")
        .values_list("action", "diff")
    )
    assert actions[1] == (
        "deactivate",
        {"status": ["aktif", "nonaktif"], "nonaktif_reason": ["", "meninggal"]},
    )
    assert actions[2][0] == "reactivate"
    assert Person.objects.filter(pk=person.pk, status="aktif").exists()


def test_move_person_closes_and_opens_memberships(make_household, cast):
    a = make_household(2)
    b = make_household(1)
    head = Person.objects.get(household=a, relation_kk=1)
    target = Family.objects.get(household=b)
    records.move_person_to_family(
        head, target, by=cast["operator_desa"], relation_kk=2, reason="Menikah"
    )
    rows = list(FamilyMembership.objects.filter(person=head).order_by("pk"))
    assert rows[0].valid_to is not None and rows[1].valid_to is None
    assert rows[1].family == target and rows[1].relation_kk == 2
    head.refresh_from_db()
    assert head.household == b
    assert Family.objects.get(household=a).head is None


def test_record_creates_is_one_insert(make_household, cast):
    persons = list(Person.objects.filter(household=make_household(6)))
    cs = records.open_changeset(by=None, reason="impor", source=ChangeSet.Source.IMPORT)
    with CaptureQueriesContext(connection) as ctx:
        records.record_creates(cs, "person", persons)
    assert len([q for q in ctx.captured_queries if "INSERT" in q["sql"]]) == 1


def test_there_is_no_delete_path():
    assert not [name for name in dir(records) if "delete" in name.lower()]
    from django.contrib import admin

    for model in (Household, Family, Person, Change, ChangeSet):
        assert not admin.site._registry[model].has_delete_permission(None)  # type: ignore[arg-type]


def test_reference_data_is_seeded():
    from terpadu.registry.models import PPKSType, Program, PSKSType

    assert PPKSType.objects.count() == 26
    assert PSKSType.objects.count() == 12
    assert PPKSType.objects.get(code="PPKS-24").abbrev == "FM/KFM"
    assert {"PKH", "BPNT", "PBI-JK", "BLT-DD"} <= set(
        Program.objects.values_list("code", flat=True)
    )


def test_validate_household_bundle_finds_what_create_household_refuses(cast, regions):
    """The dry run shares create_household's rules: same issues, nothing written."""
    good = member("Ani", relation=1)
    bad = dict(member("Budi"), nik="123")
    fams = [family(good, bad), {"no_kk": "99", "members": []}]
    before = Household.objects.count()
    issues = records.validate_household_bundle(regions["1371011001"], fams, {"floor_area": "x"})
    with pytest.raises(records.RegistryError) as exc:
        records.create_household(
            by=cast["operator_desa"],
            region=regions["1371011001"],
            families=fams,
            household_fields={"floor_area": "x"},
            reason="uji",
        )
    assert {(i.path, i.code) for i in issues} == {(i.path, i.code) for i in exc.value.issues}
    paths = {i.path for i in issues}
    assert {"families[0].members[1].nik", "families[1].no_kk", "household.floor_area"} <= paths
    assert Household.objects.count() == before


def test_validate_household_bundle_checks_region_as_data(regions):
    issues = records.validate_household_bundle(
        regions["137101"], [family(member("Ani", relation=1))]
    )
    assert [(i.path, i.code) for i in issues] == [("region", "region_not_desa")]
    assert (
        records.validate_household_bundle(
            regions["1371011001"], [family(member("Ani", relation=1))]
        )
        == []
    )
