"""Runs left BERJALAN by a dead worker are detected and marked GAGAL (timeout, ended task,
and on PostgreSQL the worker's advisory lock), on view and before a new run starts."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg
import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from terpadu.editions import processing
from terpadu.editions.models import ProcessingRun, ProcessingRunEvent
from terpadu.editions.tests.test_processing import AFTER_CUTOFF, PERIOD

pytestmark = pytest.mark.django_db
RunState = ProcessingRun.State
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture(autouse=True)
def _setup(settings):  # type: ignore[no-untyped-def]
    settings.TASKS = IMMEDIATE
    settings.TERPADU_DUKCAPIL_ADAPTER = "test-double"


def running(cast, *, silent_for: dt.timedelta | None = None, **fields):  # type: ignore[no-untyped-def]
    run = ProcessingRun.objects.create(period=PERIOD, started_by=cast["pusat"], **fields)
    if silent_for is not None:
        then = timezone.now() - silent_for
        ProcessingRun.objects.filter(pk=run.pk).update(started_at=then)
        if run.heartbeat_at:
            ProcessingRun.objects.filter(pk=run.pk).update(heartbeat_at=then)
        run.refresh_from_db()
    return run


def test_silent_runs_time_out_others_stay(cast, settings):
    settings.TERPADU_PROCESSING_STALE_AFTER = 3600
    old = running(cast, silent_for=dt.timedelta(hours=2))
    fresh = running(cast, silent_for=dt.timedelta(minutes=10))
    finished = running(cast, silent_for=dt.timedelta(hours=5), state=RunState.SELESAI)

    assert processing.expire_stale_runs() == [old.pk]

    old.refresh_from_db()
    assert old.state == RunState.GAGAL and old.finished_at is not None
    assert "60 menit" in old.error and "60 minutes" in old.error
    event = old.events.get()
    assert event.action == ProcessingRunEvent.Action.FAIL and event.actor is None
    for run in (fresh, finished):
        state = run.state
        run.refresh_from_db()
        assert run.state == state and not run.events.exists()
    assert processing.expire_stale_runs() == []  # nothing left to expire


def test_a_stale_run_no_longer_blocks_a_new_one(cast, django_capture_on_commit_callbacks):
    stale = running(cast)
    # Started a day before the (travelled-to) moment the new run is asked for.
    ProcessingRun.objects.filter(pk=stale.pk).update(started_at=AFTER_CUTOFF - dt.timedelta(days=1))
    with time_machine.travel(AFTER_CUTOFF), django_capture_on_commit_callbacks(execute=False):
        new = processing.start_run(by=cast["pusat"], period=PERIOD)
    stale.refresh_from_db()
    assert stale.state == RunState.GAGAL
    assert new.pk != stale.pk and new.state == RunState.BERJALAN


def test_a_run_whose_task_ended_is_expired(cast, settings):
    settings.TASKS = DATABASE
    from terpadu.editions.tasks import run_processing as task

    run = running(cast)
    result = task.enqueue(run.pk)  # queued (READY) in the database backend, not run
    ProcessingRun.objects.filter(pk=run.pk).update(task_id=str(result.id))
    assert processing.expire_stale_runs() == []  # still queued: fine

    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.filter(id=result.id).update(status="FAILED")
    gone = running(cast, task_id=str(uuid.uuid4()))  # unknown to the backend
    assert sorted(processing.expire_stale_runs()) == [run.pk, gone.pk]
    run.refresh_from_db()
    assert "ended" in run.error


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_detects_a_dead_worker_by_its_lock(cast):
    claimed = running(cast, heartbeat_at=timezone.now())
    alive = running(cast, heartbeat_at=timezone.now())
    queued = running(cast)  # not claimed yet: no lock expected
    # A live worker: another session holds the run's lock.
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as worker:
        worker.execute("SELECT pg_advisory_lock(%s, %s)", [processing._LOCK_CLASS, alive.pk])
        assert processing.expire_stale_runs() == [claimed.pk]
    claimed.refresh_from_db()
    assert claimed.state == RunState.GAGAL and "stopped" in claimed.error
    for run in (alive, queued):
        run.refresh_from_db()
        assert run.state == RunState.BERJALAN
    # The worker's session ended: its run is dead too.
    assert processing.expire_stale_runs() == [alive.pk]


def test_run_processing_holds_the_lock_and_reports(cast, regions):
    run = running(cast)
    processing.run_processing(run)
    run.refresh_from_db()
    assert run.state == RunState.SELESAI and run.heartbeat_at is not None
    assert processing.expire_stale_runs() == []


def test_pages_show_a_dead_run_as_failed(client, cast):
    stale = running(cast, silent_for=dt.timedelta(days=1))
    client.force_login(cast["pusat"])
    r = client.get(reverse("editions:run_detail", args=[stale.pk]), HTTP_HX_REQUEST="true")
    assert r["HX-Refresh"] == "true"  # the progress bar stops polling
    stale.refresh_from_db()
    assert stale.state == RunState.GAGAL
    other = running(cast, silent_for=dt.timedelta(days=1))
    assert client.get(reverse("editions:runs")).status_code == 200
    other.refresh_from_db()
    assert other.state == RunState.GAGAL
