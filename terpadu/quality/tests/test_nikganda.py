"""NIK ganda detection: every kind, inactive persons excluded, scope, worklist memory."""

from __future__ import annotations

import pytest

from terpadu.quality import nikganda
from terpadu.quality.models import DuplicateKind, GroupResolution, NikDuplicateGroup, WorkStatus
from terpadu.quality.tests.conftest import copy_nik, enrol, member, persons, second_kk
from terpadu.registry.models import Person, RecordStatus

pytestmark = pytest.mark.django_db
K = DuplicateKind


def kinds(scope: str = "") -> dict[str, set[frozenset[int]]]:
    out: dict[str, set[frozenset[int]]] = {}
    rows = nikganda.detect(scope)
    groups: dict[tuple[str, str], set[int]] = {}
    for r in rows:
        groups.setdefault((r.kind, r.nik if r.kind != K.DUA_KK else str(r.person_id)), set()).add(
            r.person_id
        )
    for (kind, _key), ids in groups.items():
        out.setdefault(kind, set()).add(frozenset(ids))
    return out


def test_same_nik_within_one_kk(household):
    a, b = persons(household(member("A", 1), member("B")))
    copy_nik(a, b)
    assert kinds() == {K.DALAM_KK: {frozenset({a.pk, b.pk})}}


def test_same_nik_across_families_of_one_desa(household):
    (a,) = persons(household(member("A", 1)))
    (b,) = persons(household(member("B", 1)))
    copy_nik(a, b)
    assert kinds() == {K.ANTAR_KELUARGA: {frozenset({a.pk, b.pk})}}


def test_same_nik_across_regions(household):
    (a,) = persons(household(member("A", 1)))
    (b,) = persons(household(member("B", 1), desa="1372011001"))
    copy_nik(a, b)
    found = nikganda.refresh("")
    assert found.found == {K.ANTAR_WILAYAH: 2}  # one worklist row per kab/kota
    regions = set(NikDuplicateGroup.objects.values_list("region_code", flat=True))
    assert regions == {"1371", "1372"}
    for group in NikDuplicateGroup.objects.all():
        assert group.members.count() == 2


def test_same_nik_across_programmes(household):
    (a,) = persons(household(member("A", 1)))
    (b,) = persons(household(member("B", 1), desa="1371021001"))
    copy_nik(a, b)
    enrol(a, "PKH")
    enrol(b, "BPNT")
    found = kinds()
    assert found[K.ANTAR_PROGRAM] == {frozenset({a.pk, b.pk})}
    assert found[K.ANTAR_WILAYAH] == {frozenset({a.pk, b.pk})}


def test_one_person_in_two_kks(household):
    (a,) = persons(household(member("A", 1)))
    (b,) = persons(household(member("B", 1)))
    second_kk(a, b.family_id)
    assert kinds() == {K.DUA_KK: {frozenset({a.pk})}}
    nikganda.refresh("1371")
    group = NikDuplicateGroup.objects.get(kind=K.DUA_KK)
    assert {m.family_id for m in group.members.all()} == {a.family_id, b.family_id}


def test_inactive_persons_are_not_duplicates(household):
    a, b = persons(household(member("A", 1), member("B")))
    copy_nik(a, b)
    Person.objects.filter(pk=b.pk).update(status=RecordStatus.NONAKTIF)
    assert kinds() == {}


def test_scope_limits_what_is_seen(household):
    (a,) = persons(household(member("A", 1), desa="1372011001"))
    (b,) = persons(household(member("B", 1), desa="1372011001"))
    copy_nik(a, b)
    assert kinds("1371") == {}
    assert kinds("1372") == {K.ANTAR_KELUARGA: {frozenset({a.pk, b.pk})}}
    nikganda.refresh("1371")
    assert not NikDuplicateGroup.objects.exists()


def test_refresh_keeps_decisions_and_closes_vanished_groups(household, cast):
    from terpadu.quality import decisions

    (a,) = persons(household(member("A", 1)))
    (b,) = persons(household(member("B", 1)))
    copy_nik(a, b)
    nikganda.refresh("1371")
    group = NikDuplicateGroup.objects.get()
    decisions.dismiss_group(by=cast["verifikator_kabkota"], group=group, reason="Kembar, dicek")
    again = nikganda.refresh("1371")
    group.refresh_from_db()
    assert (group.status, group.resolution) == (WorkStatus.RESOLVED, GroupResolution.NOT_DUPLICATE)
    assert again.created == again.reopened == 0
    # A third record with the same NIK reopens the decision.
    (c,) = persons(household(member("C", 1)))
    copy_nik(a, c)
    assert nikganda.refresh("1371").reopened == 1
    group.refresh_from_db()
    assert group.status == WorkStatus.OPEN and group.member_count == 3
    # The duplicate disappears (e.g. after a correction): the group closes by itself.
    Person.objects.filter(pk__in=[b.pk, c.pk]).update(nik=None)
    assert nikganda.refresh("1371").gone == 1
    group.refresh_from_db()
    assert group.resolution == GroupResolution.GONE


def test_a_decided_group_refuses_a_second_decision_from_a_stale_page(household, cast):
    from terpadu.proposals.creation import ProposalError
    from terpadu.quality import decisions

    (a,) = persons(household(member("A", 1)))
    (b,) = persons(household(member("B", 1)))
    copy_nik(a, b)
    nikganda.refresh("1371")
    first = NikDuplicateGroup.objects.get()
    second = NikDuplicateGroup.objects.get(pk=first.pk)  # the other reviewer's page
    decisions.dismiss_group(by=cast["verifikator_kabkota"], group=first, reason="Kembar")
    with pytest.raises(ProposalError):
        decisions.propose_group_member(
            by=cast["verifikator_kabkota"], group=second, person=a, reason="Ganda"
        )
    with pytest.raises(ProposalError):
        decisions.dismiss_group(by=cast["verifikator_kabkota"], group=second, reason="Lagi")
    assert not Person.objects.filter(pk=a.pk, status=RecordStatus.NONAKTIF).exists()
    from terpadu.proposals.models import Proposal

    assert not Proposal.objects.filter(person=a).exists()
