"""National processing pages (pusat only): runs list and start form, run page with progress,
counts, filtered results, per-row override and "apply review"."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from terpadu.core.htmx import is_htmx
from terpadu.editions import processing
from terpadu.editions.forms_processing import OverrideForm, ResultFilterForm, StartRunForm
from terpadu.editions.models import ProcessingResult, ProcessingRun
from terpadu.editions.processing import REASON_LABELS, ProcessingError
from terpadu.proposals import calendar
from terpadu.regions.models import prefix_q

PAGE_SIZE = 50


@login_required
@require_http_methods(["GET", "POST"])
def run_list(request: HttpRequest) -> HttpResponse:
    processing.ensure_pusat(request.user)
    form = StartRunForm(
        request.POST or None, initial={"period": calendar.period_of(calendar.today())}
    )
    if request.method == "POST" and form.is_valid():
        try:
            run = processing.start_run(by=request.user, **form.cleaned_data)
        except ProcessingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request, _("Proses nasional %(period)s dimulai.") % {"period": run.period}
            )
            return redirect("editions:run_detail", run.pk)
    processing.expire_stale_runs()  # a dead worker's run shows as failed, not running
    runs = Paginator(
        ProcessingRun.objects.select_related("started_by").order_by("-started_at", "-pk"), 25
    ).get_page(request.GET.get("hal"))
    context = {
        "form": form,
        "runs": runs,
        "deadline": calendar.deadlines(),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "editions/processing/list.html", context, status=status)


def _run_for_user(user: Any, pk: int) -> ProcessingRun:
    processing.ensure_pusat(user)
    run = get_object_or_404(ProcessingRun.objects.select_related("started_by"), pk=pk)
    if run.state == ProcessingRun.State.BERJALAN and processing.expire_stale_runs(pk=run.pk):
        run.refresh_from_db()  # its worker is gone: show it failed, with the reason
    return run


def _filtered_results(run: ProcessingRun, form: ResultFilterForm) -> Any:
    qs = ProcessingResult.objects.filter(run=run)
    if form.is_valid():
        data = form.cleaned_data
        if data["outcome"]:
            qs = qs.filter(outcome=data["outcome"])
        if data["reason"]:
            qs = _with_reason(qs, data["reason"])
        if data["wilayah"]:
            qs = qs.filter(prefix_q("region_code", data["wilayah"]))
    return qs.select_related("proposal", "overridden_by").order_by("outcome", "region_code", "pk")


def _with_reason(qs: Any, code: str) -> Any:
    """Results carrying reason `code`. JSON containment is PostgreSQL-only in Django; SQLite
    matches the stored JSON text instead (codes are plain identifiers from our own lists)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return qs.filter(reasons__contains=[{"code": code}])
    return qs.filter(reasons__icontains=f'"code": "{code}"')


@login_required
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_for_user(request.user, pk)
    if is_htmx(request):
        response = render(request, "editions/processing/_progress.html", {"run": run})
        if run.state != ProcessingRun.State.BERJALAN:
            response["HX-Refresh"] = "true"  # the run ended: show counts and results
        return response
    form = ResultFilterForm(request.GET or None, reasons=REASON_LABELS)
    page = Paginator(_filtered_results(run, form), PAGE_SIZE).get_page(request.GET.get("hal"))
    counts = run.counts or {}
    reviewed = processing.is_reviewed(run)
    context = {
        "run": run,
        "form": form,
        "page": page,
        "outcomes": [
            (value, label, (counts.get("outcomes") or {}).get(value, 0))
            for value, label in ProcessingResult.Outcome.choices
        ],
        "reasons": [
            (code, REASON_LABELS.get(code, code), n)
            for code, n in (counts.get("reasons") or {}).items()
        ],
        "reviewed": reviewed,
        "reviewable": run.state == ProcessingRun.State.SELESAI and not reviewed,
        "override_choices": ProcessingResult.Outcome.choices,
        "events": run.events.select_related("actor").order_by("-at", "-pk")[:20],
    }
    return render(request, "editions/processing/detail.html", context)


@login_required
@require_POST
def result_override(request: HttpRequest, pk: int, result_pk: int) -> HttpResponse:
    run = _run_for_user(request.user, pk)
    result = get_object_or_404(
        ProcessingResult.objects.select_related("run"), pk=result_pk, run=run
    )
    form = OverrideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Pilih hasil dan isi catatan untuk mengubah hasil."))
    else:
        try:
            processing.override_result(by=request.user, result=result, **form.cleaned_data)
        except ProcessingError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("Hasil usulan #%(pk)d diubah.") % {"pk": result.proposal_id}
            )
    return redirect("editions:run_detail", run.pk)


@login_required
@require_POST
def run_review(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run_for_user(request.user, pk)
    try:
        review = processing.apply_review(by=request.user, run=run)
    except ProcessingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _(
                "Tinjauan diterapkan: %(r)d dikembalikan ke kab/kota, %(t)d ditolak, "
                "%(a)d diterima (baru)."
            )
            % {"r": review.returned, "t": review.rejected, "a": review.accepted},
        )
    return redirect("editions:run_detail", run.pk)


urlpatterns: list[URLPattern] = [
    path("proses/", run_list, name="runs"),
    path("proses/<int:pk>/", run_detail, name="run_detail"),
    path("proses/<int:pk>/hasil/<int:result_pk>/ubah/", result_override, name="result_override"),
    path("proses/<int:pk>/tinjau/", run_review, name="run_review"),
]
