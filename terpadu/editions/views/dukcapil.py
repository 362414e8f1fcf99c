"""Dukcapil exchanges (pusat): NIK list export, result import with a validation report,
immediate matching with the test double; and the kab/kota NIK-correction task list."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from terpadu.accounts.access import Action, can, log_access, role_allows
from terpadu.editions import dukcapil
from terpadu.editions.dukcapil import DukcapilFileError
from terpadu.editions.forms_processing import (
    DukcapilExportForm,
    DukcapilImportForm,
    TaskFilterForm,
)
from terpadu.editions.models import DukcapilBatch
from terpadu.editions.processing import is_pusat


def _ensure_exchange(user: Any) -> None:
    # The exchange carries full NIKs nationally: pusat, with the right to export NIKs.
    if not (is_pusat(user) and can(user, Action.EXPORT_NIK, "")):
        raise PermissionDenied


def _page(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    batches = Paginator(
        DukcapilBatch.objects.select_related("created_by").order_by("-created_at", "-pk"), 25
    ).get_page(request.GET.get("hal"))
    return {
        "batches": batches,
        "export_form": DukcapilExportForm(),
        "import_form": DukcapilImportForm(),
        "test_double": getattr(settings, "TERPADU_DUKCAPIL_ADAPTER", "file") == "test-double",
        "needing": dukcapil.persons_needing_check().count(),
        **extra,
    }


@login_required
@require_GET
def exchanges(request: HttpRequest) -> HttpResponse:
    _ensure_exchange(request.user)
    return render(request, "editions/dukcapil/list.html", _page(request))


def _download(request: HttpRequest, batch: DukcapilBatch) -> FileResponse:
    log_access(
        request,
        action="export",
        entity="dukcapil_request",
        entity_id=batch.pk,
        purpose="Pemadanan NIK dengan Dukcapil",
    )
    return FileResponse(
        batch.request_file.open("rb"),
        as_attachment=True,
        filename=f"permintaan-nik-{batch.pk}.csv",
        content_type="text/csv; charset=utf-8",
    )


@login_required
@require_POST
def export(request: HttpRequest) -> HttpResponse:
    _ensure_exchange(request.user)
    form = DukcapilExportForm(request.POST)
    if not form.is_valid():
        return render(
            request, "editions/dukcapil/list.html", _page(request, export_form=form), status=422
        )
    batch = dukcapil.export_request(by=request.user, **form.cleaned_data)
    return _download(request, batch)


@login_required
@require_GET
def request_file(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_exchange(request.user)
    batch = get_object_or_404(DukcapilBatch, pk=pk)
    if not batch.request_file:
        raise PermissionDenied  # a test-double exchange has no file to give
    return _download(request, batch)


@login_required
@require_POST
def import_view(request: HttpRequest) -> HttpResponse:
    _ensure_exchange(request.user)
    form = DukcapilImportForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = dukcapil.import_result(
                by=request.user,
                batch=form.cleaned_data["batch"],
                data=upload.read(),
                filename=upload.name,
            )
        except DukcapilFileError as exc:
            context = _page(request, import_form=form, errors=exc.errors)
            return render(request, "editions/dukcapil/list.html", context, status=422)
        messages.success(
            request,
            _(
                "Hasil diimpor: %(n)d NIK, %(p)d padan, %(t)d tidak padan, %(k)d tugas "
                "perbaikan dibuat, %(m)d NIK tanpa hasil."
            )
            % {
                "n": report.rows,
                "p": report.applied.padan,
                "t": report.applied.tidak_padan,
                "k": report.applied.tasks,
                "m": report.missing,
            },
        )
        return redirect("editions:dukcapil")
    return render(
        request, "editions/dukcapil/list.html", _page(request, import_form=form), status=422
    )


@login_required
@require_POST
def match_now(request: HttpRequest) -> HttpResponse:
    _ensure_exchange(request.user)
    form = DukcapilExportForm(request.POST)
    if not form.is_valid():
        return render(
            request, "editions/dukcapil/list.html", _page(request, export_form=form), status=422
        )
    try:
        applied = dukcapil.match_now(by=request.user, **form.cleaned_data)
    except ValueError:
        messages.error(request, _("Adapter Dukcapil yang dipakai tidak menjawab seketika."))
    else:
        messages.success(
            request,
            _("Dicocokkan: %(p)d padan, %(t)d tidak padan, %(k)d tugas perbaikan dibuat.")
            % {"p": applied.padan, "t": applied.tidak_padan, "k": applied.tasks},
        )
    return redirect("editions:dukcapil")


@login_required
@require_GET
def nik_tasks(request: HttpRequest) -> HttpResponse:
    if not role_allows(request.user, Action.LIST):
        raise PermissionDenied
    form = TaskFilterForm(request.GET or None)
    state = form.cleaned_data["state"] if form.is_valid() else ""
    page = Paginator(dukcapil.tasks_for(request.user, state), 50).get_page(request.GET.get("hal"))
    context = {
        "form": form,
        "page": page,
        "may_propose": role_allows(request.user, Action.EDIT),
    }
    return render(request, "editions/dukcapil/tasks.html", context)


urlpatterns: list[URLPattern] = [
    path("dukcapil/", exchanges, name="dukcapil"),
    path("dukcapil/ekspor/", export, name="dukcapil_export"),
    path("dukcapil/<int:pk>/permintaan.csv", request_file, name="dukcapil_request"),
    path("dukcapil/impor/", import_view, name="dukcapil_import"),
    path("dukcapil/cocokkan/", match_now, name="dukcapil_match_now"),
    path("perbaikan-nik/", nik_tasks, name="nik_tasks"),
]
