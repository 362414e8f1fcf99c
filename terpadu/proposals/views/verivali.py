"""Verivali pages: assign (supervisors), the enumerator's task list and visit form, the QC
queue, and the photo view. Rules live in proposals/verivali.py."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from terpadu.accounts.access import log_access
from terpadu.accounts.models import Role
from terpadu.proposals import verivali as domain
from terpadu.proposals.calendar import today
from terpadu.proposals.forms_verivali import AssignForm, QcForm, VisitForm
from terpadu.proposals.musdes import subject_of
from terpadu.proposals.workflow import TransitionError

PAGE_SIZE = 25
QC_PAGE_SIZE = 10


@login_required
@require_http_methods(["GET", "POST"])
def assign_page(request: HttpRequest) -> HttpResponse:
    if not domain.may_assign(request.user):
        raise PermissionDenied
    form = AssignForm(request.POST or None, enumerators=domain.enumerators_for(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            n = domain.assign(
                by=request.user,
                proposal_ids=form.cleaned_data["proposals"],
                enumerator=form.cleaned_data["enumerator"],
                due_on=form.cleaned_data["due_on"],
            )
        except TransitionError as exc:
            form.add_error(getattr(exc, "field", None), exc.message)
        else:
            messages.success(request, _("%(n)d usulan ditugaskan.") % {"n": n})
            return redirect("proposals:verivali_assign")
    qs = domain.assignable(request.user).select_related(
        "region", "household", "person__household", "family__household"
    )
    desa = request.GET.get("desa", "")
    if desa.isdigit():
        qs = qs.filter(region_code__startswith=desa)
    page = Paginator(qs.order_by("region_code", "pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    chosen = (
        set(form.cleaned_data.get("proposals", [])) if form.is_bound and form.is_valid() else set()
    )
    context = {
        "form": form,
        "page": page,
        "rows": [(p, subject_of(p), p.pk in chosen) for p in page],
        "desa": desa,
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "proposals/verivali/assign.html", context, status=status)


def _ensure_enumerator(request: HttpRequest) -> None:
    if request.user.role != Role.ENUMERATOR:
        raise PermissionDenied


@login_required
@require_GET
def tasks(request: HttpRequest) -> HttpResponse:
    _ensure_enumerator(request)
    page = Paginator(domain.assignments_for_enumerator(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    rows = [(a, subject_of(a.proposal)) for a in page]
    return render(
        request, "proposals/verivali/tasks.html", {"page": page, "rows": rows, "today": today()}
    )


@login_required
@require_http_methods(["GET", "POST"])
def visit_form(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_enumerator(request)
    assignment = domain.assignment_for_enumerator(request.user, pk)
    form = VisitForm(request.POST or None, request.FILES or None, initial={"visited_on": today()})
    if request.method == "POST" and form.is_valid():
        try:
            domain.submit_visit(
                by=request.user,
                assignment=assignment,
                result=form.cleaned_data["result"],
                visited_on=form.cleaned_data["visited_on"],
                latitude=form.cleaned_data["latitude"],
                longitude=form.cleaned_data["longitude"],
                respondent=form.cleaned_data["respondent"],
                notes=form.cleaned_data["notes"],
                photos=form.photos(),
            )
        except domain.VisitInvalid as exc:
            for issue in exc.issues:
                form.add_error(issue.field, issue.message)
        except TransitionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Hasil kunjungan terkirim ke pengawas."))
            return redirect("proposals:verivali_tasks")
    context: dict[str, Any] = {
        "form": form,
        "assignment": assignment,
        "subject": subject_of(assignment.proposal),
        "open": assignment.state in domain.OPEN_STATES,
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "proposals/verivali/visit.html", context, status=status)


@login_required
@require_GET
def qc_page(request: HttpRequest) -> HttpResponse:
    if not domain.may_supervise(request.user, request.user.scope):
        raise PermissionDenied
    page = Paginator(domain.qc_queue(request.user), QC_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "proposals/verivali/qc.html", _qc_context(page))


def _qc_context(page: Any, **extra: Any) -> dict[str, Any]:
    rows = []
    for a in page:
        visits = list(a.visits.all())  # prefetched, newest first
        rows.append(
            {
                "assignment": a,
                "subject": subject_of(a.proposal),
                "visit": visits[0] if visits else None,
                "earlier": visits[1:],
            }
        )
    return {"page": page, "rows": rows, "form": QcForm(), **extra}


@login_required
@require_POST
def qc_decide(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = domain.assignment_for_supervisor(request.user, pk)
    form = QcForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Pilih terima atau kembalikan."))
        return redirect("proposals:verivali_qc")
    note = form.cleaned_data["note"]
    try:
        if form.cleaned_data["decision"] == QcForm.ACCEPT:
            result = domain.qc_accept(by=request.user, assignment=assignment, note=note)
            messages.success(
                request,
                _("Hasil kunjungan usulan #%(pk)d diterima (%(status)s).")
                % {"pk": result.proposal.pk, "status": result.proposal.get_status_display()},
            )
            if result.deactivation is not None:
                messages.info(
                    request,
                    _("Usulan penonaktifan #%(pk)d dibuat sebagai draf.")
                    % {"pk": result.deactivation.pk},
                )
            for reason in result.deactivation_refused:
                messages.warning(
                    request, _("Usulan penonaktifan tidak dibuat: %(r)s") % {"r": reason}
                )
        else:
            domain.qc_return(by=request.user, assignment=assignment, note=note)
            messages.success(request, _("Dikembalikan ke enumerator untuk kunjungan ulang."))
    except TransitionError as exc:
        messages.error(request, exc.message)
    return redirect("proposals:verivali_qc")


@login_required
@require_GET
def photo(request: HttpRequest, pk: int) -> HttpResponse:
    item = domain.photo_for_user(request.user, pk)
    log_access(
        request,
        action="view_photo",
        entity="verivali_photo",
        entity_id=item.pk,
        region_code=item.visit.assignment.region_code,
    )
    content_type = domain.photo_content_type(item)
    response = FileResponse(item.file.storage.open(item.file.name, "rb"), content_type=content_type)
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


urlpatterns: list[URLPattern] = [
    path("verivali/tugaskan/", assign_page, name="verivali_assign"),
    path("verivali/tugas/", tasks, name="verivali_tasks"),
    path("verivali/tugas/<int:pk>/kunjungan/", visit_form, name="verivali_visit"),
    path("verivali/qc/", qc_page, name="verivali_qc"),
    path("verivali/qc/<int:pk>/", qc_decide, name="verivali_qc_decide"),
    path("verivali/foto/<int:pk>/", photo, name="verivali_photo"),
]
