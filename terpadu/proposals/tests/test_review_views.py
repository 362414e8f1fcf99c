"""HTTP round trips: review queue and bulk actions, batch pages, province, pusat, calendar."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from terpadu.proposals import batches
from terpadu.proposals.models import Batch, BatchStatus, CalendarYear, Kind, Proposal, Status

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def login(client, user):  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client


def _messages(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- review queue ------------------------------------------------------------------------


def test_queue_shows_only_items_in_scope_with_filters(client, cast, make_proposal):
    mine = make_proposal(Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS, summary="Koreksi nama Padang")
    other_kec = make_proposal(Kind.BARU, Status.DIPERIKSA_DINSOS, desa="1371021001")
    make_proposal(Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS, desa="1372011001", summary="Solok")
    make_proposal(Kind.PERBAIKAN, Status.DRAFT, summary="Draf desa")
    login(client, cast["verifikator_kabkota"])
    r = client.get(reverse("proposals:review_queue"))
    assert r.status_code == 200
    ids = {p.pk for p in r.context["page"].object_list}
    assert ids == {mine.pk, other_kec.pk}
    assert "Solok" not in r.content.decode()
    r = client.get(reverse("proposals:review_queue"), {"kind": Kind.BARU})
    assert {p.pk for p in r.context["page"].object_list} == {other_kec.pk}
    r = client.get(reverse("proposals:review_queue"), {"wilayah": "137101"})
    assert {p.pk for p in r.context["page"].object_list} == {mine.pk}
    r = client.get(reverse("proposals:review_queue"), {"age": "7"})
    assert list(r.context["page"].object_list) == []
    r = client.get(reverse("proposals:review_queue"), HTTP_HX_REQUEST="true")
    assert b"<html" not in r.content and b"Koreksi nama Padang" in r.content


def test_queue_overdue_filter_and_returned_tab(client, cast, make_proposal):
    old = make_proposal(Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS)
    Proposal.objects.filter(pk=old.pk).update(
        status_changed_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    make_proposal(Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS)
    back = make_proposal(
        Kind.PERBAIKAN,
        Status.DIKEMBALIKAN_KE_KABKOTA,
        return_reasons=[{"code": "tidak_padan", "message_id": "Tidak padan X", "message_en": "x"}],
    )
    login(client, cast["verifikator_kabkota"])
    r = client.get(reverse("proposals:review_queue"), {"overdue": "on"})
    assert [p.pk for p in r.context["page"].object_list] == [old.pk]
    assert b"terlambat" in r.content
    r = client.get(reverse("proposals:review_queue"), {"tab": "dikembalikan"})
    assert [p.pk for p in r.context["page"].object_list] == [back.pk]
    assert "Tidak padan X" in r.content.decode()


def test_queue_query_count_does_not_grow(client, cast, make_proposal):
    login(client, cast["verifikator_kabkota"])
    counts = []
    for n in (5, 30):
        for _ in range(n):
            make_proposal(Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("proposals:review_queue")).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("role", ["operator_desa", "operator_provinsi", "pusat", "enumerator"])
def test_queue_is_for_kabkota_roles_only(client, cast, role):
    login(client, cast[role])
    assert client.get(reverse("proposals:review_queue")).status_code == 403


def _bulk(client, ids, action, note=""):  # type: ignore[no-untyped-def]
    return client.post(
        reverse("proposals:review_bulk"),
        {"ids": ids, "action": action, "note": note},
        follow=True,
    )


def test_bulk_approve_costs_the_same_for_5_and_50(client, cast, make_proposal):
    login(client, cast["verifikator_kabkota"])
    counts = []
    for n in (5, 50):
        ids = [make_proposal(Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS).pk for _ in range(n)]
        with CaptureQueriesContext(connection) as ctx:
            r = client.post(reverse("proposals:review_bulk"), {"ids": ids, "action": "approve"})
        assert r.status_code == 302
        counts.append(len(ctx.captured_queries))
        assert Proposal.objects.filter(pk__in=ids, status=Status.FINAL_KABKOTA).count() == n
    assert counts[0] == counts[1]


def test_bulk_approve_reports_skipped_items(client, cast, make_proposal):
    ids = [make_proposal(Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS).pk for _ in range(3)]
    ids.append(make_proposal(Kind.PERBAIKAN, Status.DRAFT).pk)
    ids.append(make_proposal(Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS, desa="1372011001").pk)
    login(client, cast["verifikator_kabkota"])
    r = _bulk(client, ids, "approve")
    assert "3 disetujui, 2 dilewati (status berubah)" in _messages(r)


def test_bulk_return_needs_a_note_and_moves_nothing_without(client, cast, make_proposal):
    ids = [make_proposal(Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS).pk for _ in range(2)]
    login(client, cast["verifikator_kabkota"])
    r = _bulk(client, ids, "return")
    assert any("Alasan wajib" in m for m in _messages(r))
    assert Proposal.objects.filter(status=Status.DIPERIKSA_DINSOS).count() == 2
    r = _bulk(client, ids, "return", note="Foto rumah kurang jelas")
    assert "2 dikembalikan ke desa, 0 dilewati (status berubah)" in _messages(r)
    assert Proposal.objects.filter(status=Status.DIKEMBALIKAN_KE_DESA).count() == 2
    assert cast["operator_desa"].notifications.count() == 1


def test_bulk_reject_with_note(client, cast, make_proposal):
    p = make_proposal(Kind.NONAKTIF, Status.DIPERIKSA_DINSOS)
    login(client, cast["admin_kabkota"])
    _bulk(client, [p.pk], "reject", note="Tidak memenuhi syarat")
    p.refresh_from_db()
    assert p.status == Status.DITOLAK_KABKOTA


def test_bulk_fix_takes_returned_items_back_into_review(client, cast, regions, make_proposal):
    old = Batch.objects.create(
        region=regions["1371"],
        region_code="1371",
        period="2026-10",
        status=BatchStatus.SELESAI,
        finalised_by=cast["admin_kabkota"],
    )
    p = make_proposal(Kind.PERBAIKAN, Status.DIKEMBALIKAN_KE_KABKOTA, batch=old)
    login(client, cast["verifikator_kabkota"])
    r = _bulk(client, [p.pk], "fix")
    assert "1 diperiksa ulang, 0 dilewati (status berubah)" in _messages(r)
    p.refresh_from_db()
    assert p.status == Status.DIPERIKSA_DINSOS and p.batch_id is None


# --- batch pages ---------------------------------------------------------------------------


def test_admin_finalises_uploads_and_sends_through_the_pages(client, cast, make_proposal):
    for kind in (Kind.PERBAIKAN, Kind.NONAKTIF, Kind.BARU):
        make_proposal(kind, Status.FINAL_KABKOTA)
    login(client, cast["admin_kabkota"])
    r = client.get(reverse("proposals:batch_new"))
    assert r.status_code == 200 and r.context["total"] == 3
    assert b'data-testid="final-count">3<' in r.content
    r = client.post(reverse("proposals:batch_new"), {"confirm": "on"})
    batch = Batch.objects.get()
    assert r.status_code == 302 and r.url == reverse("proposals:batch_detail", args=[batch.pk])

    r = client.get(reverse("proposals:batch_detail", args=[batch.pk]))
    assert r.status_code == 200 and b"Kirim ke provinsi" in r.content
    r = client.get(reverse("proposals:batch_letter", args=[batch.pk]))
    assert r.status_code == 200 and b"".join(r.streaming_content).startswith(b"%PDF")

    r = client.post(reverse("proposals:batch_send", args=[batch.pk]), follow=True)
    assert any("surat pengesahan bertanda tangan" in m for m in _messages(r))
    upload = SimpleUploadedFile("ttd.pdf", b"%PDF-1.4 signed", content_type="application/pdf")
    r = client.post(
        reverse("proposals:batch_upload", args=[batch.pk]),
        {"letter_number": "400/1/2026", "signatory": "Hendri Septa", "file": upload},
        follow=True,
    )
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DISAHKAN, _messages(r)
    r = client.get(reverse("proposals:batch_signed_letter", args=[batch.pk]))
    assert r.status_code == 200
    client.post(reverse("proposals:batch_send", args=[batch.pk]))
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DIKIRIM_PROVINSI

    r = client.get(reverse("proposals:batch_list"))
    assert r.status_code == 200 and batch in r.context["page"].object_list


def test_bad_letter_upload_is_refused_with_a_message(client, cast, make_proposal):
    make_proposal(Kind.PERBAIKAN, Status.FINAL_KABKOTA)
    batch = batches.finalise_batch(
        by=cast["admin_kabkota"], kabkota_region=cast["admin_kabkota"].region
    )
    login(client, cast["admin_kabkota"])
    exe = SimpleUploadedFile("ttd.pdf", b"MZ\x90\x00 not a pdf")
    r = client.post(
        reverse("proposals:batch_upload", args=[batch.pk]),
        {"letter_number": "1", "signatory": "A", "file": exe},
        follow=True,
    )
    assert any("PDF, JPEG atau PNG" in m for m in _messages(r))
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FINAL


def test_finalise_empty_shows_error_and_other_roles_are_refused(client, cast):
    login(client, cast["admin_kabkota"])
    r = client.post(reverse("proposals:batch_new"), {"confirm": "on"})
    assert r.status_code == 422 and not Batch.objects.exists()
    login(client, cast["verifikator_kabkota"])
    assert client.get(reverse("proposals:batch_new")).status_code == 403


def test_outsider_cannot_see_a_batch(client, cast, make_proposal):
    make_proposal(Kind.PERBAIKAN, Status.FINAL_KABKOTA)
    batch = batches.finalise_batch(
        by=cast["admin_kabkota"], kabkota_region=cast["admin_kabkota"].region
    )
    login(client, cast["outsider_kab"])
    assert client.get(reverse("proposals:batch_detail", args=[batch.pk])).status_code == 404
    assert client.get(reverse("proposals:batch_letter", args=[batch.pk])).status_code == 404


# --- province and pusat ------------------------------------------------------------------------


@pytest.fixture
def sent_batch(cast, make_proposal):  # type: ignore[no-untyped-def]
    make_proposal(Kind.PERBAIKAN, Status.FINAL_KABKOTA)
    batch = batches.finalise_batch(
        by=cast["admin_kabkota"], kabkota_region=cast["admin_kabkota"].region
    )
    batches.upload_signed_letter(
        by=cast["admin_kabkota"],
        batch=batch,
        file=SimpleUploadedFile("t.pdf", b"%PDF-1.4"),
        letter_number="1",
        signatory="A",
    )
    batches.send_to_province(by=cast["admin_kabkota"], batch=batch)
    return batch


def test_province_dashboard_annotate_and_forward(client, cast, sent_batch, make_proposal):
    late = make_proposal(Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS)
    Proposal.objects.filter(pk=late.pk).update(
        status_changed_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    login(client, cast["operator_provinsi"])
    r = client.get(reverse("proposals:province_home"))
    assert r.status_code == 200
    rows = {row.region.digits: row for row in r.context["rows"]}
    assert set(rows) == {"1371", "1372"}
    assert rows["1371"].late and rows["1371"].overdue == 1 and rows["1371"].last_sent
    assert not rows["1372"].late
    assert sent_batch in r.context["page"].object_list
    assert b'class="late"' in r.content

    r = client.post(
        reverse("proposals:batch_annotate", args=[sent_batch.pk]), {"note": "Sudah dicek"}
    )
    assert r.status_code == 302
    r = client.get(reverse("proposals:batch_detail", args=[sent_batch.pk]))
    assert b"Sudah dicek" in r.content and b"Teruskan ke pusat" in r.content
    client.post(reverse("proposals:batch_forward", args=[sent_batch.pk]))
    sent_batch.refresh_from_db()
    assert sent_batch.status == BatchStatus.DIKIRIM_PUSAT


def test_province_of_another_region_cannot_forward(client, cast, sent_batch, make_user):
    login(client, make_user("admin_provinsi", "14"))
    r = client.post(reverse("proposals:batch_forward", args=[sent_batch.pk]))
    assert r.status_code == 404
    sent_batch.refresh_from_db()
    assert sent_batch.status == BatchStatus.DIKIRIM_PROVINSI
    login(client, cast["admin_kabkota"])
    client.post(reverse("proposals:batch_forward", args=[sent_batch.pk]))
    sent_batch.refresh_from_db()
    assert sent_batch.status == BatchStatus.DIKIRIM_PROVINSI


def test_pusat_receives_and_sees_results(
    client, cast, sent_batch, settings, django_capture_on_commit_callbacks
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    batches.forward_to_pusat(by=cast["admin_provinsi"], batch=sent_batch)
    login(client, cast["pusat"])
    r = client.get(reverse("proposals:pusat_home"))
    assert r.status_code == 200 and sent_batch in list(r.context["incoming"])
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("proposals:batch_receive", args=[sent_batch.pk]))
    assert r.status_code == 302
    sent_batch.refresh_from_db()
    assert sent_batch.status == BatchStatus.SELESAI
    r = client.get(reverse("proposals:pusat_home"))
    (batch, result), *_ = r.context["results"]
    assert batch == sent_batch
    # The fixture's perbaikan has no registry target: returned with that reason.
    assert result["returned"] == 1 and result["reasons"][0][0] == "sasaran_tidak_ada"


@pytest.mark.parametrize("role", ["admin_provinsi", "admin_kabkota", "auditor"])
def test_pusat_pages_are_for_pusat_only(client, cast, sent_batch, role):
    login(client, cast[role])
    assert client.get(reverse("proposals:pusat_home")).status_code == 403
    assert client.get(reverse("proposals:calendar_config")).status_code == 403
    assert client.post(reverse("proposals:batch_receive", args=[sent_batch.pk])).status_code == 403


def test_calendar_config_by_pusat(client, cast):
    login(client, cast["pusat"])
    assert client.get(reverse("proposals:calendar_config")).status_code == 200
    r = client.post(
        reverse("proposals:calendar_config"),
        {"year": 2027, "input_end_day": 18, "ratification_day": 24},
    )
    assert r.status_code == 302
    row = CalendarYear.objects.get(year=2027)
    assert (row.input_end_day, row.ratification_day, row.updated_by) == (18, 24, cast["pusat"])
    r = client.post(
        reverse("proposals:calendar_config"),
        {"year": 2027, "input_end_day": 26, "ratification_day": 24},
    )
    assert r.status_code == 422
    assert CalendarYear.objects.get(year=2027).input_end_day == 18
    client.post(
        reverse("proposals:calendar_config"),
        {"year": 2027, "input_end_day": 15, "ratification_day": 22},
    )
    assert CalendarYear.objects.get(year=2027).input_end_day == 15


def test_queue_tabs_mark_the_current_tab_readably(client, cast):
    # Bug found by the browser journey: the current tab carried .btn-primary (white text)
    # inside .tabs (whose current tab has a white background), so its label was invisible.
    client.force_login(cast["verifikator_kabkota"])
    body = client.get(reverse("proposals:review_queue")).content.decode()
    tabs = body.split('<nav class="tabs"', 1)[1].split("</nav>", 1)[0]
    assert '<a href="?tab=periksa" aria-current="page">' in tabs
    assert "btn" not in tabs
