"""Dedup runs on a hand-built registry: planted duplicates found, decisions remembered."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db.models import F

from terpadu.dedup import decisions, runs
from terpadu.dedup.models import CandidatePair, DedupModel, DedupRun, PairStatus

pytestmark = pytest.mark.django_db


def _run(user: Any, region: Any, **kw: Any) -> DedupRun:
    run = DedupRun.objects.create(
        scope=region.digits, region=region, started_by=user, progress_total=len(runs.STEPS), **kw
    )
    return runs.execute_run(run)


def _true_pairs(truth: dict[int, int]) -> set[tuple[int, int]]:
    by_cluster: dict[int, list[int]] = {}
    for pid, cid in truth.items():
        by_cluster.setdefault(cid, []).append(pid)
    return {
        tuple(sorted(p))  # type: ignore[misc]
        for ids in by_cluster.values()
        for p in itertools.combinations(ids, 2)
    }


def test_run_finds_planted_duplicates(
    cast: Any, regions: Any, dedup_model: DedupModel, registry_with_duplicates: Any
) -> None:
    run = _run(cast["verifikator_kabkota"], regions["1371"])
    assert run.state == DedupRun.State.SELESAI, run.error
    assert run.model == dedup_model
    truth = _true_pairs(registry_with_duplicates["truth"])
    assert len(truth) >= 15
    found = {
        (a, b)
        for a, b in CandidatePair.objects.filter(probability__gte=0.9).values_list(
            "person_a_id", "person_b_id"
        )
    }
    recall = len(found & truth) / len(truth)
    precision = len(found & truth) / len(found)
    assert recall >= 0.8 and precision >= 0.9, (recall, precision)
    # Kota Solok's persons are outside the run's scope.
    solok = {p.pk for p in registry_with_duplicates["solok"]}
    assert not CandidatePair.objects.filter(person_a__in=solok).exists()
    assert not CandidatePair.objects.filter(person_b__in=solok).exists()
    pair = CandidatePair.objects.order_by("-probability").first()
    assert pair.region_code.startswith("1371") and pair.person_a_id < pair.person_b_id
    names = [e["comparison"] for e in pair.explanation]
    assert names[:2] == ["name", "birth_date"]
    assert run.counts["stored"] == CandidatePair.objects.count()
    # Both region codes are the persons' own (taken from the run's extract).
    assert not CandidatePair.objects.exclude(region_code=F("person_a__region_code")).exists()
    assert not CandidatePair.objects.exclude(region_code_b=F("person_b__region_code")).exists()


def test_rerun_keeps_decisions_and_never_recreates_different(
    cast: Any, regions: Any, dedup_model: DedupModel, registry_with_duplicates: Any
) -> None:
    verifikator = cast["verifikator_kabkota"]
    _run(verifikator, regions["1371"])
    first, second = CandidatePair.objects.order_by("-probability")[:2]
    decisions.decide_different(by=verifikator, pair=first, note="beda ibu kandung")
    total = CandidatePair.objects.count()
    run2 = _run(verifikator, regions["1371"])
    assert CandidatePair.objects.count() == total
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == PairStatus.DIFFERENT and first.run_id != run2.pk
    assert second.run_id == run2.pk  # open pairs get the new run's scores
    assert run2.counts["skipped_decided"] == 1


def test_retrain_on_registry_saves_new_model_version(
    cast: Any, regions: Any, registry_with_duplicates: Any
) -> None:
    run = _run(cast["admin_kabkota"], regions["1371"], retrain=True)
    assert run.state == DedupRun.State.SELESAI, run.error
    model = DedupModel.objects.get()
    assert model.version == 1 and model.params["comparisons"]
    assert run.counts["model_version"] == 1


def test_start_run_needs_kabkota_decider_in_scope(
    cast: Any, regions: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    for role in ("operator_desa", "operator_provinsi", "pusat", "outsider_kab"):
        with pytest.raises(PermissionDenied):
            runs.start_run(by=cast[role], region=regions["1371"])
    with pytest.raises(PermissionDenied):  # a kecamatan is not a run's scope
        runs.start_run(by=cast["verifikator_kabkota"], region=regions["137101"])
    with django_capture_on_commit_callbacks(execute=True):
        run = runs.start_run(by=cast["verifikator_kabkota"], region=regions["1371"])
    run.refresh_from_db()
    assert run.state == DedupRun.State.SELESAI, run.error  # empty registry: nothing to pair
    assert run.counts == {"persons": 0, "too_few": True, "stored": 0, "pairs": 0}
    assert not DedupModel.objects.exists()  # nothing learnt from nothing


def test_second_run_refused_while_one_is_working(cast: Any, regions: Any) -> None:
    DedupRun.objects.create(scope="1371", region=regions["1371"], started_by=cast["admin_kabkota"])
    with pytest.raises(runs.DedupError):
        runs.start_run(by=cast["verifikator_kabkota"], region=regions["1371"])


def test_a_run_whose_worker_died_does_not_block_its_region(cast: Any, regions: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    dead = DedupRun.objects.create(
        scope="1371", region=regions["1371"], started_by=cast["admin_kabkota"]
    )
    DedupRun.objects.filter(pk=dead.pk).update(
        started_at=timezone.now() - runs.STALE_AFTER - dt.timedelta(minutes=1)
    )
    run = runs.start_run(by=cast["verifikator_kabkota"], region=regions["1371"])
    dead.refresh_from_db()
    assert dead.state == DedupRun.State.GAGAL and "6 jam" in dead.error
    assert run.state == DedupRun.State.BERJALAN


def test_untrainable_data_fails_the_run_with_a_bilingual_message(
    cast: Any, regions: Any, registry_with_duplicates: Any, monkeypatch: Any
) -> None:
    # Splink refuses degenerate m/u estimates with a ValueError (seen on sparse synthetic
    # data); stand that refusal in for the library so the run's handling is what is tested.
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("m_probability below the minimum 1e-300")

    monkeypatch.setattr(runs.dm, "train", refuse)
    run = _run(cast["admin_kabkota"], regions["1371"], retrain=True)
    assert run.state == DedupRun.State.GAGAL
    assert "Model tidak dapat dilatih" in run.error and "could not be trained" in run.error
    assert not DedupModel.objects.exists() and not CandidatePair.objects.exists()
