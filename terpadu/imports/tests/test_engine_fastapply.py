"""The fast apply: the stored dry run, its fingerprint and fallback, and the column path."""

from __future__ import annotations

import polars as pl
import pytest

from terpadu.imports import applying, services, validation
from terpadu.imports.models import JobStatus
from terpadu.imports.reading import ROW
from terpadu.registry import records
from terpadu.registry.models import ChangeSet, Person
from terpadu.registry.tests.test_records_precleaned import _snapshot

from .engine_helpers import (
    DESA2,
    _imports_env,  # noqa: F401
    applied,
    households,
    kk,
    person,
    validated,
    write_csv,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(cast):  # type: ignore[no-untyped-def]
    return cast["admin_kabkota"]


def _rows() -> list[dict]:
    """Households of one and two KKs, several desa, blank optional cells, rows out of order."""
    rows = households(3) + households(2, size=2, start=4, region=DESA2)
    # Household 2 gets a second KK (its own head) listed after household 3's rows.
    rows.append(person(2, 4, NO_KK=kk(90), HUB_KELUARGA="1", NAMA="  dr. Kedua   KK "))
    rows.append(person(2, 5, NO_KK=kk(90), NAMA_IBU_KANDUNG="", TEMPAT_LAHIR=""))
    rows.append(person(3, 4, ALAMAT="Alamat lain (bukan baris pertama)"))
    return rows


def test_frames_write_what_bundles_write(admin, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The apply's column path gives the rows create_households_bulk gives for the bundles the
    row path (`Applier._bundle`) builds from the same checked rows."""
    job = validated(admin, regions["1371"], write_csv(tmp_path / "f.csv", _rows()), mode="direct")
    assert job.rows_invalid == 0, job.summary
    frame = pl.concat(list(applying.iter_spilled(services._store_dir(job)))).sort(ROW)
    ctx = services._context(job, admin)
    the_plan = applying.plan(frame.select(validation.SLIM_COLUMNS), set(), quarantine=False)
    applier = applying.Applier(job, ctx, by=admin, current={}, the_plan=the_plan)
    groups: dict[str, list[dict]] = {}
    for row in frame.iter_rows(named=True):
        groups.setdefault(row["hh_key"], []).append(row)
    bundles = []
    for rows in groups.values():
        region, hh, fams, row_nos = applier._bundle(rows)
        bundles.append(records.HouseholdBundle(f"baris {row_nos[0]}", region, fams, hh))
    a = ChangeSet.objects.create(reason="bundles", source=ChangeSet.Source.IMPORT)
    records.create_households_bulk(a, bundles)
    b = ChangeSet.objects.create(reason="columns", source=ChangeSet.Source.IMPORT)
    assert records.create_households_precleaned(b, applier.precleaned(frame)) == (5, 6, 16)
    first, second = _snapshot(a), _snapshot(b)
    for key in first:
        assert first[key] == second[key], key


def test_apply_uses_the_stored_dry_run(admin, regions, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    job = validated(admin, regions["1371"], write_csv(tmp_path / "f.csv", _rows()), mode="direct")
    assert (services._store_dir(job) / "manifest.json").exists()

    def no_second_pass(*args, **kw):  # type: ignore[no-untyped-def]
        raise AssertionError("the file was validated again")

    monkeypatch.setattr(validation, "check_batch", no_second_pass)
    job = applied(admin, job)
    assert job.status == JobStatus.APPLIED, job.error_id
    assert (job.rows_applied, job.households_new, Person.objects.count()) == (16, 5, 16)
    assert job.summary == [] and job.rows_validated == 16
    assert not services._store_dir(job).exists()  # applied: the stored dry run is dropped


def test_apply_validates_again_when_the_file_changed(admin, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A store whose fingerprint no longer matches is not used: the apply sees the new bytes."""
    job = validated(admin, regions["1371"], write_csv(tmp_path / "f.csv", households(2)),
                    mode="direct")  # fmt: skip
    assert job.rows_invalid == 0
    rows = households(2)
    rows[1]["NIK"] = "3.2E+15"
    write_csv(services._path(job), rows)
    job = applied(admin, job)
    assert job.status == JobStatus.VALIDATED and job.rows_invalid == 1
    assert "nik.excel_scientific" in {r["code"] for r in job.summary}
    assert not Person.objects.exists()


def test_apply_validates_again_for_another_user_or_a_broken_store(
    cast, regions, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    admin = cast["admin_kabkota"]
    calls = {"n": 0}
    real = validation.check_batch

    def counting(*args, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        return real(*args, **kw)

    job = validated(admin, regions["1371"], write_csv(tmp_path / "f.csv", households(2)),
                    mode="direct")  # fmt: skip
    (services._store_dir(job) / "findings.arrow").write_bytes(b"not arrow")
    monkeypatch.setattr(validation, "check_batch", counting)
    job = applied(admin, job)
    assert job.status == JobStatus.APPLIED and calls["n"] > 0
    assert Person.objects.count() == 6


def test_registry_rules_run_again_on_the_stored_dry_run(admin, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = households(2)
    job = validated(admin, regions["1371"], write_csv(tmp_path / "f.csv", rows), mode="direct")
    records.create_household(
        region=regions["1371011002"],
        families=[{"members": [{"nik": rows[4]["NIK"], "name": "Sudah Ada", "sex": 2,
                                "relation_kk": 1}]}],
        by=admin,
        reason="sementara itu",
    )  # fmt: skip
    job = applied(admin, job, quarantine=True)
    assert job.status == JobStatus.APPLIED, job.error_id
    assert "nik_aktif_di_registri" in {r["code"] for r in job.summary}
    assert (job.rows_applied, job.rows_quarantined) == (3, 3)
    assert job.issues.filter(rule="nik_aktif_di_registri").count() == 1
