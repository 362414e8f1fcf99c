"""Clean-up of checked dry runs (they hold NIKs) and of old uploads: purge, cancel, supersede."""

from __future__ import annotations

import datetime as dt
import io
import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.http import Http404
from django.utils import timezone

from terpadu.imports import services
from terpadu.imports.models import ImportIssue, ImportJob, JobStatus

from .engine_helpers import _imports_env, applied, households, upload, validated, write_csv  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(cast):  # type: ignore[no-untyped-def]
    return cast["admin_kabkota"]


def _store(job: ImportJob) -> Path:
    return services._store_dir(job)


def _age(path: Path, days: int) -> None:
    """Make a folder look `days` old (its mtime)."""
    old = (timezone.now() - dt.timedelta(days=days)).timestamp()
    os.utime(path, (old, old))


def _bad_rows() -> list[dict]:
    rows = households(2)
    rows[1]["NIK"] = "3.2E+15"
    return rows


def test_cancelling_a_validated_job_drops_its_store(admin, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    job = validated(admin, regions["1371"], write_csv(tmp_path / "a.csv", households(2)))
    assert (_store(job) / "manifest.json").exists()
    job = services.request_cancel(job, by=admin)
    assert job.status == JobStatus.CANCELLED
    assert not _store(job).exists()


def test_a_new_dry_run_supersedes_earlier_stores_of_the_same_file(admin, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(tmp_path / "b.csv", households(2))
    first = validated(admin, regions["1371"], path)
    assert _store(first).exists()
    second = validated(admin, regions["1371"], path)
    assert second.pk != first.pk and second.status == JobStatus.VALIDATED
    assert not _store(first).exists()
    assert (_store(second) / "manifest.json").exists()
    # Another file's store is left alone.
    other = validated(admin, regions["1371"], write_csv(tmp_path / "c.csv", households(1, start=7)))
    assert _store(second).exists() and _store(other).exists()


def test_purge_by_age_status_and_uploads(admin, regions, tmp_path, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TERPADU_IMPORT_CHECKED_TTL_DAYS = 7
    fresh = validated(admin, regions["1371"], write_csv(tmp_path / "fresh.csv", households(1)))
    old = validated(admin, regions["1371"], write_csv(tmp_path / "old.csv", households(1, start=3)))
    failed = validated(admin, regions["1371"], write_csv(tmp_path / "bad.csv", _bad_rows()))
    assert failed.rows_invalid and failed.issues.exists()
    ImportJob.objects.filter(pk=failed.pk).update(
        status=JobStatus.FAILED, created_at=timezone.now() - dt.timedelta(days=8)
    )
    _age(_store(old), 8)
    orphan = _store(fresh).parent / "999999"
    orphan.mkdir()
    failed_upload = Path(failed.file.path)
    fresh_upload = Path(fresh.file.path)

    out = io.StringIO()
    call_command("purge_imports", stdout=out)

    assert _store(fresh).exists()  # validated, younger than the TTL
    assert not _store(old).exists()  # older than the TTL
    assert not orphan.exists()  # no job
    assert not _store(failed).exists()  # its upload goes, so does its store
    assert not failed_upload.exists() and fresh_upload.exists()
    failed.refresh_from_db()
    assert not failed.file and failed.issues.exists()  # the row and its issues stay
    assert ImportIssue.objects.filter(job=failed).count() > 0
    assert "upload(s) deleted" in out.getvalue()
    with pytest.raises(Http404):
        services.write_error_report(failed, io.BytesIO())
    # Nothing left to do: a second purge deletes nothing.
    assert services.purge() == {"stores": 0, "uploads": 0}


def test_applied_and_running_jobs(admin, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    job = validated(admin, regions["1371"], write_csv(tmp_path / "d.csv", households(1)))
    running = validated(
        admin, regions["1371"], write_csv(tmp_path / "e.csv", households(1, start=5))
    )
    ImportJob.objects.filter(pk=running.pk).update(status=JobStatus.VALIDATING)
    _age(_store(running), 30)
    job = applied(admin, job)
    assert job.status == JobStatus.APPLIED and not _store(job).exists()
    services.purge()
    assert _store(running).exists()  # never under a running job
    assert Path(job.file.path).exists()  # an applied job keeps its upload


def test_dry_run_purges_opportunistically(admin, regions, tmp_path, settings) -> None:  # type: ignore[no-untyped-def]
    settings.TERPADU_IMPORT_CHECKED_TTL_DAYS = 1
    stale = validated(admin, regions["1371"], write_csv(tmp_path / "f.csv", households(1)))
    _age(_store(stale), 2)
    job = upload(admin, regions["1371"], write_csv(tmp_path / "g.csv", households(1, start=4)))
    services.start_validation(job, by=admin)
    job = services.validate(job)
    assert job.status == JobStatus.VALIDATED
    assert not _store(stale).exists() and _store(job).exists()
