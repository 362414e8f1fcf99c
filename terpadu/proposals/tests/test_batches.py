"""The kab/kota batch: finalise → signed letter → province → pusat, in order, by the right roles."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from terpadu.proposals import batches
from terpadu.proposals.batches import BatchError
from terpadu.proposals.models import BatchEvent, BatchStatus, Kind, Proposal, Status
from terpadu.proposals.pdf import render_html

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% signed letter\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def signed(content: bytes = PDF, name: str = "ttd.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


@pytest.fixture
def finals(make_proposal):  # type: ignore[no-untyped-def]
    """Three FINAL_KABKOTA items in Kota Padang (two kecamatan) and one in Kota Solok."""
    items = [
        make_proposal(Kind.PERBAIKAN, Status.FINAL_KABKOTA),
        make_proposal(Kind.NONAKTIF, Status.FINAL_KABKOTA),
        make_proposal(Kind.BARU, Status.FINAL_KABKOTA, desa="1371021001"),
    ]
    make_proposal(Kind.PERBAIKAN, Status.FINAL_KABKOTA, desa="1372011001")
    make_proposal(Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS)
    return items


def test_finalise_collects_final_items_and_writes_the_letter(cast, regions, finals):
    batch = batches.finalise_batch(
        by=cast["admin_kabkota"], kabkota_region=regions["1371"], period="2026-11"
    )
    assert batch.item_count == 3
    assert set(batch.proposals.values_list("pk", flat=True)) == {p.pk for p in finals}
    assert set(batch.proposals.values_list("period", flat=True)) == {"2026-11"}
    assert batch.status == BatchStatus.FINAL and batch.sequence == 1
    assert batch.letter_pdf.read(5) == b"%PDF-"
    assert BatchEvent.objects.filter(batch=batch, action="finalise").exists()


def test_letter_counts_per_kind_and_kecamatan_without_nik(cast, regions, finals):
    batch = batches.finalise_batch(
        by=cast["admin_kabkota"], kabkota_region=regions["1371"], period="2026-11"
    )
    table = batches.letter_table(batch)
    assert table.total == 3
    assert [(d, n) for d, _name, _c, n in table.kecamatan] == [("137101", 2), ("137102", 1)]
    html = render_html(
        "proposals/pdf/surat_pengesahan.html",
        {"batch": batch, "region": batch.region, "table": table, "kind_columns": Kind.choices},
    )
    assert "SURAT PENGESAHAN DATA TERPADU KESEJAHTERAAN SOSIAL" in html
    assert "Bupati/Wali Kota" in html and "Lubuk Kilangan" in html


def test_empty_batch_is_refused_and_leaves_nothing(cast, regions):
    with pytest.raises(BatchError) as exc:
        batches.finalise_batch(by=cast["admin_kabkota"], kabkota_region=regions["1371"])
    assert exc.value.code == "empty_batch"
    assert not batches.Batch.objects.exists()


def test_sequence_is_numbered_per_period(cast, regions, make_proposal):
    make_proposal(Kind.PERBAIKAN, Status.FINAL_KABKOTA)
    first = batches.finalise_batch(
        by=cast["admin_kabkota"], kabkota_region=regions["1371"], period="2026-11"
    )
    make_proposal(Kind.PERBAIKAN, Status.FINAL_KABKOTA)
    second = batches.finalise_batch(
        by=cast["admin_kabkota"], kabkota_region=regions["1371"], period="2026-11"
    )
    assert (first.sequence, second.sequence) == (1, 2)
    assert second.item_count == 1


def test_only_admin_of_the_kabkota_finalises(cast, regions, finals):
    for who in ("verifikator_kabkota", "outsider_kab", "operator_provinsi"):
        with pytest.raises(PermissionDenied):
            batches.finalise_batch(by=cast[who], kabkota_region=regions["1371"])


def _finalised(cast, regions):  # type: ignore[no-untyped-def]
    return batches.finalise_batch(
        by=cast["admin_kabkota"], kabkota_region=regions["1371"], period="2026-11"
    )


def test_send_before_signed_letter_is_refused(cast, regions, finals):
    batch = _finalised(cast, regions)
    with pytest.raises(BatchError) as exc:
        batches.send_to_province(by=cast["admin_kabkota"], batch=batch)
    assert exc.value.code == "no_signed_letter"
    assert "surat pengesahan" in exc.value.message_id
    assert Proposal.objects.filter(batch=batch, status=Status.FINAL_KABKOTA).count() == 3


def test_signed_letter_type_and_size_are_checked(cast, regions, finals):
    batch = _finalised(cast, regions)
    admin = cast["admin_kabkota"]
    with pytest.raises(BatchError) as exc:
        batches.upload_signed_letter(
            by=admin,
            batch=batch,
            file=signed(b"MZ\x90\x00", "x.pdf"),
            letter_number="1",
            signatory="A",
        )
    assert exc.value.code == "file_type"
    big = signed(b"%PDF-" + b"0" * (10 * 1024 * 1024))
    with pytest.raises(BatchError) as exc:
        batches.upload_signed_letter(
            by=admin, batch=batch, file=big, letter_number="1", signatory="A"
        )
    assert exc.value.code == "file_too_large"
    with pytest.raises(BatchError) as exc:
        batches.upload_signed_letter(
            by=admin, batch=batch, file=signed(), letter_number=" ", signatory="A"
        )
    assert exc.value.code == "letter_fields"
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FINAL and not batch.signed_letter


def test_full_lifecycle_moves_batch_and_items(cast, regions, finals, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    batch = _finalised(cast, regions)
    batches.upload_signed_letter(
        by=cast["admin_kabkota"],
        batch=batch,
        file=signed(b"\x89PNG\r\n\x1a\n....", "scan.png"),
        letter_number="400/123/Dinsos/2026",
        signatory="Wali Kota Padang",
    )
    assert batch.status == BatchStatus.DISAHKAN and batch.ratified_at
    assert batch.signed_letter.name.endswith(".png")
    assert set(batch.proposals.values_list("status", flat=True)) == {Status.DISAHKAN}

    batches.send_to_province(by=cast["admin_kabkota"], batch=batch)
    assert set(batch.proposals.values_list("status", flat=True)) == {Status.DIKIRIM_PROVINSI}
    assert cast["operator_provinsi"].notifications.count() == 1

    batches.annotate(by=cast["admin_provinsi"], batch=batch, note="Lengkap.")
    batches.forward_to_pusat(by=cast["operator_provinsi"], batch=batch)
    assert set(batch.proposals.values_list("status", flat=True)) == {Status.DIKIRIM_PUSAT}

    batches.receive_at_pusat(by=cast["pusat"], batch=batch)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DIPROSES_PUSAT and batch.received_at
    assert set(batch.proposals.values_list("status", flat=True)) == {Status.PROSES_PUSAT}
    assert list(batch.events.values_list("action", flat=True)) == [
        "finalise",
        "ratify",
        "send_to_province",
        "annotate",
        "forward",
        "receive",
    ]


def _sent(cast, regions):  # type: ignore[no-untyped-def]
    batch = _finalised(cast, regions)
    batches.upload_signed_letter(
        by=cast["admin_kabkota"], batch=batch, file=signed(), letter_number="1", signatory="A"
    )
    batches.send_to_province(by=cast["admin_kabkota"], batch=batch)
    return batch


def test_forward_by_a_province_of_another_region_is_refused(cast, regions, finals, make_user):
    batch = _sent(cast, regions)
    riau = make_user("admin_provinsi", "14")
    with pytest.raises(PermissionDenied):
        batches.forward_to_pusat(by=riau, batch=batch)
    with pytest.raises(PermissionDenied):
        batches.annotate(by=riau, batch=batch, note="x")
    with pytest.raises(PermissionDenied):
        batches.forward_to_pusat(by=cast["admin_kabkota"], batch=batch)


def test_receive_only_by_pusat_and_only_after_forwarding(cast, regions, finals):
    batch = _sent(cast, regions)
    with pytest.raises(BatchError) as exc:
        batches.receive_at_pusat(by=cast["pusat"], batch=batch)
    assert exc.value.code == "wrong_order"
    batches.forward_to_pusat(by=cast["admin_provinsi"], batch=batch)
    for who in ("admin_provinsi", "admin_kabkota", "auditor"):
        with pytest.raises(PermissionDenied):
            batches.receive_at_pusat(by=cast[who], batch=batch)


def test_steps_out_of_order_are_refused(cast, regions, finals):
    batch = _finalised(cast, regions)
    with pytest.raises(BatchError):
        batches.forward_to_pusat(by=cast["admin_provinsi"], batch=batch)
    with pytest.raises(BatchError):
        batches.annotate(by=cast["admin_provinsi"], batch=batch, note="Terlalu awal")
    batches.upload_signed_letter(
        by=cast["admin_kabkota"], batch=batch, file=signed(), letter_number="1", signatory="A"
    )
    with pytest.raises(BatchError) as exc:
        batches.upload_signed_letter(
            by=cast["admin_kabkota"], batch=batch, file=signed(), letter_number="2", signatory="A"
        )
    assert exc.value.code == "wrong_order"


@pytest.mark.parametrize("n", [3, 30])
def test_batch_steps_cost_the_same_for_any_size(cast, regions, make_proposal, n):
    for _ in range(n):
        make_proposal(Kind.PERBAIKAN, Status.FINAL_KABKOTA)
    batch = _finalised(cast, regions)
    batches.upload_signed_letter(
        by=cast["admin_kabkota"], batch=batch, file=signed(), letter_number="1", signatory="A"
    )
    with CaptureQueriesContext(connection) as ctx:
        batches.send_to_province(by=cast["admin_kabkota"], batch=batch)
    assert len(ctx.captured_queries) <= 12


def test_fix_returned_frees_items_from_their_batch(cast, regions, make_proposal):
    batch = batches.Batch.objects.create(
        region=regions["1371"],
        region_code="1371",
        period="2026-10",
        status=BatchStatus.SELESAI,
        finalised_by=cast["admin_kabkota"],
    )
    returned = make_proposal(
        Kind.PERBAIKAN, Status.DIKEMBALIKAN_KE_KABKOTA, batch=batch, period="2026-10"
    )
    result = batches.fix_returned(by=cast["verifikator_kabkota"], proposals=[returned.pk])
    assert result.moved == 1
    returned.refresh_from_db()
    assert returned.status == Status.DIPERIKSA_DINSOS
    assert returned.batch_id is None and returned.period == ""


def test_item_fixed_elsewhere_still_joins_the_next_batch(cast, regions, make_proposal):
    old = batches.Batch.objects.create(
        region=regions["1371"],
        region_code="1371",
        period="2026-10",
        status=BatchStatus.SELESAI,
        finalised_by=cast["admin_kabkota"],
    )
    item = make_proposal(Kind.PERBAIKAN, Status.FINAL_KABKOTA, batch=old)
    batch = _finalised(cast, regions)
    item.refresh_from_db()
    assert item.batch_id == batch.pk
