"""Pusat's integrity test: each rule returns its items with the right reason code."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from terpadu.lib.nik import compose_nik, compose_no_kk
from terpadu.proposals import batches, integrity
from terpadu.proposals.integrity import run_integrity
from terpadu.proposals.models import Batch, BatchEvent, BatchStatus, Kind, Proposal, Status
from terpadu.registry.models import Padan, Person, RecordStatus

pytestmark = pytest.mark.django_db

_serial = itertools.count(7001)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def person(name: str = "Rina", relation: int = 1, nik: str | None = None, **extra: Any) -> dict:
    born = dt.date(1990, 1, 2)
    values = {
        "name": name,
        "sex": 2,
        "birth_date": born.isoformat(),
        "relation_kk": relation,
        "nik": nik or compose_nik("137101", born, 2, next(_serial)),
    }
    values.update(extra)
    return {k: v for k, v in values.items() if v is not None}


def household(*families: list[dict]) -> dict:
    return {
        "household_fields": {"address": "Jl. Baru"},
        "families": [
            {"no_kk": compose_no_kk("137101", dt.date(2016, 1, 1), next(_serial)), "members": m}
            for m in families
        ],
    }


@pytest.fixture
def received(cast, regions):  # type: ignore[no-untyped-def]
    """An empty batch of Kota Padang received at pusat by cast['pusat']."""
    batch = Batch.objects.create(
        region=regions["1371"],
        region_code="1371",
        period="2026-11",
        status=BatchStatus.DIPROSES_PUSAT,
        finalised_by=cast["admin_kabkota"],
    )
    BatchEvent.objects.create(batch=batch, action="receive", actor=cast["pusat"])
    return batch


@pytest.fixture
def item(make_proposal, received):  # type: ignore[no-untyped-def]
    def make(kind: str = Kind.BARU, **fields: Any) -> Proposal:
        return make_proposal(kind, Status.PROSES_PUSAT, batch=received, period="2026-11", **fields)

    return make


def test_passing_items_are_accepted_and_batch_done(cast, received, item, registry_household):
    good = item(payload=household([person("Ani"), person("Budi", relation=3)]))
    target = registry_household.members.first()
    fix = item(
        Kind.PERBAIKAN,
        target_type="person",
        person=target,
        payload={"changes": {"name": "Budi C."}},
    )
    result = run_integrity(received)
    assert (result.accepted, result.returned) == (2, 0)
    assert set(Proposal.objects.values_list("status", flat=True)) == {Status.DITERIMA_PUSAT}
    received.refresh_from_db()
    assert received.status == BatchStatus.SELESAI and received.processed_at
    assert good.events.last().actor == cast["pusat"]
    assert fix.events.last().action == "accept"


def _codes(pk: int) -> set[str]:
    p = Proposal.objects.get(pk=pk)
    assert p.status == Status.DIKEMBALIKAN_KE_KABKOTA
    return {r["code"] for r in p.return_reasons}


def test_nik_already_active_in_registry(received, item, registry_household):
    existing = registry_household.members.first().nik
    p = item(payload=household([person(nik=existing)]))
    run_integrity(received)
    assert _codes(p.pk) == {"nik_terdaftar"}
    reason = Proposal.objects.get(pk=p.pk).return_reasons[0]
    assert existing in reason["message_id"] and reason["message_en"]


def test_nonaktif_registry_person_does_not_block_a_new_nik(received, item, registry_household):
    old = registry_household.members.first()
    Person.objects.filter(pk=old.pk).update(status=RecordStatus.NONAKTIF)
    p = item(payload=household([person(nik=old.nik)]))
    assert run_integrity(received).accepted == 1
    assert Proposal.objects.get(pk=p.pk).status == Status.DITERIMA_PUSAT


def test_same_nik_twice_in_a_family(received, item):
    nik = compose_nik("137101", dt.date(1990, 1, 2), 2, next(_serial))
    p = item(payload=household([person(nik=nik), person("Kembar", relation=3, nik=nik)]))
    run_integrity(received)
    assert _codes(p.pk) == {"nik_ganda_paket"}


def test_member_in_two_families_of_the_batch(received, item):
    nik = compose_nik("137101", dt.date(1990, 1, 2), 2, next(_serial))
    a = item(payload=household([person(), person("Sama", relation=3, nik=nik)]))
    b = item(payload=household([person(), person("Sama", relation=3, nik=nik)]))
    run_integrity(received)
    assert _codes(a.pk) == _codes(b.pk) == {"anggota_dua_keluarga"}


def test_invalid_nik_syntax(received, item):
    p = item(payload=household([person(nik="1234567890")]))
    run_integrity(received)
    assert "nik_tidak_valid" in _codes(p.pk)


@pytest.mark.parametrize("relations", [[3, 3], [1, 1]])
def test_family_needs_exactly_one_head(received, item, relations):
    p = item(payload=household([person(relation=r) for r in relations]))
    run_integrity(received)
    assert _codes(p.pk) == {"kepala_keluarga"}


def test_incomplete_attributes(received, item):
    p = item(payload=household([person(), person("Tanpa Lahir", relation=3, birth_date=None)]))
    p2 = item(payload={"families": []})
    run_integrity(received)
    assert _codes(p.pk) == {"data_tidak_lengkap"}
    assert "birth_date" in Proposal.objects.get(pk=p.pk).return_reasons[0]["message_id"]
    assert _codes(p2.pk) == {"data_tidak_lengkap"}


def test_tidak_padan_target_is_returned_unless_the_nik_is_corrected(
    received, item, registry_household
):
    target = registry_household.members.first()
    Person.objects.filter(pk=target.pk).update(padan=Padan.TIDAK_PADAN)
    plain = item(Kind.PERBAIKAN, target_type="person", person=target, payload={"changes": {}})
    nik_fix = item(
        Kind.PERBAIKAN,
        target_type="person",
        person=target,
        payload={"changes": {"nik": compose_nik("137101", dt.date(1980, 5, 17), 1, 9876)}},
    )
    run_integrity(received)
    assert _codes(plain.pk) == {"tidak_padan"}
    assert Proposal.objects.get(pk=nik_fix.pk).status == Status.DITERIMA_PUSAT


def test_target_must_still_exist_and_be_active(received, item, registry_household):
    gone, other = registry_household.members.all()
    Person.objects.filter(pk=gone.pk).update(status=RecordStatus.NONAKTIF)
    fix = item(Kind.PERBAIKAN, target_type="person", person=gone, payload={"changes": {}})
    deact = item(Kind.NONAKTIF, target_type="person", person=gone, reason_code="meninggal")
    nothing = item(Kind.PERBAIKAN, payload={"changes": {"name": "X"}})
    ok = item(Kind.NONAKTIF, target_type="person", person=other, reason_code="pindah")
    run_integrity(received)
    assert _codes(fix.pk) == _codes(deact.pk) == {"sasaran_tidak_aktif"}
    assert _codes(nothing.pk) == {"sasaran_tidak_ada"}
    assert Proposal.objects.get(pk=ok.pk).status == Status.DITERIMA_PUSAT


def test_rerun_is_idempotent(received, item):
    item(payload=household([person()]))
    bad = item(payload=household([person(relation=3)]))
    first = run_integrity(received)
    assert (first.accepted, first.returned) == (1, 1)
    events = BatchEvent.objects.count()
    reasons = Proposal.objects.get(pk=bad.pk).return_reasons
    second = run_integrity(received)
    assert (second.accepted, second.returned) == (0, 0)
    assert BatchEvent.objects.count() == events
    assert Proposal.objects.get(pk=bad.pk).return_reasons == reasons


def test_failure_midway_leaves_no_partial_state(received, item, monkeypatch):
    good = item(payload=household([person()]))
    bad = item(payload=household([person(relation=3)]))
    real = integrity.bulk_transition

    def broken(qs, action, **kw):  # type: ignore[no-untyped-def]
        if action == "accept":
            raise RuntimeError("database went away")
        return real(qs, action, **kw)

    monkeypatch.setattr(integrity, "bulk_transition", broken)
    with pytest.raises(RuntimeError):
        run_integrity(received)
    assert set(Proposal.objects.values_list("status", flat=True)) == {Status.PROSES_PUSAT}
    assert Proposal.objects.get(pk=bad.pk).return_reasons == []
    assert good.events.count() == 0
    received.refresh_from_db()
    assert received.status == BatchStatus.DIPROSES_PUSAT


def test_integrity_costs_the_same_for_any_size(cast, regions, make_proposal, registry_household):
    target = registry_household.members.first()

    def run(n: int) -> int:
        batch = Batch.objects.create(
            region=regions["1371"],
            region_code="1371",
            period="2026-11",
            sequence=n,
            status=BatchStatus.DIPROSES_PUSAT,
            finalised_by=cast["admin_kabkota"],
        )
        for i in range(n):
            extra: dict[str, Any] = (
                {"payload": household([person(relation=3)])}
                if i % 2
                else {"target_type": "person", "person": target, "payload": {"changes": {}}}
            )
            kind = Kind.BARU if i % 2 else Kind.PERBAIKAN
            make_proposal(kind, Status.PROSES_PUSAT, batch=batch, **extra)
            make_proposal(
                Kind.BARU,
                Status.PROSES_PUSAT,
                batch=batch,
                payload=household([person(), person(relation=3)]),
            )
        with CaptureQueriesContext(connection) as ctx:
            result = run_integrity(batch, by=cast["pusat"])
        assert result.accepted + result.returned == 2 * n
        return len(ctx.captured_queries)

    assert run(4) == run(40)


def test_receive_runs_the_integrity_task(
    cast, regions, make_proposal, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    make_proposal(Kind.BARU, Status.FINAL_KABKOTA, payload=household([person()]))
    make_proposal(Kind.BARU, Status.FINAL_KABKOTA, payload=household([person(relation=3)]))
    batch = batches.finalise_batch(
        by=cast["admin_kabkota"], kabkota_region=regions["1371"], period="2026-11"
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    batches.upload_signed_letter(
        by=cast["admin_kabkota"],
        batch=batch,
        file=SimpleUploadedFile("t.pdf", b"%PDF-1.4 x"),
        letter_number="1",
        signatory="A",
    )
    batches.send_to_province(by=cast["admin_kabkota"], batch=batch)
    batches.forward_to_pusat(by=cast["admin_provinsi"], batch=batch)
    with django_capture_on_commit_callbacks(execute=True):
        batches.receive_at_pusat(by=cast["pusat"], batch=batch)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.SELESAI
    statuses = sorted(batch.proposals.values_list("status", flat=True))
    assert statuses == [Status.DIKEMBALIKAN_KE_KABKOTA, Status.DITERIMA_PUSAT]
    assert cast["verifikator_kabkota"].notifications.filter(link__contains="periksa").exists()
