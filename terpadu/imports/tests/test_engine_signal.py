"""A failing registry_bulk_changed listener never turns a committed import into a failure."""

from __future__ import annotations

from terpadu.core.signals import registry_bulk_changed
from terpadu.imports import services
from terpadu.imports.models import JobStatus
from terpadu.registry.models import Person

from .engine_helpers import (
    _imports_env,  # noqa: F401
    households,
    validated,
    write_csv,
)


def test_a_broken_listener_is_logged_and_the_import_stays_applied(
    cast, regions, tmp_path, django_capture_on_commit_callbacks, caplog
) -> None:  # type: ignore[no-untyped-def]
    admin = cast["admin_kabkota"]
    job = validated(admin, regions["1371"], write_csv(tmp_path / "f.csv", households(1)),
                    mode="direct")  # fmt: skip

    def broken(**kw):  # type: ignore[no-untyped-def]
        raise RuntimeError("listener down")

    registry_bulk_changed.connect(broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.start_apply(job, by=admin)
    finally:
        registry_bulk_changed.disconnect(broken)
    job.refresh_from_db()
    assert job.status == JobStatus.APPLIED
    assert Person.objects.count() == job.rows_applied > 0
    assert "listener down" in caplog.text
