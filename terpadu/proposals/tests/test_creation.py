"""creation.py: every kind of proposal, its validation (no partial writes), scope, the
correction diff against a drifting registry, the revision loop and move consent."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from terpadu.lib.nik import compose_nik, compose_no_kk
from terpadu.proposals import creation
from terpadu.proposals.creation import ProposalError
from terpadu.proposals.models import (
    Comment,
    Consent,
    Evidence,
    Kind,
    Proposal,
    ProposalEvent,
    Status,
    Target,
)
from terpadu.proposals.workflow import TransitionError, transition
from terpadu.registry import records
from terpadu.registry.models import Change, Household, Person

pytestmark = pytest.mark.django_db

_serial = itertools.count(7001)
PDF = b"%PDF-1.4\n%test\n"


def member(name: str, *, sex: int = 1, born: dt.date = dt.date(1984, 4, 2), rel: int = 3) -> dict:
    return {
        "name": name,
        "sex": sex,
        "birth_date": born,
        "relation_ruta": rel,
        "relation_kk": rel,
        "nik": compose_nik("137101", born, sex, next(_serial)),
    }


def bundle(*members: dict) -> list[dict[str, Any]]:
    return [
        {
            "no_kk": compose_no_kk("137101", dt.date(2016, 1, 5), next(_serial)),
            "members": list(members),
        }
    ]


def pdf(name: str = "akta.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def counts() -> tuple[int, int, int, int]:
    return (
        Proposal.objects.count(),
        ProposalEvent.objects.count(),
        Evidence.objects.count(),
        Household.objects.count(),
    )


# --- usulan baru ---------------------------------------------------------------------------


def test_new_household_is_a_draft_with_one_create_event_and_no_registry_write(cast, regions):
    before_households = Household.objects.count()
    p = creation.propose_new_household(
        by=cast["operator_desa"],
        region=regions["1371011001"],
        household_fields={"address": "Jl. Baru 1", "rt": "01"},
        families=bundle(member("Ani", sex=2, rel=1), member("Dodi", born=dt.date(2010, 1, 1))),
        active_registration=True,
        reason="Temuan musdes",
    )
    assert (p.kind, p.status, p.region_code) == (Kind.BARU, Status.DRAFT, "1371011001")
    assert p.active_registration and p.target_type == Target.HOUSEHOLD
    assert p.payload["household_fields"] == {"address": "Jl. Baru 1", "rt": "01"}
    members = p.payload["families"][0]["members"]
    assert [m["name"] for m in members] == ["Ani", "Dodi"]
    assert members[1]["birth_date"] == "2010-01-01"  # JSON-safe
    assert "Ani" in p.summary and "2 ART" in p.summary
    events = list(p.events.values_list("action", "from_status", "to_status", "actor_role"))
    assert events == [("create", "", Status.DRAFT, "operator_desa")]
    assert Household.objects.count() == before_households  # a proposal never edits the registry


def test_payload_is_accepted_by_create_household_at_determination(cast, regions):
    p = creation.propose_new_household(
        by=cast["operator_desa"],
        region=regions["1371011001"],
        household_fields={"address": "Jl. Baru 2"},
        families=bundle(member("Ani", sex=2, rel=1)),
        reason="Usul warga",
    )
    hh = records.create_household(
        by=cast["admin_kabkota"],
        region=p.region,
        household_fields=p.payload["household_fields"],
        families=p.payload["families"],
        reason=f"Usulan #{p.pk}",
    )
    assert hh.members.get().name == "Ani"


def test_new_household_errors_list_every_issue_and_write_nothing(cast, regions):
    bad = member("Ani", sex=2, rel=1)
    bad["nik"] = "12345"
    twin = member("Budi", rel=1)
    dup = dict(twin, name="Budi 2")
    before = counts()
    with pytest.raises(ProposalError) as exc:
        creation.propose_new_household(
            by=cast["operator_desa"],
            region=regions["1371011001"],
            household_fields={},
            families=[{"no_kk": "99", "members": [bad, twin, dup]}],
            reason="x",
        )
    codes = {(i.path, i.code) for i in exc.value.errors}
    assert ("families[0].members[2].nik", "nik_repeated") in codes
    assert any(p == "families[0].members[0].nik" for p, _ in codes)
    assert any(p == "families[0].no_kk" for p, _ in codes)
    assert ("families[0].members", "many_heads") in codes
    assert counts() == before


def test_new_household_warning_is_kept_in_payload(cast, regions):
    p = creation.propose_new_household(
        by=cast["operator_desa"],
        region=regions["1371011001"],
        household_fields={"address": "Jl. 3"},
        families=bundle(member("Tanpa Kepala", rel=3)),
        reason="x",
    )
    assert [w["code"] for w in p.payload["warnings"]] == ["no_head"]


def test_reason_is_required(cast, regions):
    with pytest.raises(ProposalError) as exc:
        creation.propose_new_household(
            by=cast["operator_desa"],
            region=regions["1371011001"],
            household_fields={},
            families=bundle(member("A", rel=1)),
            reason="  ",
        )
    assert exc.value.errors[0].code == "reason_required"


@pytest.mark.parametrize("who", ["outsider_desa", "operator_provinsi", "pusat", "enumerator"])
def test_only_proposers_covering_the_desa_may_propose(cast, regions, who):
    before = counts()
    with pytest.raises(PermissionDenied):
        creation.propose_new_household(
            by=cast[who],
            region=regions["1371011001"],
            household_fields={},
            families=bundle(member("A", rel=1)),
            reason="x",
        )
    assert counts() == before


def test_kecamatan_and_kabkota_may_propose_for_a_desa(cast, regions):
    for who in ("operator_kecamatan", "verifikator_kabkota"):
        p = creation.propose_new_household(
            by=cast[who],
            region=regions["1371011002"],
            household_fields={},
            families=bundle(member("A", rel=1)),
            reason="x",
        )
        assert p.created_by == cast[who]


# --- perbaikan -------------------------------------------------------------------------------


def test_correction_keeps_only_changed_fields_with_before_values(cast, registry_household):
    person = registry_household.members.get(relation_kk=1)
    p = creation.propose_correction(
        by=cast["operator_desa"],
        target=person,
        changes={"name": "Budi Chaniago", "birth_place": "Padang", "marital_status": "2"},
        reason="Sesuai KTP",
    )
    assert p.payload["changes"] == {"birth_place": "Padang", "marital_status": 2}
    assert p.payload["before"] == {"birth_place": "", "marital_status": None}
    assert (p.target_type, p.person, p.household_id) == ("person", person, registry_household.pk)
    person.refresh_from_db()
    assert person.birth_place == ""  # registry untouched


def test_correction_refuses_a_no_op_and_invalid_values(cast, registry_household):
    person = registry_household.members.get(relation_kk=1)
    before = counts()
    with pytest.raises(ProposalError) as exc:
        creation.propose_correction(
            by=cast["operator_desa"], target=person, changes={"name": person.name}, reason="x"
        )
    assert exc.value.errors[0].code == "no_change"
    with pytest.raises(ProposalError) as exc:
        creation.propose_correction(
            by=cast["operator_desa"], target=person, changes={"nik": "1234"}, reason="x"
        )
    assert exc.value.errors[0].path == "nik"
    with pytest.raises(ProposalError):
        creation.propose_correction(
            by=cast["operator_desa"], target=person, changes={"status": "nonaktif"}, reason="x"
        )
    assert counts() == before


def test_correction_of_no_kk_on_family(cast, registry_household):
    family = registry_household.families.get()
    new_kk = compose_no_kk("137101", dt.date(2020, 2, 2), next(_serial))
    p = creation.propose_correction(
        by=cast["operator_desa"], target=family, changes={"no_kk": new_kk}, reason="KK baru"
    )
    assert p.target_type == "family" and p.payload["changes"] == {"no_kk": new_kk}


def test_outsider_cannot_propose_a_correction(cast, registry_household):
    person = registry_household.members.first()
    with pytest.raises(PermissionDenied):
        creation.propose_correction(
            by=cast["outsider_desa"], target=person, changes={"name": "X"}, reason="x"
        )


def test_correction_diff_flags_registry_drift(cast, registry_household):
    person = registry_household.members.get(relation_kk=1)
    p = creation.propose_correction(
        by=cast["operator_desa"],
        target=person,
        changes={"birth_place": "Padang", "relation_ruta": 1, "mother_name": "Siti"},
        reason="x",
    )
    # Someone else's correction lands in the registry before ours is determined.
    records.update_person(
        person, by=cast["admin_kabkota"], changes={"birth_place": "Bukittinggi"}, reason="lain"
    )
    rows = {row.field: row for row in creation.correction_diff(p)}
    assert set(rows) == {"birth_place", "mother_name"}  # relation_ruta was already 1
    assert rows["birth_place"].current == "Bukittinggi"
    assert rows["birth_place"].before == ""
    assert rows["birth_place"].proposed == "Padang"
    assert rows["birth_place"].drifted is True
    assert rows["mother_name"].drifted is False
    assert str(rows["birth_place"].label) == "tempat lahir"


# --- nonaktif / reaktivasi --------------------------------------------------------------------


def test_deactivation_with_evidence(cast, registry_household):
    person = registry_household.members.get(relation_kk=3)
    p = creation.propose_deactivation(
        by=cast["operator_desa"],
        target=person,
        reason_code="meninggal",
        reason="Meninggal 3 Nov",
        evidence_files=[pdf()],
    )
    ev = p.evidence.get()
    assert (ev.content_type, ev.size, ev.event.action) == ("application/pdf", len(PDF), "create")
    assert p.reason_code == "meninggal" and "Meninggal" in p.summary
    person.refresh_from_db()
    assert person.status == "aktif"


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ([], "evidence_required"),
        ([SimpleUploadedFile("x.exe", b"MZ\x90\x00")], "file_type"),
        ([SimpleUploadedFile("x.pdf", b"MZ\x90\x00")], "file_type"),  # name lies
        ([SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024))], "file_too_large"),
    ],
)
def test_deactivation_evidence_rules(cast, registry_household, files, code):
    person = registry_household.members.get(relation_kk=3)
    before = counts()
    with pytest.raises(ProposalError) as exc:
        creation.propose_deactivation(
            by=cast["operator_desa"],
            target=person,
            reason_code="meninggal",
            reason="x",
            evidence_files=files,
        )
    assert code in {i.code for i in exc.value.errors}
    assert counts() == before


def test_deactivation_without_evidence_for_other_reasons_and_no_second_open_one(
    cast, registry_household
):
    person = registry_household.members.get(relation_kk=3)
    p = creation.propose_deactivation(
        by=cast["operator_desa"], target=person, reason_code="ganda", reason="Data ganda"
    )
    assert p.evidence.count() == 0
    with pytest.raises(ProposalError) as exc:
        creation.propose_deactivation(
            by=cast["operator_desa"], target=person, reason_code="ganda", reason="lagi"
        )
    assert exc.value.errors[0].code == "already_proposed"


def test_reactivation_only_for_nonaktif(cast, registry_household):
    person = registry_household.members.get(relation_kk=3)
    with pytest.raises(ProposalError):
        creation.propose_reactivation(by=cast["operator_desa"], target=person, reason="x")
    records.deactivate_person(
        person, by=cast["admin_kabkota"], reason_code="meninggal", reason="salah lapor"
    )
    p = creation.propose_reactivation(by=cast["operator_desa"], target=person, reason="Masih hidup")
    assert p.kind == Kind.REAKTIVASI and p.payload == {"previous_reason": "meninggal"}


# --- pemindahan + consent -------------------------------------------------------------------


def test_move_needs_a_different_current_desa(cast, regions, registry_household):
    for dest in (regions["1371011001"], regions["137101"]):
        with pytest.raises(ProposalError):
            creation.propose_move(
                by=cast["operator_desa"], household=registry_household, destination=dest, reason="x"
            )
    p = creation.propose_move(
        by=cast["operator_desa"],
        household=registry_household,
        destination=regions["1372011001"],
        reason="Pindah kerja",
    )
    assert (p.destination_code, p.region_code) == ("1372011001", "1371011001")


def test_move_needs_destination_consent_before_approve(cast, regions, registry_household):
    p = creation.propose_move(
        by=cast["operator_desa"],
        household=registry_household,
        destination=regions["1372011001"],
        reason="Pindah",
    )
    transition(p, "submit_direct", by=cast["operator_desa"])
    with pytest.raises(TransitionError) as exc:
        transition(p, "approve", by=cast["verifikator_kabkota"])
    assert exc.value.code == "no_consent"
    # The origin cannot consent on the destination's behalf.
    with pytest.raises(PermissionDenied):
        creation.record_consent(by=cast["operator_desa"], proposal=p, agreed=True)
    with pytest.raises(ProposalError):
        creation.record_consent(by=cast["outsider_desa"], proposal=p, agreed=False, note="")
    creation.record_consent(by=cast["outsider_desa"], proposal=p, agreed=True, note="Diterima")
    assert creation.consent_state(p).agreed
    assert p.events.filter(action="consent", actor=cast["outsider_desa"]).exists()
    assert cast["operator_desa"].notifications.filter(link=f"/usulan/{p.pk}/").exists()
    transition(p, "approve", by=cast["verifikator_kabkota"])
    assert p.status == Status.FINAL_KABKOTA


def test_consent_only_for_moves(cast, make_proposal):
    p = make_proposal(Kind.PERBAIKAN)
    with pytest.raises(ProposalError):
        creation.record_consent(by=cast["operator_desa"], proposal=p, agreed=True)
    assert not Consent.objects.exists()


# --- revision loop ----------------------------------------------------------------------------


def test_revision_loop_keeps_the_comments_thread(cast, registry_household):
    desa, verif = cast["operator_desa"], cast["verifikator_kabkota"]
    person = registry_household.members.get(relation_kk=1)
    p = creation.propose_correction(
        by=desa, target=person, changes={"birth_place": "Padng"}, reason="KTP"
    )
    transition(p, "submit_direct", by=desa)
    creation.add_comment(proposal=p, by=verif, text="Cek ejaan tempat lahir.")
    with pytest.raises(ProposalError):  # not editable while with the kab/kota
        creation.update_draft(by=desa, proposal=p, changes={"birth_place": "Padang"})
    transition(p, "return_to_desa", by=verif, note="Ejaan salah")
    assert p.status == Status.DIKEMBALIKAN_KE_DESA
    with pytest.raises(PermissionDenied):  # the kab/kota does not hold the pen now... desa does
        creation.update_draft(by=cast["outsider_desa"], proposal=p, changes={"birth_place": "X"})
    p = creation.update_draft(
        by=desa, proposal=p, changes={"birth_place": "Padang"}, note="Sudah diperbaiki"
    )
    assert p.payload["changes"] == {"birth_place": "Padang"}
    assert p.status == Status.DIKEMBALIKAN_KE_DESA  # editing never moves the status
    transition(p, "resubmit", by=desa)
    assert p.status == Status.DIPERIKSA_DINSOS
    actions = list(p.events.values_list("action", flat=True))
    assert actions == ["create", "submit_direct", "return_to_desa", "edit", "resubmit"]
    thread = list(Comment.objects.filter(proposal=p).values_list("author_role", "text"))
    assert thread == [
        ("verifikator_kabkota", "Cek ejaan tempat lahir."),
        ("operator_desa", "Sudah diperbaiki"),
    ]


def test_update_draft_revalidates_and_writes_nothing_on_error(cast, regions):
    p = creation.propose_new_household(
        by=cast["operator_desa"],
        region=regions["1371011001"],
        household_fields={"address": "Jl. 1"},
        families=bundle(member("A", rel=1)),
        reason="x",
    )
    bad = member("B", rel=1)
    bad["nik"] = "0000"
    events = ProposalEvent.objects.count()
    with pytest.raises(ProposalError):
        creation.update_draft(by=cast["operator_desa"], proposal=p, families=bundle(bad))
    p.refresh_from_db()
    assert p.payload["families"][0]["members"][0]["name"] == "A"
    assert ProposalEvent.objects.count() == events
    p = creation.update_draft(
        by=cast["operator_desa"],
        proposal=p,
        families=bundle(member("A", rel=1), member("C")),
        household_fields={"address": "Jl. 2"},
    )
    assert p.payload["household_fields"] == {"address": "Jl. 2"}
    assert "2 ART" in p.summary


def test_returned_by_pusat_is_edited_by_kabkota_not_desa(cast, make_proposal, registry_household):
    person = registry_household.members.get(relation_kk=1)
    p = make_proposal(
        Kind.PERBAIKAN,
        Status.DIKEMBALIKAN_KE_KABKOTA,
        target_type="person",
        person=person,
        household=registry_household,
        payload={"changes": {"birth_place": "A"}, "before": {"birth_place": ""}},
    )
    assert not creation.can_edit(cast["operator_desa"], p)
    with pytest.raises(PermissionDenied):
        creation.update_draft(by=cast["operator_desa"], proposal=p, changes={"birth_place": "B"})
    creation.update_draft(by=cast["admin_kabkota"], proposal=p, changes={"birth_place": "B"})
    p.refresh_from_db()
    assert p.payload["changes"] == {"birth_place": "B"}


def test_comment_needs_visibility_and_text(cast, make_proposal):
    p = make_proposal(Kind.PERBAIKAN)
    with pytest.raises(PermissionDenied):
        creation.add_comment(proposal=p, by=cast["outsider_kab"], text="hi")
    with pytest.raises(ProposalError):
        creation.add_comment(proposal=p, by=cast["operator_desa"], text="  ")
    c = creation.add_comment(proposal=p, by=cast["operator_provinsi"], text="Catatan provinsi")
    assert c.author_role == "operator_provinsi"


def test_proposals_never_write_registry_history(cast, regions, registry_household):
    changes_before = Change.objects.count()
    person = registry_household.members.get(relation_kk=3)
    creation.propose_correction(
        by=cast["operator_desa"], target=person, changes={"name": "Sari C"}, reason="x"
    )
    creation.propose_deactivation(
        by=cast["operator_desa"], target=person, reason_code="pindah", reason="x",
        evidence_files=[pdf("surat.png", b"\x89PNG\r\n\x1a\n0000")],
    )  # fmt: skip
    creation.propose_move(
        by=cast["operator_desa"],
        household=registry_household,
        destination=regions["1371011002"],
        reason="x",
    )
    assert Change.objects.count() == changes_before
    assert Person.objects.get(pk=person.pk).name == "Sari Chaniago"


def test_update_draft_checks_every_evidence_file(cast, registry_household):
    person = registry_household.members.get(relation_kk=1)
    p = creation.propose_correction(
        by=cast["operator_desa"], target=person, changes={"birth_place": "A"}, reason="x"
    )
    with pytest.raises(ProposalError) as exc:
        creation.update_draft(
            by=cast["operator_desa"],
            proposal=p,
            evidence_files=[SimpleUploadedFile("x.txt", b"hello")],
        )
    assert exc.value.errors[0].code == "file_type"
    creation.update_draft(by=cast["operator_desa"], proposal=p, evidence_files=[pdf()])
    assert p.evidence.get().event.action == "edit"
