"""The national processing run: outcomes per reason on a hand-built month, the cut-off,
failure without partial results, review through the proposals workflow."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from terpadu.editions import processing
from terpadu.editions.models import (
    DukcapilBatch,
    DukcapilMatch,
    ProcessingResult,
    ProcessingRun,
    ProcessingRunEvent,
)
from terpadu.editions.processing import ProcessingError, apply_review, override_result, start_run
from terpadu.lib.nik import compose_nik, compose_no_kk
from terpadu.proposals.models import Batch, BatchStatus, Kind, Proposal, ProposalEvent, Status
from terpadu.proposals.tests import conftest as proposals_fixtures
from terpadu.proposals.transitions import TRANSITIONS
from terpadu.registry import records
from terpadu.registry.models import Padan

pytestmark = pytest.mark.django_db
PERIOD = "2026-11"
make_proposal = proposals_fixtures.make_proposal  # shared fixture, registered here
AFTER_CUTOFF = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)
_serial = itertools.count(3001)

Outcome = ProcessingResult.Outcome


@pytest.fixture(autouse=True)
def _setup(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    settings.TERPADU_DUKCAPIL_ADAPTER = "test-double"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def nik(last: int | None = None) -> str:
    """A valid NIK; last digit 9 is *tidak padan* for the test double, so avoid it unless
    asked."""
    while True:
        serial = next(_serial)
        if (last is None and serial % 10 != 9) or serial % 10 == last:
            return compose_nik("137101", dt.date(1990, 1, 2), 2, serial)


def member(name: str, relation: int = 1, nik_: str | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "sex": 2,
        "birth_date": "1990-01-02",
        "relation_kk": relation,
        "nik": nik_ or nik(),
    }


def bundle(*members: dict[str, Any]) -> dict[str, Any]:
    no_kk = compose_no_kk("137101", dt.date(2016, 1, 1), next(_serial))
    return {
        "household_fields": {"address": "Jl. Baru"},
        "families": [{"no_kk": no_kk, "members": list(members)}],
    }


def registry_household(cast: Any, regions: Any, *niks: str, desa: str = "1371011001") -> Any:
    members = [member(f"Warga {i}", 1 if i == 0 else 3, n) for i, n in enumerate(niks)]
    for m in members:
        m["birth_date"] = dt.date(1990, 1, 2)
    return records.create_household(
        by=cast["verifikator_kabkota"],
        region=regions[desa],
        household_fields={"address": "Jl. Lama"},
        families=[
            {
                "no_kk": compose_no_kk("137101", dt.date(2015, 1, 1), next(_serial)),
                "members": members,
            }
        ],
        reason="Data uji proses nasional",
    )


@pytest.fixture
def month(cast, regions, make_proposal):  # type: ignore[no-untyped-def]
    """A hand-built November: two received batches (Kota Padang, Kota Solok) and one item
    per rule; returns {name: proposal}."""

    def batch(kab: str) -> Batch:
        return Batch.objects.create(
            region=regions[kab],
            region_code=kab,
            period=PERIOD,
            status=BatchStatus.SELESAI,
            finalised_by=cast["admin_kabkota"],
        )

    padang, solok = batch("1371"), batch("1372")

    def item(kind: str, status: str = Status.DITERIMA_PUSAT, b: Batch = padang, **kw: Any) -> Any:
        desa = kw.pop("desa", "1371011001" if b is padang else "1372011001")
        kw.setdefault("period", PERIOD)
        return make_proposal(kind, status, desa=desa, batch=b, **kw)

    registered = nik()
    hh = registry_household(cast, regions, registered, nik())
    target = hh.members.get(relation_kk=3)
    gone = registry_household(cast, regions, nik()).members.get()
    records.deactivate_person(
        by=cast["verifikator_kabkota"], person=gone, reason_code="meninggal", reason="x"
    )
    # A member of a moving household whose NIK is also active in another household.
    twice = nik()
    moving = registry_household(cast, regions, twice)
    registry_household(cast, regions, twice, desa="1371021001")
    shared = nik()
    out = {
        "ok": item(Kind.BARU, payload=bundle(member("Ani"), member("Budi", 3))),
        "ok_in_process": item(Kind.BARU, Status.PROSES_PUSAT, payload=bundle(member("Cici"))),
        "tidak_padan": item(Kind.BARU, payload=bundle(member("Dedi", nik_=nik(last=9)))),
        "terdaftar": item(Kind.BARU, payload=bundle(member("Eka", nik_=registered))),
        "ganda_padang": item(Kind.BARU, payload=bundle(member("Fajar", nik_=shared))),
        "ganda_solok": item(Kind.BARU, b=solok, payload=bundle(member("Gita", nik_=shared))),
        "sasaran_1": item(
            Kind.PERBAIKAN,
            target_type="person",
            person=target,
            household=hh,
            payload={"changes": {"name": "Sari A"}},
        ),
        "sasaran_2": item(
            Kind.PERBAIKAN,
            Status.PROSES_PUSAT,
            b=solok,
            desa="1371011001",
            target_type="person",
            person=target,
            household=hh,
            payload={"changes": {"name": "Sari B"}},
        ),
        "tidak_aktif": item(
            Kind.NONAKTIF,
            Status.PROSES_PUSAT,
            target_type="person",
            person=gone,
            reason_code="meninggal",
        ),
        "pindah": item(
            Kind.PEMINDAHAN,
            target_type="household",
            household=moving,
            destination="1371021001",
        ),
    }
    # Not part of the month: another period, and a proposal still at the kab/kota.
    item(Kind.BARU, payload=bundle(member("Lain")), period="2026-10")
    make_proposal(Kind.BARU, Status.DIPERIKSA_DINSOS, period=PERIOD)
    return out


def codes(result: ProcessingResult) -> set[str]:
    return {r["code"] for r in result.reasons}


def run_now(cast: Any) -> ProcessingRun:
    run = ProcessingRun.objects.create(period=PERIOD, started_by=cast["pusat"])
    return processing.run_processing(run)


def test_run_outcomes_per_reason(cast, month):
    run = run_now(cast)
    assert run.state == ProcessingRun.State.SELESAI, run.error
    results = {r.proposal_id: r for r in run.results.all()}
    assert set(results) == {p.pk for p in month.values()}
    by_name = {name: results[p.pk] for name, p in month.items()}
    expected = {
        "ok": (Outcome.DITERIMA, set()),
        "ok_in_process": (Outcome.DITERIMA, set()),
        "tidak_padan": (Outcome.DIKEMBALIKAN, {"nik_tidak_padan"}),
        "terdaftar": (Outcome.DIKEMBALIKAN, {"nik_terdaftar"}),
        "ganda_padang": (Outcome.DIKEMBALIKAN, {"nik_ganda_usulan"}),
        "ganda_solok": (Outcome.DIKEMBALIKAN, {"nik_ganda_usulan"}),
        "sasaran_1": (Outcome.DIKEMBALIKAN, {"sasaran_ganda"}),
        "sasaran_2": (Outcome.DIKEMBALIKAN, {"sasaran_ganda"}),
        "tidak_aktif": (Outcome.DITOLAK, {"sasaran_tidak_aktif"}),
        "pindah": (Outcome.DIKEMBALIKAN, {"aktif_di_wilayah_lain"}),
    }
    got = {name: (r.outcome, codes(r)) for name, r in by_name.items()}
    assert got == expected
    reason = by_name["tidak_padan"].reasons[0]
    assert set(reason) == {"code", "message_id", "message_en"}
    assert run.counts["outcomes"] == {"diterima": 2, "dikembalikan": 7, "ditolak": 1}
    assert run.counts["reasons"]["sasaran_ganda"] == 2
    assert run.progress_done == run.progress_total == len(month) + 1
    # The test double's answers are stored like any exchange (target person was padan belum).
    batch = DukcapilBatch.objects.get(pk=run.counts["dukcapil_batch"])
    assert batch.source == "test-double" and batch.state == DukcapilBatch.State.DIIMPOR
    target = month["sasaran_1"].person
    target.refresh_from_db()
    assert target.padan == Padan.PADAN
    # The run decided nothing yet: statuses are untouched until the review is applied.
    assert Proposal.objects.get(pk=month["tidak_aktif"].pk).status == Status.PROSES_PUSAT


def test_file_adapter_flags_never_matched_niks(cast, month, settings):
    settings.TERPADU_DUKCAPIL_ADAPTER = "file"
    ok_nik = month["ok"].payload["families"][0]["members"][0]["nik"]
    batch = DukcapilBatch.objects.create(
        source="file", state=DukcapilBatch.State.DIIMPOR, created_by=cast["pusat"]
    )
    DukcapilMatch.objects.create(
        batch=batch, nik=ok_nik, padan=True, matched_at=dt.datetime(2026, 11, 26, tzinfo=dt.UTC)
    )
    run = run_now(cast)
    result = run.results.get(proposal=month["ok"])
    # One member matched, the other never: returned as "belum padan".
    assert result.outcome == Outcome.DIKEMBALIKAN
    assert codes(result) == {"nik_belum_padan"}
    assert ok_nik not in str(result.reasons)
    assert run.counts["dukcapil_batch"] is None


def test_failure_leaves_no_results(cast, month, monkeypatch):
    def boom(run: Any) -> dict[str, Any]:
        raise RuntimeError("disk penuh")

    monkeypatch.setattr(processing, "_summarise", boom)
    run = run_now(cast)
    assert run.state == ProcessingRun.State.GAGAL
    assert "disk penuh" in run.error
    assert not ProcessingResult.objects.exists()
    assert not DukcapilMatch.objects.exists()  # the Dukcapil step rolled back too
    assert run.events.filter(action=ProcessingRunEvent.Action.FAIL).exists()


def test_run_only_once(cast, month):
    run = run_now(cast)
    again = processing.run_processing(run)
    assert again.results.count() == len(month)


# --- starting -------------------------------------------------------------------------------


def test_start_refused_before_cutoff_and_forced_with_note(
    cast, month, django_capture_on_commit_callbacks
):
    pusat = cast["pusat"]
    with time_machine.travel(dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)):
        with pytest.raises(ProcessingError) as exc:
            start_run(by=pusat, period=PERIOD)
        assert exc.value.code == "before_cutoff"
        with pytest.raises(ProcessingError) as exc:
            start_run(by=pusat, period=PERIOD, force=True, note=" ")
        assert exc.value.code == "note_required"
        assert not ProcessingRun.objects.exists()
        with django_capture_on_commit_callbacks(execute=True):
            run = start_run(by=pusat, period=PERIOD, force=True, note="Arahan Menteri")
    run.refresh_from_db()
    event = run.events.first()
    assert (event.action, event.note, event.actor) == ("force", "Arahan Menteri", pusat)
    # Queued on commit; the immediate backend ran it.
    assert run.state == ProcessingRun.State.SELESAI


def test_start_after_cutoff_runs(cast, month, django_capture_on_commit_callbacks):
    with (
        time_machine.travel(AFTER_CUTOFF),
        django_capture_on_commit_callbacks(execute=True),
    ):
        run = start_run(by=cast["pusat"], period=PERIOD)
    run.refresh_from_db()
    assert run.state == ProcessingRun.State.SELESAI
    assert run.events.first().action == ProcessingRunEvent.Action.START


def test_start_refusals(cast):
    with pytest.raises(PermissionDenied):
        start_run(by=cast["admin_kabkota"], period=PERIOD, force=True, note="x")
    with pytest.raises(ProcessingError) as exc:
        start_run(by=cast["pusat"], period="2026-13", force=True, note="x")
    assert exc.value.code == "period"
    ProcessingRun.objects.create(period=PERIOD, started_by=cast["pusat"])
    with pytest.raises(ProcessingError) as exc, time_machine.travel(AFTER_CUTOFF):
        start_run(by=cast["pusat"], period=PERIOD)
    assert exc.value.code == "running"


# --- review ---------------------------------------------------------------------------------


RETURNS_FROM_ACCEPTED = Status.DITERIMA_PUSAT in TRANSITIONS["return_to_kabkota"].sources


def test_override_records_who_and_why(cast, month):
    run = run_now(cast)
    result = run.results.get(proposal=month["ok"])
    with pytest.raises(ProcessingError):
        override_result(by=cast["pusat"], result=result, outcome=Outcome.DITOLAK, note="")
    result = override_result(
        by=cast["pusat"], result=result, outcome=Outcome.DITOLAK, note="Data fiktif"
    )
    assert result.outcome == Outcome.DITOLAK and result.overridden_by == cast["pusat"]
    assert codes(result) == {"tinjauan_pusat"}
    run.refresh_from_db()
    assert run.counts["outcomes"]["ditolak"] == 2
    assert run.events.filter(action="override", result=result).exists()
    with pytest.raises(PermissionDenied):
        override_result(by=cast["admin_kabkota"], result=result, outcome="diterima", note="x")


@pytest.fixture
def in_process_month(cast, month):  # type: ignore[no-untyped-def]
    """The month with every item still in PROSES_PUSAT (integrity not yet run per batch),
    which the workflow can return/reject today."""
    Proposal.objects.filter(pk__in=[p.pk for p in month.values()]).update(
        status=Status.PROSES_PUSAT
    )
    return month


def test_review_applies_returns_and_rejections_through_the_workflow(cast, in_process_month):
    month = in_process_month
    run = run_now(cast)
    review = apply_review(by=cast["pusat"], run=run)
    assert (review.returned, review.rejected, review.accepted) == (7, 1, 2)
    status = dict(
        Proposal.objects.filter(pk__in=[p.pk for p in month.values()]).values_list("pk", "status")
    )
    assert status[month["ok"].pk] == Status.DITERIMA_PUSAT
    assert status[month["tidak_padan"].pk] == Status.DIKEMBALIKAN_KE_KABKOTA
    assert status[month["tidak_aktif"].pk] == Status.DITOLAK_PUSAT
    returned = Proposal.objects.get(pk=month["tidak_padan"].pk)
    assert [r["code"] for r in returned.return_reasons] == ["nik_tidak_padan"]
    event = ProposalEvent.objects.filter(proposal=returned).last()
    assert event.action == "return_to_kabkota" and event.actor == cast["pusat"]
    assert processing.ready_for_determination(run)
    with pytest.raises(ProcessingError) as exc:
        apply_review(by=cast["pusat"], run=run)
    assert exc.value.code == "reviewed"


def test_review_is_all_or_nothing(cast, in_process_month):
    month = in_process_month
    run = run_now(cast)
    # Someone else moved one returned item meanwhile: nothing is applied.
    Proposal.objects.filter(pk=month["tidak_aktif"].pk).update(status=Status.DIBATALKAN)
    with pytest.raises(ProcessingError) as exc:
        apply_review(by=cast["pusat"], run=run)
    assert exc.value.code == "review_conflict"
    assert f"#{month['tidak_aktif'].pk}" in exc.value.message_id
    assert not Proposal.objects.filter(status=Status.DIKEMBALIKAN_KE_KABKOTA).exists()
    assert not processing.is_reviewed(run)


@pytest.mark.skipif(
    not RETURNS_FROM_ACCEPTED,
    reason="needs return_to_kabkota/reject_pusat from DITERIMA_PUSAT (transitions.py)",
)
def test_review_returns_items_already_accepted(cast, month):
    run = run_now(cast)
    review = apply_review(by=cast["pusat"], run=run)
    assert review.returned == 7 and review.rejected == 1
    assert Proposal.objects.get(pk=month["terdaftar"].pk).status == (Status.DIKEMBALIKAN_KE_KABKOTA)
