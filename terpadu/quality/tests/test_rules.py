"""Eligibility rules: each seeded rule with a true and a false case, same-KK propagation,
decisions remembered across re-evaluation, and no automatic change to the registry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from terpadu.proposals.creation import ProposalError
from terpadu.quality import decisions, reflists, rules
from terpadu.quality.catalogue import SEED_RULES
from terpadu.quality.models import EligibilityRule, ExclusionFlag, FlagStatus, QualityDecision
from terpadu.quality.tests.conftest import csv_upload, member, persons, xlsx_upload
from terpadu.registry.models import Change, Person

pytestmark = pytest.mark.django_db

# rule code -> (list kind, value that meets it, value that does not)
REFERENCE_CASES: dict[str, tuple[str, Any, Any]] = {
    code: (params["list_kind"], None, None)
    for code, _n, _e, _l, kind, params, _r, _h in SEED_RULES
    if kind == "reference"
}
REFERENCE_CASES["upah_di_atas_ump"] = ("upah", 4_500_000, 2_000_000)
REFERENCE_CASES["nilai_properti"] = ("njop", 1_500_000_000, 400_000_000)


def load(user: Any, kind: str, rows: list[tuple[str, Any]]) -> Any:
    return reflists.upload(
        by=user,
        kind=kind,
        name=f"Daftar {kind}",
        source="Instansi uji",
        valid_as_of=dt.date(2026, 10, 1),
        file=csv_upload([["NIK", "nilai"], *[[n, "" if v is None else v] for n, v in rows]]),
    )


def flagged(code: str) -> set[int]:
    return set(
        ExclusionFlag.objects.filter(code=code, status=FlagStatus.OPEN).values_list(
            "person_id", flat=True
        )
    )


def test_every_seeded_rule_is_covered():
    assert {c for c, *_ in SEED_RULES} == set(REFERENCE_CASES) | {"asn_tni_polri_kk", "pln_900va"}
    assert EligibilityRule.objects.count() == len(SEED_RULES)


@pytest.mark.parametrize("code", sorted(REFERENCE_CASES))
def test_reference_rule_true_and_false(code, household, cast):
    kind, hit_value, miss_value = REFERENCE_CASES[code]
    (hit,) = persons(household(member("Kena", 1)))
    (miss,) = persons(household(member("Lolos", 1)))
    rows = [(hit.nik, hit_value)]
    if miss_value is not None:  # listed, but under the threshold
        rows.append((miss.nik, miss_value))
    load(cast["admin_provinsi"], kind, rows)
    rules.evaluate("1371")
    assert hit.pk in flagged(code)
    assert miss.pk not in flagged(code)
    flag = ExclusionFlag.objects.get(code=code, person=hit)
    assert flag.evidence["list_kind"] == kind and flag.evidence["list"] == f"Daftar {kind}"


def test_same_kk_member_propagates(household, cast):
    asn, spouse, child = persons(household(member("ASN", 1), member("Istri", 2), member("Anak")))
    (other,) = persons(household(member("Tetangga", 1)))
    load(cast["admin_provinsi"], "asn_tni_polri", [(asn.nik, None)])
    rules.evaluate("")
    assert flagged("asn_tni_polri") == {asn.pk}
    assert flagged("asn_tni_polri_kk") == {spouse.pk, child.pk}
    assert other.pk not in flagged("asn_tni_polri_kk")
    flag = ExclusionFlag.objects.get(code="asn_tni_polri_kk", person=spouse)
    assert flag.evidence["source_person_id"] == asn.pk


def test_pln_900va_true_and_false(household):
    (hit,) = persons(household(member("Kena", 1), power_capacity=2, lighting=1))
    (miss,) = persons(household(member("Lolos", 1), power_capacity=1, lighting=1))
    rules.evaluate("1371")
    assert flagged("pln_900va") == {hit.pk}
    flag = ExclusionFlag.objects.get(code="pln_900va")
    assert flag.evidence == {"table": "household", "field": "power_capacity", "value": 2}
    assert miss.pk not in flagged("pln_900va")


def test_lists_apply_only_inside_the_uploader_scope(household, cast):
    (p,) = persons(household(member("Solok", 1), desa="1372011001"))
    load(cast["admin_kabkota"], "kematian", [(p.nik, None)])  # a Kota Padang list
    rules.evaluate("")
    assert not flagged("meninggal")


def test_dismissal_is_remembered_and_evaluation_changes_no_registry_row(household, cast):
    (p,) = persons(household(member("Guru", 1)))
    load(cast["admin_kabkota"], "guru_sertifikasi", [(p.nik, None)])
    changes_before = Change.objects.count()
    snapshot = Person.objects.values().get(pk=p.pk)
    rules.evaluate("1371")
    flag = ExclusionFlag.objects.get(code="guru_sertifikasi")
    decisions.dismiss_flag(by=cast["verifikator_kabkota"], flag=flag, reason="Honorer, bukan PNS")
    # A second upload of the same fact, then re-evaluation: still dismissed, no new flag.
    load(cast["admin_kabkota"], "guru_sertifikasi", [(p.nik, None)])
    counts = rules.evaluate("1371")
    flag.refresh_from_db()
    assert flag.status == FlagStatus.DISMISSED and counts.new == 0
    assert ExclusionFlag.objects.filter(code="guru_sertifikasi").count() == 1
    assert QualityDecision.objects.get(subject="flag", subject_id=flag.pk).reason == (
        "Honorer, bukan PNS"
    )
    # Flags propose, humans decide: the registry is untouched.
    assert Change.objects.count() == changes_before
    assert Person.objects.values().get(pk=p.pk) == snapshot


def test_flags_lapse_when_the_list_is_withdrawn_and_return(household, cast):
    (p,) = persons(household(member("Pensiun", 1)))
    reflist = load(cast["admin_kabkota"], "pensiunan", [(p.nik, None)])
    rules.evaluate("1371")
    reflists.set_active(by=cast["admin_kabkota"], reflist=reflist, active=False)
    assert rules.evaluate("1371").obsolete == 1
    assert ExclusionFlag.objects.get().status == FlagStatus.OBSOLETE
    reflists.set_active(by=cast["admin_kabkota"], reflist=reflist, active=True)
    assert rules.evaluate("1371").reopened == 1


def test_new_rule_version_flags_again(household, cast):
    (p,) = persons(household(member("Usaha", 1)))
    load(cast["admin_kabkota"], "pemilik_usaha", [(p.nik, None)])
    rules.evaluate("1371")
    decisions.dismiss_flag(
        by=cast["verifikator_kabkota"], flag=ExclusionFlag.objects.get(), reason="Usaha tutup"
    )
    old = EligibilityRule.objects.get(code="pemilik_usaha")
    EligibilityRule.objects.filter(pk=old.pk).update(effective_to=dt.date(2025, 12, 31))
    old.pk, old.version, old.effective_from, old.effective_to = None, 2, dt.date(2026, 1, 1), None
    old.save()
    rules.evaluate("1371")
    assert flagged("pemilik_usaha") == {p.pk}
    assert ExclusionFlag.objects.get(status=FlagStatus.OPEN).version == 2


def test_flag_becomes_a_proposal(household, cast):
    (p,) = persons(household(member("Menolak", 1)))
    load(cast["admin_kabkota"], "menolak", [(p.nik, None)])
    rules.evaluate("1371")
    flag = ExclusionFlag.objects.get()
    proposal = decisions.propose_from_flag(
        by=cast["verifikator_kabkota"], flag=flag, reason="Surat pernyataan menolak ada"
    )
    flag.refresh_from_db()
    assert flag.status == FlagStatus.PROPOSED and flag.proposal == proposal
    assert proposal.reason_code == "menolak" and proposal.person_id == p.pk
    p.refresh_from_db()
    assert p.status == "aktif"  # only proposed
    rules.evaluate("1371")
    flag.refresh_from_db()
    assert flag.status == FlagStatus.PROPOSED


def test_crossmatch_hook_reads_open_flags(household, cast):
    from terpadu.editions import crossmatch

    (p,) = persons(household(member("ASN", 1)))
    load(cast["admin_kabkota"], "asn_tni_polri", [(p.nik, None)])
    rules.evaluate("1371")
    assert crossmatch.exclusion_flags([p.nik]) == {p.nik: [("asn_tni_polri", "KPM ASN/TNI/Polri")]}


def test_list_read_like_an_import(household):
    """Lists go through imports.reading: a Windows-1252 csv with semicolons keeps its
    accents, an Excel number in the value column is a value, an unknown format is refused."""
    (p,) = persons(household(member("Kadés", 1)))
    cp1252 = f"NIK;upah;keterangan\r\n{p.nik};4.500.000;Pensiunan kadés\r\n".encode("cp1252")
    assert reflists.parse("daftar.csv", cp1252) == [(p.nik, Decimal("4500000"), "Pensiunan kadés")]
    book = xlsx_upload([["NIK", "gaji"], [p.nik, 3250000.0]]).read()
    assert reflists.parse("daftar.xlsx", book) == [(p.nik, Decimal("3250000"), "")]
    with pytest.raises(reflists.ReferenceListError) as refused:
        reflists.parse("daftar.pdf", b"%PDF")
    (issue,) = refused.value.issues
    assert issue.code == "format" and ".csv" in issue.message_id and ".csv" in issue.message_en


def test_crossmatch_hook_reads_active_flags_once_per_rule(household, cast):
    """editions.crossmatch.exclusion_flags on real flags: one entry per rule even when two
    lists give the same person two flags of it, and nothing once the flags are dismissed."""
    from terpadu.editions.crossmatch import exclusion_flags

    (p,) = persons(household(member("Buruh", 1)))
    load(cast["admin_provinsi"], "upah", [(p.nik, 4_500_000)])
    load(cast["admin_kabkota"], "upah", [(p.nik, 5_000_000)])
    rules.evaluate("1371")
    flags = list(ExclusionFlag.objects.filter(person=p, status=FlagStatus.OPEN))
    assert len(flags) == 2 and {f.code for f in flags} == {"upah_di_atas_ump"}
    assert exclusion_flags([p.nik]) == {p.nik: [("upah_di_atas_ump", flags[0].label)]}
    for flag in flags:
        decisions.dismiss_flag(by=cast["verifikator_kabkota"], flag=flag, reason="Sudah PHK")
    assert exclusion_flags([p.nik]) == {}


def test_a_decision_taken_on_a_stale_copy_of_a_flag_is_refused(household, cast):
    """Two reviewers open the same flag; the second decision finds it decided (the row is
    locked and read again inside the decision's transaction)."""
    (p,) = persons(household(member("Guru Ganda", 1)))
    load(cast["admin_kabkota"], "guru_sertifikasi", [(p.nik, None)])
    rules.evaluate("1371")
    first = ExclusionFlag.objects.get(code="guru_sertifikasi")
    second = ExclusionFlag.objects.get(pk=first.pk)  # the other reviewer's page
    decisions.dismiss_flag(by=cast["verifikator_kabkota"], flag=first, reason="Honorer")
    with pytest.raises(ProposalError):
        decisions.propose_from_flag(by=cast["verifikator_kabkota"], flag=second, reason="Lain")
    with pytest.raises(ProposalError):
        decisions.dismiss_flag(by=cast["verifikator_kabkota"], flag=second, reason="Lagi")
    assert second.status == FlagStatus.DISMISSED
    assert QualityDecision.objects.filter(subject="flag", subject_id=first.pk).count() == 1
