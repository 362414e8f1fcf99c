"""HTTP round trips: processing runs (start, progress, filters, override, review), Dukcapil
exchanges (export, import with the validation report, test double) and NIK-correction tasks
with their scope."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from terpadu.accounts.models import AccessLog
from terpadu.editions.dukcapil import MatchRow, apply_matches
from terpadu.editions.models import (
    DukcapilBatch,
    NikCorrectionTask,
    ProcessingResult,
    ProcessingRun,
)
from terpadu.editions.tests.test_dukcapil import make_persons, nik
from terpadu.editions.tests.test_processing import AFTER_CUTOFF, PERIOD, bundle, member
from terpadu.proposals.models import Batch, BatchStatus, Kind, Proposal, Status
from terpadu.proposals.tests import conftest as proposals_fixtures
from terpadu.registry.models import Padan

pytestmark = pytest.mark.django_db
make_proposal = proposals_fixtures.make_proposal  # shared fixture, registered here


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    settings.TERPADU_DUKCAPIL_ADAPTER = "test-double"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def items(cast, regions, make_proposal):  # type: ignore[no-untyped-def]
    batch = Batch.objects.create(
        region=regions["1371"],
        region_code="1371",
        period=PERIOD,
        status=BatchStatus.SELESAI,
        finalised_by=cast["admin_kabkota"],
    )

    def make(n: str | None = None) -> Proposal:
        return make_proposal(
            Kind.BARU,
            Status.PROSES_PUSAT,
            batch=batch,
            period=PERIOD,
            payload=bundle(member("Warga", nik_=n)),
        )

    return {"ok": make(), "bad": make(nik(last=9))}


def test_runs_page_is_pusat_only(client, cast):
    client.force_login(cast["admin_provinsi"])
    assert client.get(reverse("editions:runs")).status_code == 403
    client.force_login(cast["pusat"])
    assert client.get(reverse("editions:runs")).status_code == 200


def test_start_before_cutoff_shows_error_then_force(
    client, cast, items, django_capture_on_commit_callbacks
):
    client.force_login(cast["pusat"])
    url = reverse("editions:runs")
    with time_machine.travel(dt.datetime(2026, 11, 10, 9, 0, tzinfo=dt.UTC)):
        r = client.post(url, {"period": PERIOD})
        assert r.status_code == 422
        assert "batas pengesahan" in r.content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            r = client.post(url, {"period": PERIOD, "force": "on", "note": "Uji coba"})
    run = ProcessingRun.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("editions:run_detail", args=[run.pk])
    r = client.get(r["Location"])
    assert r.status_code == 200
    body = r.content.decode()
    assert "Terapkan tinjauan" in body and "tidak padan" in body


def test_progress_fragment_polls_while_running(client, cast):
    run = ProcessingRun.objects.create(
        period=PERIOD, started_by=cast["pusat"], progress_done=3, progress_total=10
    )
    client.force_login(cast["pusat"])
    url = reverse("editions:run_detail", args=[run.pk])
    r = client.get(url, HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert 'hx-trigger="every 2s"' in body and 'value="3"' in body and "<html" not in body
    assert "HX-Refresh" not in r
    ProcessingRun.objects.filter(pk=run.pk).update(state=ProcessingRun.State.GAGAL, error="x")
    r = client.get(url, HTTP_HX_REQUEST="true")
    assert r["HX-Refresh"] == "true" and "every 2s" not in r.content.decode()
    # A full reload shows the same state from the database.
    assert "Proses gagal" in client.get(url).content.decode()


def test_results_filters_override_and_review(
    client, cast, items, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    with time_machine.travel(AFTER_CUTOFF), django_capture_on_commit_callbacks(execute=True):
        client.force_login(cast["pusat"])  # inside: sessions expire when the clock jumps
        r = client.post(reverse("editions:runs"), {"period": PERIOD})
    client.force_login(cast["pusat"])
    assert r.status_code == 302
    run = ProcessingRun.objects.get()
    url = reverse("editions:run_detail", args=[run.pk])
    r = client.get(url, {"outcome": "dikembalikan"})
    assert [x.proposal_id for x in r.context["page"]] == [items["bad"].pk]
    r = client.get(url, {"reason": "nik_tidak_padan"})
    assert [x.proposal_id for x in r.context["page"]] == [items["bad"].pk]
    r = client.get(url, {"wilayah": "1372"})
    assert list(r.context["page"]) == []
    with django_assert_max_num_queries(12):
        client.get(url)
    ok = ProcessingResult.objects.get(proposal=items["ok"])
    r = client.post(
        reverse("editions:result_override", args=[run.pk, ok.pk]),
        {"outcome": "ditolak", "note": "Dobel dengan usulan lain"},
    )
    assert r.status_code == 302
    ok.refresh_from_db()
    assert ok.outcome == "ditolak" and ok.override_note == "Dobel dengan usulan lain"
    r = client.post(reverse("editions:run_review", args=[run.pk]), follow=True)
    assert "Tinjauan diterapkan" in r.content.decode()
    assert Proposal.objects.get(pk=items["bad"].pk).status == Status.DIKEMBALIKAN_KE_KABKOTA
    assert Proposal.objects.get(pk=items["ok"].pk).status == Status.DITOLAK_PUSAT
    # Others may not touch a run.
    client.force_login(cast["admin_kabkota"])
    assert client.post(reverse("editions:run_review", args=[run.pk])).status_code == 403
    assert client.get(url).status_code == 403


# --- Dukcapil -------------------------------------------------------------------------------


def test_export_download_and_import_report(client, cast, regions):
    a, b = make_persons(cast["operator_desa"], regions["1371011001"], [nik(), nik()])
    client.force_login(cast["pusat"])
    r = client.post(reverse("editions:dukcapil_export"), {"region_code": "1371"})
    assert r.status_code == 200 and r["Content-Disposition"].startswith("attachment")
    content = b"".join(r.streaming_content).decode()
    assert content.splitlines()[0] == "NIK;ID_PERSON;KODE_WILAYAH" and a.nik in content
    assert AccessLog.objects.filter(entity="dukcapil_request").exists()
    batch = DukcapilBatch.objects.get()
    bad = SimpleUploadedFile(
        "hasil.csv", f"NIK;STATUS_PADAN;KETERANGAN\n{a.nik};MUNGKIN;\n".encode(), "text/csv"
    )
    r = client.post(reverse("editions:dukcapil_import"), {"batch": batch.pk, "file": bad})
    assert r.status_code == 422
    body = r.content.decode()
    assert "MUNGKIN" in body and "tidak ada data yang disimpan" in body
    good = SimpleUploadedFile(
        "hasil.csv",
        f"NIK;STATUS_PADAN;KETERANGAN\n{a.nik};PADAN;\n{b.nik};TIDAK PADAN;Ganda\n".encode(),
        "text/csv",
    )
    r = client.post(
        reverse("editions:dukcapil_import"), {"batch": batch.pk, "file": good}, follow=True
    )
    assert "1 tidak padan" in r.content.decode()
    b.refresh_from_db()
    assert b.padan == Padan.TIDAK_PADAN
    r = client.get(reverse("editions:dukcapil_request", args=[batch.pk]))
    assert r.status_code == 200


def test_dukcapil_pages_are_pusat_only(client, cast):
    client.force_login(cast["admin_kabkota"])
    assert client.get(reverse("editions:dukcapil")).status_code == 403
    assert client.post(reverse("editions:dukcapil_export"), {}).status_code == 403


def test_match_now_with_the_test_double(client, cast, regions):
    make_persons(cast["operator_desa"], regions["1371011001"], [nik(), nik(last=9)])
    client.force_login(cast["pusat"])
    r = client.get(reverse("editions:dukcapil"))
    assert "test double" in r.content.decode()
    r = client.post(reverse("editions:dukcapil_match_now"), {}, follow=True)
    assert "1 tidak padan" in r.content.decode()
    assert NikCorrectionTask.objects.count() == 1


# --- NIK-correction tasks ---------------------------------------------------------------------


@pytest.fixture
def tasks(cast, regions, make_proposal):  # type: ignore[no-untyped-def]
    padang = make_persons(cast["operator_desa"], regions["1371011001"], [nik(last=9), nik(last=9)])
    exchange = DukcapilBatch.objects.create(
        source="file", state=DukcapilBatch.State.DIKIRIM, created_by=cast["pusat"]
    )
    apply_matches(exchange, [MatchRow(p.nik, False, "", p.pk, p.region_code) for p in padang])
    # A correction proposal for the first person: its task reads "diusulkan".
    make_proposal(Kind.PERBAIKAN, Status.DRAFT, target_type="person", person=padang[0])
    return padang


def test_tasks_scoped_with_lazy_proposed_state(client, cast, tasks):
    client.force_login(cast["verifikator_kabkota"])
    url = reverse("editions:nik_tasks")
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(url)
    assert r.status_code == 200 and len(ctx.captured_queries) <= 8
    rows = {t.person_id: t.proposed for t in r.context["page"]}
    assert rows == {tasks[0].pk: True, tasks[1].pk: False}
    body = r.content.decode()
    assert reverse("proposals:new_correction", args=[tasks[1].pk]) in body
    assert reverse("proposals:new_correction", args=[tasks[0].pk]) not in body
    r = client.get(url, {"state": "diusulkan"})
    assert [t.person_id for t in r.context["page"]] == [tasks[0].pk]
    # Kota Solok sees none of Padang's tasks; the province sees them without a propose link.
    client.force_login(cast["outsider_kab"])
    assert list(client.get(url).context["page"]) == []
    client.force_login(cast["operator_provinsi"])
    r = client.get(url)
    assert len(r.context["page"]) == 2 and "Usulkan perbaikan" not in r.content.decode()
    client.force_login(cast["enumerator"])
    assert client.get(url).status_code == 403
