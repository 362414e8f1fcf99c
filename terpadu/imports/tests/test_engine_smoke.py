from __future__ import annotations

import pytest

from terpadu.imports import services
from terpadu.imports.models import JobStatus, Mode
from terpadu.registry.models import Person

from .engine_helpers import _imports_env, households, write_csv  # noqa: F401

pytestmark = pytest.mark.django_db


def test_smoke(cast, regions, tmp_path, django_capture_on_commit_callbacks):
    path = write_csv(tmp_path / "a.csv", households(3))
    admin = cast["admin_kabkota"]
    with open(path, "rb") as fh:
        job = services.create_job(
            by=admin, fileobj=fh, original_name="a.csv", region=regions["1371"], mode=Mode.DIRECT
        )
    print(job.mapping)
    services.save_mapping(job, job.mapping, by=admin)
    with django_capture_on_commit_callbacks(execute=True):
        services.start_validation(job, by=admin)
    job.refresh_from_db()
    print(job.status, job.summary, job.error_id)
    assert job.status == JobStatus.VALIDATED
    with django_capture_on_commit_callbacks(execute=True):
        services.start_apply(job, by=admin)
    job.refresh_from_db()
    print(job.status, job.error_id)
    assert job.status == JobStatus.APPLIED
    assert Person.objects.count() == 9
