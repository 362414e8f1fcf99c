"""`terpadu import FILE --region CODE [--dry-run] …`: the same engine from the command line."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from terpadu.imports.models import ImportJob, JobStatus
from terpadu.registry.models import ChangeSet, Person

from .engine_helpers import _imports_env, households, write_csv  # noqa: F401

pytestmark = pytest.mark.django_db


def _run(*args: str) -> tuple[int, str, str]:
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_dry_run_then_direct_apply(cast, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(tmp_path / "f.csv", households(2))
    admin = cast["admin_kabkota"]
    code, out, _ = _run(str(path), "--region", "13.71", "--dry-run", "--user", admin.username)
    assert code == 0 and "6 baris" in out
    assert not Person.objects.exists()
    code, out, err = _run(str(path), "--region", "1371", "--mode", "direct", "--user",
                          admin.username)  # fmt: skip
    assert code == 0, err
    assert Person.objects.count() == 6
    job = ImportJob.objects.filter(status=JobStatus.APPLIED).get()
    assert ChangeSet.objects.get().source_ref == str(job.pk)
    # The same file again: refused, non-zero exit.
    code, _, err = _run(str(path), "--region", "1371", "--mode", "direct", "--user",
                        admin.username)  # fmt: skip
    assert code != 0 and "DITOLAK" in err


def test_errors_and_scope_exit_non_zero(cast, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = households(1)
    rows[0]["NIK"] = "3.2E+15"
    path = write_csv(tmp_path / "f.csv", rows)
    admin = cast["admin_kabkota"]
    code, out, _ = _run(str(path), "--region", "1371", "--dry-run", "--user", admin.username)
    assert code == 1 and "nik.excel_scientific" in out
    code, _, err = _run(str(path), "--region", "1371", "--mode", "direct", "--user",
                        admin.username)  # fmt: skip
    assert code == 2 and "karantina" in err
    code, _, _ = _run(str(path), "--region", "1371", "--mode", "direct", "--quarantine",
                      "--user", admin.username)  # fmt: skip
    assert code == 0 and Person.objects.count() == 0  # the only household is quarantined
    code, _, err = _run(str(path), "--region", "1371", "--user", cast["outsider_kab"].username)
    assert code == 2 and "berwenang" in err


def test_template_must_be_one_the_user_may_use(cast, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from terpadu.imports.models import MappingTemplate

    path = write_csv(tmp_path / "f.csv", households(1))
    admin = cast["admin_kabkota"]
    MappingTemplate.objects.create(name="Milik wilayah lain", region=regions["1372"], mapping={})
    with pytest.raises(CommandError, match="di luar wilayah"):
        _run(str(path), "--region", "1371", "--dry-run", "--user", admin.username,
             "--template", "Milik wilayah lain")  # fmt: skip
    MappingTemplate.objects.create(name="Nasional", region=None, mapping={"NIK": "nik"})
    code, out, _ = _run(str(path), "--region", "1371", "--dry-run", "--user", admin.username,
                        "--template", "Nasional")  # fmt: skip
    assert code == 0, out
