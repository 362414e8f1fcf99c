"""Import pages: jobs list + upload, column mapping, progress, dry-run result, apply, quarantine.

Thin views over `terpadu.imports.services` (the engine): parse with forms.py, find the job in
the user's scope (`jobs_for`, 404 outside), call one service, respond. Every action is a POST
with CSRF; the job page polls a progress fragment (htmx) while a task works, so a reload
shows the same state, which lives in the job's row.
"""

from __future__ import annotations

import tempfile
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from terpadu.accounts.access import Action, log_access, role_allows
from terpadu.core.htmx import is_htmx
from terpadu.editions.exports import Column, Sheet, write_xlsx
from terpadu.imports import services
from terpadu.imports.exports import XLSX_TYPE
from terpadu.imports.forms import (
    ApplyForm,
    MappingForm,
    TemplateChoiceForm,
    UploadForm,
)
from terpadu.imports.models import ImportJob, JobStatus, QuarantinedRow
from terpadu.registry.records import RegistryError

PAGE_SIZE = 25
SAMPLE_ROWS = 5
QUARANTINE_PAGE_SIZE = 50
# Statuses from which the mapping may still be changed (nothing applied, nothing running).
MAPPABLE = frozenset(
    {
        JobStatus.UPLOADED,
        JobStatus.MAPPED,
        JobStatus.VALIDATED,
        JobStatus.FAILED,
        JobStatus.CANCELLED,
    }
)


def _ensure_importer(user: Any) -> None:
    if not role_allows(user, Action.EDIT):
        raise PermissionDenied


def _job_or_404(user: Any, pk: int) -> ImportJob:
    _ensure_importer(user)
    return get_object_or_404(
        services.jobs_for(user).select_related("region", "created_by", "duplicate_of"), pk=pk
    )


def _refused(request: HttpRequest, exc: RegistryError) -> None:
    for issue in exc.errors or exc.issues:
        messages.error(request, issue.message)


# --- list + upload --------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    """The user's import jobs (newest first) and the upload form."""
    _ensure_importer(request.user)
    form = UploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.create_job(
                by=request.user,
                fileobj=upload,
                original_name=upload.name,
                region=form.cleaned_data["region"],
                mode=form.cleaned_data["mode"],
            )
        except RegistryError as exc:
            for issue in exc.errors or exc.issues:
                form.add_error(None, issue.message)
        else:
            if job.status == JobStatus.DUPLICATE:
                return redirect("imports:job", job.pk)
            return redirect("imports:mapping", job.pk)
    jobs = services.jobs_for(request.user).select_related("region", "created_by")
    page = Paginator(jobs.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("hal")
    )
    status = 422 if request.method == "POST" else 200
    return render(request, "imports/home.html", {"form": form, "page": page}, status=status)


# --- mapping --------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """Map each file column to a layout column (pre-filled with the suggestion), optionally
    save it as a named template, then start the dry run."""
    job = _job_or_404(request.user, pk)
    if job.status not in MAPPABLE:
        return redirect("imports:job", job.pk)
    initial = job.mapping or services.suggest_mapping(job)
    form = MappingForm(request.POST or None, headers=list(job.headers), initial_mapping=initial)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.save_mapping(
                job,
                form.mapping(),
                by=request.user,
                template_name=form.cleaned_data["template_name"],
            )
            services.start_validation(job, by=request.user)
        except RegistryError as exc:
            for issue in exc.errors or exc.issues:
                form.add_error(None, issue.message)
        else:
            return redirect("imports:job", job.pk)
    ctx = {
        "job": job,
        "form": form,
        "rows": form.rows(services.sample_rows(job, n=SAMPLE_ROWS)),
        "template_form": TemplateChoiceForm(
            queryset=services.templates_for(request.user, job.region)
        ),
    }
    return render(
        request, "imports/mapping.html", ctx, status=422 if request.method == "POST" else 200
    )


@login_required
@require_POST
def use_template(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply a saved mapping template to the job, back to the mapping page to check it."""
    job = _job_or_404(request.user, pk)
    if job.status not in MAPPABLE:
        return redirect("imports:job", job.pk)
    form = TemplateChoiceForm(
        request.POST, queryset=services.templates_for(request.user, job.region)
    )
    if form.is_valid():
        template = form.cleaned_data["template"]
        services.apply_template(job, template)
        messages.success(
            request, _("Templat “%(name)s” diterapkan; periksa pemetaannya.") % {"name": template}
        )
    else:
        messages.error(request, _("Pilih templat yang tersedia."))
    return redirect("imports:mapping", job.pk)


# --- job page: progress, result, applied summary ----------------------------------------------


def _lang_en() -> bool:
    return (translation.get_language() or "id").startswith("en")


def _rules(job: ImportJob) -> list[dict[str, Any]]:
    """The per-rule summary, titles and each first row's message in the active language."""
    en = _lang_en()

    def pick(item: dict[str, Any]) -> str:
        return item.get("message_en" if en else "message_id") or ""

    return [
        {
            **rule,
            "message": pick(rule),
            "first_rows": [{**r, "message": pick(r)} for r in rule.get("first_rows", [])],
        }
        for rule in services.rule_summary(job)
    ]


@login_required
@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One job: progress while a task runs, else the dry-run result or the applied summary."""
    job = _job_or_404(request.user, pk)
    ctx: dict[str, Any] = {"job": job, "progress": services.progress(job)}
    if job.status in (JobStatus.VALIDATED, JobStatus.APPLIED, JobStatus.FAILED):
        ctx["rules"] = _rules(job)
    if job.status == JobStatus.VALIDATED:
        ctx["apply_form"] = ApplyForm()
    return render(request, "imports/job.html", ctx)


@login_required
@require_GET
def progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress fragment the job page polls; when the task is done, reload the page."""
    job = _job_or_404(request.user, pk)
    state = services.progress(job)
    response = render(request, "imports/_progress.html", {"job": job, "progress": state})
    if state["done"] and is_htmx(request):
        response["HX-Refresh"] = "true"
    return response


@login_required
@require_POST
def start_validation(request: HttpRequest, pk: int) -> HttpResponse:
    """Run the dry run again (after a mapping change or a cancelled run)."""
    job = _job_or_404(request.user, pk)
    try:
        services.start_validation(job, by=request.user)
    except RegistryError as exc:
        _refused(request, exc)
    return redirect("imports:job", job.pk)


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask the running task to stop; it rolls back whatever it had started."""
    job = _job_or_404(request.user, pk)
    try:
        services.request_cancel(job, by=request.user)
    except RegistryError as exc:
        _refused(request, exc)
    else:
        messages.info(request, _("Pembatalan diminta; tidak ada data yang diterapkan."))
    return redirect("imports:job", job.pk)


@login_required
@require_POST
def apply(request: HttpRequest, pk: int) -> HttpResponse:
    """Apply all rows (only when the dry run found no error) or, explicitly confirmed, the
    valid rows with the rest quarantined."""
    job = _job_or_404(request.user, pk)
    form = ApplyForm(request.POST)
    if job.status != JobStatus.VALIDATED:
        messages.error(request, _("Impor ini tidak dalam keadaan siap diterapkan."))
        return redirect("imports:job", job.pk)
    if not form.is_valid():
        ctx = {
            "job": job,
            "progress": services.progress(job),
            "rules": _rules(job),
            "apply_form": form,
        }
        return render(request, "imports/job.html", ctx, status=422)
    if not form.quarantine and job.rows_invalid:
        messages.error(
            request,
            _("Masih ada baris dengan kesalahan: perbaiki berkas, atau terapkan baris valid saja."),
        )
        return redirect("imports:job", job.pk)
    try:
        services.start_apply(job, by=request.user, quarantine=form.quarantine)
    except RegistryError as exc:
        _refused(request, exc)
    return redirect("imports:job", job.pk)


# --- downloads ------------------------------------------------------------------------------


def _download_name(job: ImportJob, what: str) -> str:
    stem = job.original_name.rsplit(".", 1)[0][:60] or "impor"
    return f"{stem}-{what}-{job.pk}.xlsx"


@login_required
@require_GET
def error_report(request: HttpRequest, pk: int) -> FileResponse:
    """The original rows with issues plus KESALAHAN/ERROR columns (engine writes the file)."""
    job = _job_or_404(request.user, pk)
    if job.status not in (JobStatus.VALIDATED, JobStatus.APPLIED, JobStatus.FAILED):
        raise Http404
    out = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the FileResponse
    services.write_error_report(job, out)
    out.seek(0)
    log_access(
        request,
        action="export",
        entity="import_errors",
        entity_id=job.pk,
        region_code=job.region_code,
        purpose="laporan kesalahan impor",
    )
    return FileResponse(
        out,
        as_attachment=True,
        filename=_download_name(job, "kesalahan"),
        content_type=XLSX_TYPE,
    )


@login_required
@require_GET
def quarantine(request: HttpRequest, pk: int) -> HttpResponse:
    """Rows kept back by a quarantined apply, with their original cells."""
    job = _job_or_404(request.user, pk)
    rows = QuarantinedRow.objects.filter(job=job).order_by("row_no", "pk")
    page = Paginator(rows, QUARANTINE_PAGE_SIZE).get_page(request.GET.get("hal"))
    issues = _issues_by_row(job, [r.row_no for r in page.object_list])
    lines = [
        {
            "row": r,
            "cells": [r.data.get(h, "") for h in job.headers],
            "issues": issues.get(r.row_no, []),
        }
        for r in page.object_list
    ]
    ctx = {"job": job, "page": page, "lines": lines}
    return render(request, "imports/quarantine.html", ctx)


def _issues_by_row(job: ImportJob, row_nos: list[int]) -> dict[int, list[str]]:
    en = _lang_en()
    out: dict[int, list[str]] = {}
    for row_no, msg_id, msg_en in job.issues.filter(row_no__in=row_nos).values_list(
        "row_no", "message_id", "message_en"
    ):
        out.setdefault(row_no, []).append(msg_en if en else msg_id)
    return out


@login_required
@require_GET
def quarantine_download(request: HttpRequest, pk: int) -> FileResponse:
    """The quarantined rows as xlsx in the file's own columns (fix them and upload again)."""
    job = _job_or_404(request.user, pk)
    headers = list(job.headers)
    columns = [Column(f"c{i}", h or f"KOLOM_{i + 1}", kind="text") for i, h in enumerate(headers)]
    columns.append(Column("row_no", "BARIS", kind="number", width=8))
    rows = (
        {**{f"c{i}": data.get(h, "") for i, h in enumerate(headers)}, "row_no": row_no}
        for row_no, data in QuarantinedRow.objects.filter(job=job)
        .order_by("row_no", "pk")
        .values_list("row_no", "data")
        .iterator(chunk_size=2000)
    )
    # The rows are the user's own upload: NIK stays as written (masking would break the fix).
    handle = write_xlsx([Sheet("Karantina", columns, rows)], unmask=True)
    log_access(
        request,
        action="export",
        entity="import_quarantine",
        entity_id=job.pk,
        region_code=job.region_code,
        purpose="baris karantina impor",
    )
    return FileResponse(
        handle,
        as_attachment=True,
        filename=_download_name(job, "karantina"),
        content_type=XLSX_TYPE,
    )
