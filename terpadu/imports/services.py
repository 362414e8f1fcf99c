"""The imports API the pages, the CLI and the tasks call (and nothing else).

A job goes uploaded → mapped → validating → validated → applying → applied (or failed,
cancelled, duplicate). Validation never writes the registry; it stores its checked batches with a
fingerprint, and the apply reuses them when nothing they depend on changed, running again
only the rules that depend on the registry (which may have changed since the dry run) —
else it validates the whole file again — and then writes everything in one transaction
(see applying.py).

Progress: counters live in the ImportJob row and are updated once per batch. During
validation that is a plain autocommit UPDATE. During apply the registry transaction is open,
so on PostgreSQL the counters go through a second, autocommit connection (visible at once);
SQLite allows one writer only, so while an apply transaction is open the counters go to a
small JSON file next to the upload (`_Live`) that `progress()` reads, and the row gets them at
the end. Cancelling works the same way: the flag in the row (read on PostgreSQL inside the
apply) or, on SQLite during apply, a marker file.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO

import polars as pl
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from terpadu.accounts.access import Action, can, in_scope
from terpadu.core.signals import announce_bulk_change
from terpadu.imports import applying, mapping, validation
from terpadu.imports.models import (
    RUNNING_STATUSES,
    ImportIssue,
    ImportJob,
    JobStatus,
    MappingTemplate,
    Mode,
)
from terpadu.imports.reading import DEFAULT_BATCH_ROWS, FileInfo, ReadError, fmt_of, sniff
from terpadu.imports.reading import sample_rows as _sample_rows
from terpadu.regions.models import Level, Region
from terpadu.registry.records import RecordIssue, RegistryError

if TYPE_CHECKING:
    from terpadu.accounts.models import User

logger = logging.getLogger(__name__)

DIRECT_ROLES = frozenset({"admin_kabkota"})
MAX_FIRST_ISSUES = 1_000_000  # ImportIssue rows kept per job (the summary counts all)


class ImportRefused(RegistryError):
    """An import step was refused; `issues` says why (Indonesian and English)."""


def _refuse(code: str, message_id: str, message_en: str, path: str = "") -> ImportRefused:
    return ImportRefused([RecordIssue(path, code, "error", message_id, message_en)])


# --- permission and scope -----------------------------------------------------------------


def can_import(user: User, region: Region) -> bool:
    """Whether `user` may import into `region` (Action.EDIT over it)."""
    return can(user, Action.EDIT, region.digits)


def can_direct(user: User) -> bool:
    """Direct (non-proposal) loads are for admin kab/kota and superusers."""
    return bool(user.is_superuser or user.role in DIRECT_ROLES)


def _ensure_job(user: User, job: ImportJob) -> None:
    if not can(user, Action.EDIT, job.region_code):
        raise PermissionDenied


def jobs_for(user: User) -> QuerySet[ImportJob]:
    """The import jobs `user` may see: in the user's scope (Action.EDIT), newest first."""
    return in_scope(ImportJob.objects.all(), user, Action.EDIT).select_related(
        "created_by", "region"
    )


# --- upload and mapping ---------------------------------------------------------------------


def _info(job: ImportJob) -> FileInfo:
    return FileInfo(
        job.fmt,
        list(job.headers),
        encoding=job.encoding,
        delimiter=job.delimiter,
        sheet=job.sheet,
    )


def _path(job: ImportJob) -> Path:
    return Path(job.file.path)


def create_job(
    *,
    by: User,
    fileobj: IO[bytes],
    original_name: str,
    region: Region,
    mode: str = Mode.PROPOSAL,
) -> ImportJob:
    """Store an upload, sniff it and suggest a mapping (status "uploaded"); a file already
    applied in the same region gets status "duplicate" and is never applied again."""
    if not can_import(by, region):
        raise PermissionDenied
    if mode not in Mode.values:
        raise _refuse("mode", "Mode impor tidak dikenal.", "Unknown import mode.", "mode")
    if mode == Mode.DIRECT and not can_direct(by):
        raise _refuse(
            "mode_forbidden",
            "Muat langsung hanya untuk admin kab/kota; gunakan mode usulan.",
            "Direct loads are for regency admins only; use proposal mode.",
            "mode",
        )
    try:
        fmt = fmt_of(original_name)
    except ReadError as exc:
        raise _refuse(exc.code, exc.message_id, exc.message_en, "file") from exc
    digest = hashlib.sha256()
    size = 0
    with contextlib.suppress(AttributeError, OSError):
        fileobj.seek(0)
    for chunk in iter(lambda: fileobj.read(1 << 20), b""):
        digest.update(chunk)
        size += len(chunk)
    fileobj.seek(0)
    job = ImportJob(
        created_by=by,
        region=region,
        region_code=region.digits,
        mode=mode,
        original_name=original_name[:255],
        fmt=fmt,
        sha256=digest.hexdigest(),
        size=size,
    )
    safe_name = Path(original_name).name or f"impor.{fmt}"
    job.file.save(safe_name, File(fileobj, name=safe_name), save=False)
    try:
        info = sniff(_path(job), fmt)
    except ReadError as exc:
        job.file.delete(save=False)
        raise _refuse(exc.code, exc.message_id, exc.message_en, "file") from exc
    job.headers, job.encoding, job.delimiter, job.sheet = (
        info.headers,
        info.encoding,
        info.delimiter,
        info.sheet,
    )
    job.rows_total = info.rows_estimate  # exact after the dry run
    template = _best_template(job)
    job.mapping = mapping.suggest(info.headers, template.mapping if template else None)
    job.template = template
    job.duplicate_of = _applied_twin(job)
    if job.duplicate_of is not None:
        job.status = JobStatus.DUPLICATE
    job.save()
    return job


def _applied_twin(job: ImportJob) -> ImportJob | None:
    return (
        ImportJob.objects.filter(
            region_code=job.region_code, sha256=job.sha256, status=JobStatus.APPLIED
        )
        .exclude(pk=job.pk)
        .order_by("pk")
        .first()
    )


def _best_template(job: ImportJob) -> MappingTemplate | None:
    """A saved template covering every header of the file, the user's region first."""
    wanted = set(mapping.as_template({h: None for h in job.headers}))
    for template in templates_for(job.created_by, job.region):
        if wanted and wanted <= set(template.mapping):
            return template
    return None


def templates_for(user: User, region: Region | None = None) -> QuerySet[MappingTemplate]:
    """Templates usable by `user`: national ones and those of regions in the user's scope;
    with `region`, only national ones and those of `region` or a region above it."""
    from django.db.models import Q

    from terpadu.regions.models import prefix_q

    qs = MappingTemplate.objects.filter(
        Q(region__isnull=True) | prefix_q("region__digits", user.scope)
    )
    if region is not None:
        above = [region.digits[:n] for n in (2, 4, 6, 10) if n <= len(region.digits)]
        qs = qs.filter(Q(region__isnull=True) | Q(region__digits__in=above))
    return qs.select_related("region").order_by("name")


def suggest_mapping(job: ImportJob) -> dict[str, str | None]:
    """Raw header → column key (None = ignored), from the built-in headers and templates."""
    template = job.template.mapping if job.template else None
    return mapping.suggest(job.headers, template)


def sample_rows(job: ImportJob, n: int = 5) -> list[list[str]]:
    """The first `n` data rows of the file, as text."""
    return _sample_rows(_path(job), _info(job), n)


def save_mapping(
    job: ImportJob,
    new_mapping: Mapping[str, str | None],
    *,
    by: User,
    template_name: str = "",
) -> ImportJob:
    """Check and store the mapping (status "mapped"); optionally save it as a template."""
    _ensure_job(by, job)
    if job.status in (JobStatus.VALIDATING, JobStatus.APPLYING, JobStatus.APPLIED):
        raise _refuse(
            "busy",
            "Pemetaan tidak dapat diubah pada tahap ini.",
            "The mapping cannot be changed at this stage.",
        )
    clean = {h: (new_mapping.get(h) or None) for h in job.headers}
    issues = mapping.check(clean, region_is_desa=job.region.level == Level.DESA)
    if issues:
        raise ImportRefused(issues)
    with transaction.atomic():
        if template_name.strip():
            template, _ = MappingTemplate.objects.update_or_create(
                region=job.region,
                name=template_name.strip()[:80],
                defaults={"mapping": mapping.as_template(clean), "created_by": by},
            )
            job.template = template
        job.mapping = clean
        if job.status != JobStatus.DUPLICATE:
            job.status = JobStatus.MAPPED
        job.save(update_fields=["mapping", "template", "status"])
    return job


def apply_template(job: ImportJob, template: MappingTemplate) -> ImportJob:
    """Re-suggest the job's mapping from `template` (saved with save_mapping)."""
    job.template = template
    job.mapping = mapping.suggest(job.headers, template.mapping)
    job.save(update_fields=["template", "mapping"])
    return job


# --- progress side channel ---------------------------------------------------------------------


def _live_file(job_pk: int, kind: str) -> Path:
    folder = Path(settings.MEDIA_ROOT) / "imports" / "live"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{job_pk}.{kind}"


class _Live:
    """Counters visible while the apply transaction is open (see module docstring)."""

    def __init__(self, job: ImportJob) -> None:
        self.job = job
        self.conn: Any = None
        if connection.vendor == "postgresql":
            try:  # the same parameters (OPTIONS included) as the apply's own connection
                self.conn = connection.get_new_connection(connection.get_connection_params())
                self.conn.autocommit = True
            except Exception:
                logger.warning("import %s: no side connection, progress via files", job.pk)

    def update(self, **counters: int) -> None:
        if self.conn is not None:
            sets = ", ".join(f"{name} = %s" for name in counters)
            with contextlib.suppress(Exception):
                self.conn.execute(
                    f"UPDATE {ImportJob._meta.db_table} SET {sets} WHERE id = %s",  # noqa: S608
                    [*counters.values(), self.job.pk],
                )
            return
        path = _live_file(self.job.pk, "json")
        path.write_text(json.dumps(counters))

    def cancel_requested(self) -> bool:
        """The job's cancel flag as committed by the cancel view: over the side connection
        where there is one (a query on the apply's own would wait for its queued writes),
        else through the ORM; or the cancel marker file."""
        flag = None
        if self.conn is not None:
            with contextlib.suppress(Exception):
                row = self.conn.execute(
                    f"SELECT cancel_requested FROM {ImportJob._meta.db_table} WHERE id = %s",  # noqa: S608
                    [self.job.pk],
                ).fetchone()
                flag = bool(row and row[0])
        if flag is None:
            flag = _cancelled(self.job)
        return flag or _cancel_marked(self.job.pk)

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
        with contextlib.suppress(OSError):
            _live_file(self.job.pk, "json").unlink()


# --- the stored dry run ------------------------------------------------------------------------
# The dry run keeps its checked batches (cleaned, typed values + the raw cells) as Arrow IPC
# files with its file findings and a fingerprint of everything those depend on. The apply
# uses them when the fingerprint still matches, re-running only the registry rules; else it
# validates the whole file again.

STORE_VERSION = 1


def _store_dir(job: ImportJob) -> Path:
    return Path(settings.MEDIA_ROOT) / "imports" / "checked" / str(job.pk)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fingerprint(job: ImportJob, ctx: validation.Context, user: User | None) -> dict[str, Any]:
    """What the file findings and cleaned values depend on besides the rules' code: the
    file's bytes, how it is read and mapped, the region and its current desa, the user
    (scope) and the day (dates in the future are refused)."""

    def digest(value: Any) -> str:
        return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()

    return {
        "version": STORE_VERSION,
        "sha256": _file_sha256(_path(job)),
        "read": digest([job.fmt, list(job.headers), job.encoding, job.delimiter, job.sheet]),
        "mapping": digest(dict(job.mapping or {})),
        "region": job.region_code,
        "desa": digest(sorted(ctx.desa.items())),
        "user": user.pk if user is not None else None,
        "day": timezone.localdate().isoformat(),
    }


def _drop_store(job: ImportJob) -> None:
    shutil.rmtree(_store_dir(job), ignore_errors=True)


def checked_ttl_days() -> int:
    """Days a checked dry run (and the upload of a failed/cancelled/duplicate job) is kept:
    ``TERPADU_IMPORT_CHECKED_TTL_DAYS``, default 7."""
    return int(getattr(settings, "TERPADU_IMPORT_CHECKED_TTL_DAYS", 7))


# Statuses whose upload is no longer needed once they are older than the TTL.
_PURGEABLE_UPLOADS = (JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.DUPLICATE)


def purge(*, now: dt.datetime | None = None, ttl_days: int | None = None) -> dict[str, int]:
    """Delete what an import no longer needs (it holds NIKs): checked dry-run stores of
    jobs that are gone, cancelled or applied, and of any job not running whose store is
    older than the TTL; the uploads of failed, cancelled and duplicate jobs older than the
    TTL (the job rows and their issues stay). Returns {"stores": n, "uploads": n}."""
    now = now or timezone.now()
    ttl = dt.timedelta(days=checked_ttl_days() if ttl_days is None else ttl_days)
    cutoff = now - ttl
    root = Path(settings.MEDIA_ROOT) / "imports" / "checked"
    folders = {int(p.name): p for p in root.glob("*") if p.is_dir() and p.name.isdigit()}
    statuses = {
        pk: (status, created)
        for pk, status, created in ImportJob.objects.filter(pk__in=list(folders)).values_list(
            "pk", "status", "created_at"
        )
    }
    stores = 0
    for pk, folder in folders.items():
        status, created = statuses.get(pk, (None, now))
        if status in RUNNING_STATUSES:
            continue
        if status in _PURGEABLE_UPLOADS and created < cutoff:  # its upload goes too
            shutil.rmtree(folder, ignore_errors=True)
            stores += 1
            continue
        try:
            mtime = dt.datetime.fromtimestamp(folder.stat().st_mtime, tz=dt.UTC)
        except OSError:
            continue
        if status in (None, JobStatus.CANCELLED, JobStatus.APPLIED) or mtime < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            stores += 1
    uploads = 0
    old = ImportJob.objects.filter(status__in=_PURGEABLE_UPLOADS, created_at__lt=cutoff).exclude(
        file=""
    )
    for job in old.only("pk", "file"):
        with contextlib.suppress(OSError):
            job.file.storage.delete(job.file.name)
        uploads += 1
    if uploads:
        old.update(file="")
    return {"stores": stores, "uploads": uploads}


def _drop_superseded(job: ImportJob) -> None:
    """A new dry run supersedes the stores of earlier, idle jobs of the same file in the
    same region (re-uploads)."""
    earlier = (
        ImportJob.objects.filter(sha256=job.sha256, region_code=job.region_code, pk__lt=job.pk)
        .exclude(status__in=RUNNING_STATUSES)
        .values_list("pk", flat=True)
    )
    root = Path(settings.MEDIA_ROOT) / "imports" / "checked"
    for pk in earlier:
        shutil.rmtree(root / str(pk), ignore_errors=True)


def _save_store(
    job: ImportJob, ctx: validation.Context, user: User | None, result: validation.Result
) -> None:
    folder = _store_dir(job)
    validation.findings_frame(result.file_findings).write_ipc(folder / "findings.arrow")
    manifest = {"fingerprint": _fingerprint(job, ctx, user), "rows_total": result.rows_total}
    # The manifest last: a store without one (a crash, a cancel) is never used.
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _stored_result(
    job: ImportJob, ctx: validation.Context, user: User | None, sink: _IssueWriter
) -> validation.Result | None:
    """The stored dry run with the registry rules run again, or None when there is no
    usable store (missing, or anything it depends on changed)."""
    folder = _store_dir(job)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return None
    if manifest.get("fingerprint") != _fingerprint(job, ctx, user):
        return None
    batches = sorted(folder.glob("batch-*.arrow"))
    try:
        findings = validation.findings_of(pl.read_ipc(folder / "findings.arrow"))
        slim = (
            pl.scan_ipc(batches).select(validation.SLIM_COLUMNS).collect()
            if batches
            else pl.DataFrame(schema={validation.ROW: pl.Int64})
        )
    except (OSError, pl.exceptions.PolarsError):
        return None
    ImportIssue.objects.filter(job=job).delete()
    return validation.rerun_registry(ctx, manifest["rows_total"], findings, slim, sink=sink)


def _cancel_marked(job_pk: int) -> bool:
    return _live_file(job_pk, "cancel").exists()


def _set(job: ImportJob, **fields: Any) -> None:
    """Write `fields` on the row now (autocommit) and on the instance."""
    ImportJob.objects.filter(pk=job.pk).update(**fields)
    for name, value in fields.items():
        setattr(job, name, value)


# --- validation ----------------------------------------------------------------------------------


def _ensure_mapped(job: ImportJob) -> None:
    issues = mapping.check(job.mapping or {}, region_is_desa=job.region.level == Level.DESA)
    if not job.mapping or issues:
        raise ImportRefused(
            issues
            or [
                RecordIssue(
                    "mapping",
                    "not_mapped",
                    "error",
                    "Kolom berkas belum dipetakan.",
                    "The file's columns are not mapped yet.",
                )
            ]
        )


def _ensure_not_duplicate(job: ImportJob) -> None:
    if job.status == JobStatus.DUPLICATE or _applied_twin(job) is not None:
        twin = job.duplicate_of or _applied_twin(job)
        ref = twin.pk if twin else "?"
        raise _refuse(
            "duplicate",
            f"Berkas yang sama sudah diterapkan di wilayah ini (impor #{ref}).",
            f"The same file was already applied in this region (import #{ref}).",
        )


def start_validation(job: ImportJob, *, by: User, enqueue: bool = True) -> ImportJob:
    """Queue the dry run (status "validating"); `enqueue=False` when the caller runs
    `validate` itself (the command line), so that no worker runs it a second time."""
    _ensure_job(by, job)
    _ensure_not_duplicate(job)
    _ensure_mapped(job)
    if job.is_running:
        return job
    _set(job, status=JobStatus.VALIDATING, cancel_requested=False, error_id="", error_en="")
    # A cancel marker left by an earlier run would stop this one at once (as in start_apply).
    with contextlib.suppress(OSError):
        _live_file(job.pk, "cancel").unlink()
    if enqueue:
        _enqueue("run_validation", job.pk)
    return job


def _enqueue(name: str, job_pk: int) -> None:
    from terpadu.imports import tasks

    def go() -> None:
        result = getattr(tasks, name).enqueue(job_pk)
        ImportJob.objects.filter(pk=job_pk).update(task_id=str(getattr(result, "id", ""))[:64])

    transaction.on_commit(go)


def _context(job: ImportJob, user: User | None) -> validation.Context:
    return validation.Context(
        region=job.region, user=user, info=_info(job), mapping=dict(job.mapping or {})
    )


class _IssueWriter:
    """Bulk-inserts findings as ImportIssue rows as they come (autocommit per call)."""

    def __init__(self, job: ImportJob) -> None:
        self.job = job
        self.written = 0

    def __call__(self, found: list[validation.Finding]) -> None:
        room = MAX_FIRST_ISSUES - self.written
        if room <= 0 or not found:
            return
        rows = [
            ImportIssue(
                job=self.job,
                row_no=f.row_no,
                column_header=f.column[:120],
                value=(f.value or "")[:255],
                rule=f.rule[:40],
                severity=f.severity,
                message_id=f.message_id,
                message_en=f.message_en,
            )
            for f in found[:room]
        ]
        ImportIssue.objects.bulk_create(rows, batch_size=2000)
        self.written += len(rows)


def _run_validation(
    job: ImportJob,
    *,
    user: User | None,
    spill: Path | None,
    live: _Live | None,
    batch_size: int,
    on_progress: Callable[[str, int], None] | None = None,
    match_duplicates: bool = False,
) -> tuple[validation.Context, validation.Result]:
    ctx = _context(job, user)
    ImportIssue.objects.filter(job=job).delete()
    writer = _IssueWriter(job)
    counter = {"n": 0}
    # Checked batches go to disk on a second thread while the next one is checked (Polars
    # writes without the interpreter lock); `result()` below re-raises a failed write.
    spilling = ThreadPoolExecutor(max_workers=1, thread_name_prefix="terpadu-spill")
    spilled: list[Future[None]] = []

    def on_batch(checked: validation.Checked) -> None:
        if spill is not None:
            path = applying.spill_path(spill, counter["n"])
            spilled.append(spilling.submit(checked.frame.write_ipc, path))
        counter["n"] += 1
        rows = ctx.rows_read
        if live is not None:
            live.update(rows_read=rows, rows_validated=rows)
        else:
            _set(job, rows_read=rows, rows_validated=rows)
        if on_progress is not None:
            on_progress("validating", rows)
        if _cancelled(job):
            raise applying.Cancelled

    try:
        result = validation.run(
            ctx,
            _path(job),
            batch_size=batch_size,
            on_batch=on_batch,
            sink=writer,
            match_duplicates=match_duplicates,  # warnings only: the dry run asks, the apply not
        )
        for written in spilled:
            written.result()
    finally:
        spilling.shutdown(wait=True)
    return ctx, result


def _cancelled(job: ImportJob) -> bool:
    flag = ImportJob.objects.filter(pk=job.pk).values_list("cancel_requested", flat=True).first()
    return bool(flag) or _cancel_marked(job.pk)


def _finish_counts(job: ImportJob, result: validation.Result) -> dict[str, Any]:
    return {
        "rows_total": result.rows_total,
        "rows_read": result.rows_total,
        "rows_validated": result.rows_total,
        "rows_invalid": len(result.error_rows),
        "rows_warning": len(result.warning_rows),
        "rows_valid": result.rows_total - len(result.error_rows),
        "summary": validation.summarise(result.findings),
        "validated_at": timezone.now(),
    }


def validate(
    job: ImportJob,
    *,
    batch_size: int = DEFAULT_BATCH_ROWS,
    on_progress: Callable[[str, int], None] | None = None,
) -> ImportJob:
    """Task body of the dry run: issues, summary and counts; never writes the registry."""
    job.refresh_from_db()
    if job.status not in (JobStatus.VALIDATING, JobStatus.MAPPED, JobStatus.VALIDATED):
        return job
    _set(
        job,
        status=JobStatus.VALIDATING,
        phase_started_at=timezone.now(),
        started_at=job.started_at or timezone.now(),
        rows_read=0,
        rows_validated=0,
    )
    _drop_store(job)
    try:  # opportunistic clean-up; never in the way of the dry run
        purge()
        _drop_superseded(job)
    except Exception:
        logger.exception("import purge failed")
    store = _store_dir(job)
    store.mkdir(parents=True, exist_ok=True)
    try:
        ctx, result = _run_validation(
            job,
            user=job.created_by,
            spill=store,
            live=None,
            batch_size=batch_size,
            on_progress=on_progress,
            match_duplicates=True,
        )
        _save_store(job, ctx, job.created_by, result)
    except applying.Cancelled:
        _drop_store(job)
        _set(job, status=JobStatus.CANCELLED, finished_at=timezone.now())
        return job
    except Exception as exc:
        logger.exception("import %s validation failed", job.pk)
        _fail(job, exc)
        return job
    _set(job, status=JobStatus.VALIDATED, **_finish_counts(job, result))
    return job


def _fail(job: ImportJob, exc: Exception) -> None:
    if isinstance(exc, RegistryError):
        errors = exc.errors or exc.issues
        msg_id = "; ".join(f"{i.path}: {i.message_id}" for i in errors[:20])
        msg_en = "; ".join(f"{i.path}: {i.message_en}" for i in errors[:20])
    else:
        # The detail is for whoever the operator reports it to; the traceback is logged.
        msg_id = f"Kesalahan sistem; tidak ada yang diterapkan ({type(exc).__name__}: {exc})"
        msg_en = f"System error; nothing was applied ({type(exc).__name__}: {exc})"
        msg_id, msg_en = msg_id[:2000], msg_en[:2000]
    _set(job, status=JobStatus.FAILED, error_id=msg_id, error_en=msg_en, finished_at=timezone.now())


# --- apply ----------------------------------------------------------------------------------


def start_apply(
    job: ImportJob, *, by: User, quarantine: bool = False, enqueue: bool = True
) -> ImportJob:
    """Queue the apply (status "applying") after checking rights, mode and duplicates;
    `enqueue=False` when the caller runs `apply` itself (the command line)."""
    _ensure_job(by, job)
    _ensure_not_duplicate(job)
    _ensure_mapped(job)
    if job.mode == Mode.DIRECT and not can_direct(by):
        raise PermissionDenied
    if job.status not in (JobStatus.VALIDATED, JobStatus.FAILED, JobStatus.CANCELLED):
        raise _refuse(
            "not_validated",
            "Jalankan pemeriksaan (uji coba) dulu sebelum menerapkan.",
            "Run the check (dry run) before applying.",
        )
    if job.rows_invalid and not quarantine:
        raise _refuse(
            "has_errors",
            f"{job.rows_invalid} baris bermasalah: perbaiki berkas, atau terapkan baris yang "
            f"valid saja dengan karantina.",
            f"{job.rows_invalid} rows have errors: fix the file, or apply the valid rows "
            f"only with quarantine.",
        )
    _set(
        job,
        status=JobStatus.APPLYING,
        quarantine=quarantine,
        applied_by=by,
        cancel_requested=False,
        error_id="",
        error_en="",
        rows_applied=0,
    )
    with contextlib.suppress(OSError):
        _live_file(job.pk, "cancel").unlink()
    if enqueue:
        _enqueue("run_apply", job.pk)
    return job


def apply(
    job: ImportJob,
    *,
    batch_size: int = DEFAULT_BATCH_ROWS,
    on_progress: Callable[[str, int], None] | None = None,
) -> ImportJob:
    """Task body of the apply: validate again, then write all or nothing (see module doc)."""
    job.refresh_from_db()
    if job.status != JobStatus.APPLYING:
        return job
    twin = _applied_twin(job)
    if twin is not None:
        _set(job, status=JobStatus.DUPLICATE, duplicate_of=twin)
        return job
    by = job.applied_by or job.created_by
    _set(job, phase_started_at=timezone.now(), rows_read=0, rows_validated=0, rows_applied=0)
    tmp: Path | None = None
    live = _Live(job)
    try:
        ctx = _context(job, by)
        result = _stored_result(job, ctx, by, _IssueWriter(job))
        if result is not None:
            spilled = _store_dir(job)
            if on_progress is not None:
                on_progress("validating", result.rows_total)
        else:
            # No usable dry run: validate the whole file again, spilling to a temp folder.
            tmp = spilled = Path(tempfile.mkdtemp(prefix=f"terpadu-import-{job.pk}-"))
            ctx, result = _run_validation(
                job, user=by, spill=tmp, live=None, batch_size=batch_size, on_progress=on_progress
            )
        counts = _finish_counts(job, result)
        _set(job, **counts)
        if result.error_rows and not job.quarantine:
            _set(
                job,
                status=JobStatus.VALIDATED,
                error_id=f"{len(result.error_rows)} baris bermasalah; tidak ada yang diterapkan.",
                error_en=f"{len(result.error_rows)} rows have errors; nothing was applied.",
            )
            return job
        the_plan = applying.plan(result.slim, result.error_rows, quarantine=job.quarantine)
        _set(job, phase_started_at=timezone.now())
        with _page_cache(), transaction.atomic():
            outcome = applying.apply_checked(
                job,
                ctx,
                spilled,
                by=by,
                current=result.current,
                the_plan=the_plan,
                on_batch=lambda n: _applied_progress(live, n, on_progress),
                cancelled=live.cancel_requested,
            )
            region_code = job.region_code
            ref = str(job.pk)
            transaction.on_commit(
                lambda: announce_bulk_change(
                    ImportJob, source="import", ref=ref, region_code=region_code
                )
            )
    except applying.Cancelled:
        _drop_store(job)
        _set(job, status=JobStatus.CANCELLED, finished_at=timezone.now(), rows_applied=0)
        return job
    except Exception as exc:
        if isinstance(exc, RegistryError):
            logger.info("import %s apply refused: %s", job.pk, exc)
        else:
            logger.exception("import %s apply failed", job.pk)
        _fail(job, exc)
        job.rows_applied = 0
        ImportJob.objects.filter(pk=job.pk).update(rows_applied=0)
        return job
    finally:
        live.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        with contextlib.suppress(OSError):
            _live_file(job.pk, "cancel").unlink()
    _drop_store(job)  # applied: the file is never applied again, its dry run not needed
    _set(
        job,
        status=JobStatus.APPLIED,
        finished_at=timezone.now(),
        rows_applied=outcome.rows_applied,
        rows_quarantined=outcome.quarantined,
        households_new=outcome.households,
        persons_updated=outcome.persons_updated,
        proposals_created=outcome.proposals,
        changeset=outcome.changeset,
    )
    return job


SQLITE_APPLY_CACHE_KIB = 256 * 1024


@contextlib.contextmanager
def _page_cache() -> Iterator[None]:
    """SQLite: a 256 MiB page cache for the apply's connection while it writes (default
    2 MiB): the person indexes (NIK, names) take random inserts, and with the default cache
    every one of them goes back to the file; ≈ 40 % off the person writes at 300 k rows."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_APPLY_CACHE_KIB}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {before}")


def _applied_progress(
    live: _Live, rows: int, on_progress: Callable[[str, int], None] | None
) -> None:
    live.update(rows_applied=rows)
    if on_progress is not None:
        on_progress("applying", rows)


def request_cancel(job: ImportJob, *, by: User) -> ImportJob:
    """Ask a running job to stop; it rolls back at the next batch boundary."""
    _ensure_job(by, job)
    _live_file(job.pk, "cancel").touch()
    if job.status == JobStatus.APPLYING and connection.vendor == "sqlite":
        return job  # the row is behind the apply's write lock; the marker file is read
    if job.is_running:
        _set(job, cancel_requested=True)
    elif job.status in (JobStatus.UPLOADED, JobStatus.MAPPED, JobStatus.VALIDATED):
        _set(job, status=JobStatus.CANCELLED, cancel_requested=True, finished_at=timezone.now())
        _drop_store(job)
    return job


# --- reading the state ----------------------------------------------------------------------


def progress(job: ImportJob) -> dict[str, Any]:
    """status, phase, rows_total/read/validated/applied, percent, eta_seconds, done."""
    job.refresh_from_db()
    counters = {
        "rows_read": job.rows_read,
        "rows_validated": job.rows_validated,
        "rows_applied": job.rows_applied,
    }
    if job.status == JobStatus.APPLYING:
        with contextlib.suppress(OSError, ValueError):
            counters.update(json.loads(_live_file(job.pk, "json").read_text()))
    total = job.rows_total or 0
    if job.status == JobStatus.APPLYING:
        phase = "applying" if counters["rows_applied"] else "validating"
        done_rows = counters["rows_applied"] or counters["rows_validated"]
        # Apply = a validation pass plus the writes: each half of the bar.
        part = done_rows / total if total else 0.0
        percent = 50 * part + (50 if counters["rows_applied"] else 0)
    elif job.status == JobStatus.VALIDATING:
        phase = "validating"
        part = counters["rows_validated"] / total if total else 0.0
        percent = 100 * part if total else 0
    else:
        phase = job.status
        part = 1.0 if job.is_final or job.status == JobStatus.VALIDATED else 0.0
        percent = 100.0 if part else 0.0
    eta = None
    if job.is_running and job.phase_started_at and 0 < part < 1:
        elapsed = (timezone.now() - job.phase_started_at).total_seconds()
        eta = int(elapsed * (1 - part) / part)
    return {
        "status": job.status,
        "phase": phase,
        "rows_total": total,
        "rows_read": counters["rows_read"],
        "rows_validated": counters["rows_validated"],
        "rows_applied": counters["rows_applied"],
        "percent": int(min(100, max(0, percent))),
        "eta_seconds": eta,
        "done": not job.is_running,
    }


def rule_summary(job: ImportJob) -> list[dict[str, Any]]:
    """Per rule: code, message_id/en, severity, count, first_rows [{row_no, column, value}]."""
    return list(job.summary or [])


def write_error_report(job: ImportJob, out: BinaryIO) -> None:
    """xlsx of the original rows that have issues plus BARIS, KESALAHAN and ERROR columns."""
    from terpadu.imports.reports import write_error_report as write

    if not job.file:  # purged (see `purge`): the original rows are gone
        from django.http import Http404

        raise Http404
    write(job, out)


def iter_issue_rows(job: ImportJob) -> Iterable[tuple[int, list[str]]]:
    """(row_no, [messages]) for the error report, in row order."""
    current: int | None = None
    msgs: list[tuple[str, str]] = []
    for row_no, mid, men in (
        ImportIssue.objects.filter(job=job)
        .order_by("row_no", "id")
        .values_list("row_no", "message_id", "message_en")
        .iterator(chunk_size=5000)
    ):
        if row_no != current and current is not None:
            yield current, msgs  # type: ignore[misc]
            msgs = []
        current = row_no
        msgs.append((mid, men))
    if current is not None:
        yield current, msgs  # type: ignore[misc]
