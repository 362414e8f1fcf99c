"""Kab/kota pages: the verifikator's review queue with bulk actions, and the admin's monthly
batch (finalise, draft letter, signed letter upload, send to the province).

The batch detail page is shared by every level (province and pusat see their own buttons),
so a batch has one address from finalisation to the end of pusat's processing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from terpadu.core.htmx import render_page
from terpadu.proposals import batches, calendar, dashboards
from terpadu.proposals.forms_review import (
    BULK_ACTIONS,
    AnnotateForm,
    BulkReviewForm,
    FinaliseForm,
    ReviewFilterForm,
    SignedLetterForm,
)
from terpadu.proposals.models import Batch, BatchStatus, Kind, Proposal, Status
from terpadu.proposals.queries import batches_for_user
from terpadu.proposals.transitions import KABKOTA_ROLES
from terpadu.proposals.workflow import TransitionError, bulk_transition
from terpadu.regions.models import Region

QUEUE_PAGE_SIZE = 50
ITEMS_PAGE_SIZE = 50
BATCH_PAGE_SIZE = 25
TAB_STATUS = {"periksa": Status.DIPERIKSA_DINSOS, "dikembalikan": Status.DIKEMBALIKAN_KE_KABKOTA}


def _ensure_kabkota(user: Any) -> None:
    if not (user.is_superuser or user.role in KABKOTA_ROLES):
        raise PermissionDenied


def review_items(user: Any, form: ReviewFilterForm, today: dt.date) -> QuerySet[Proposal]:
    data = form.cleaned_data if form.is_valid() else {}
    return dashboards.review_queue(
        user,
        status=TAB_STATUS.get(data.get("tab") or "periksa", Status.DIPERIKSA_DINSOS),
        kind=data.get("kind") or "",
        region_code=data["wilayah"].digits if data.get("wilayah") else "",
        min_age_days=int(data["age"]) if data.get("age") else 0,
        overdue=bool(data.get("overdue")),
        today=today,
    )


@login_required
@require_GET
def review_queue(request: HttpRequest) -> HttpResponse:
    _ensure_kabkota(request.user)
    today = calendar.today()
    form = ReviewFilterForm(request.GET or None, user=request.user)
    tab = request.GET.get("tab") if request.GET.get("tab") in TAB_STATUS else "periksa"
    page = Paginator(review_items(request.user, form, today), QUEUE_PAGE_SIZE).get_page(
        request.GET.get("hal")
    )
    kab_cut = dashboards.last_passed("ratification", today)
    context = {
        "form": form,
        "tab": tab,
        "page": page,
        "today": today,
        "kab_cut": kab_cut,
        "bulk_form": BulkReviewForm(),
    }
    return render_page(
        request, "proposals/kabkota/queue.html", "proposals/kabkota/_queue.html", context
    )


@login_required
@require_POST
def review_bulk(request: HttpRequest) -> HttpResponse:
    """Bulk approve / return / reject (or take back returned items): one move for N items."""
    _ensure_kabkota(request.user)
    form = BulkReviewForm(request.POST)
    back = request.POST.get("next") or reverse("proposals:review_queue")
    if not back.startswith("/usulan/"):
        back = reverse("proposals:review_queue")
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    ids, action = form.cleaned_data["ids"], form.cleaned_data["action"]
    transition, label = BULK_ACTIONS[action]
    try:
        if action == "fix":
            result = batches.fix_returned(by=request.user, proposals=ids)
        else:
            result = bulk_transition(
                ids, transition, by=request.user, note=form.cleaned_data["note"]
            )
    except TransitionError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    skipped = len(set(ids)) - result.moved
    messages.success(
        request,
        _("%(n)d %(label)s, %(m)d dilewati (status berubah)")
        % {"n": result.moved, "label": label, "m": skipped},
    )
    return redirect(back)


# --- batches ----------------------------------------------------------------------------------


def _batch_for_user(user: Any, pk: int) -> Batch:
    try:
        return batches_for_user(user).select_related("region", "finalised_by").get(pk=pk)
    except Batch.DoesNotExist:
        raise Http404 from None


def _batch_step(
    request: HttpRequest,
    pk: int,
    step: Callable[..., Batch],
    *,
    success: str,
    then: str = "",
) -> HttpResponse:
    """One button on a batch: run `step(by=user, batch=batch)` from batches.py. A refusal comes
    back as an error message, otherwise `success` (which may name the batch as %(batch)s).
    Then back to `then`, by default the batch's page."""
    batch = _batch_for_user(request.user, pk)
    try:
        step(by=request.user, batch=batch)
    except TransitionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success % {"batch": batch})
    return redirect(then or reverse("proposals:batch_detail", args=[batch.pk]))


@login_required
@require_GET
def batch_list(request: HttpRequest) -> HttpResponse:
    today = calendar.today()
    qs = (
        batches_for_user(request.user)
        .select_related("region")
        .order_by("-period", "region_code", "-sequence")
    )
    if request.GET.get("status") in BatchStatus.values:
        qs = qs.filter(status=request.GET["status"])
    page = Paginator(qs, BATCH_PAGE_SIZE).get_page(request.GET.get("hal"))
    late = dashboards.ratification_late_q(today)
    late_ids = set(qs.filter(late).values_list("pk", flat=True)[:1000])
    context = {
        "page": page,
        "late_ids": late_ids,
        "statuses": BatchStatus.choices,
        "deadline": calendar.deadlines(),
        "can_finalise": batches.may_finalise(request.user) and len(request.user.scope) == 4,
    }
    return render(request, "proposals/kabkota/batch_list.html", context)


def _kabkota_of(user: Any) -> Region:
    if not batches.may_finalise(user) or len(user.scope) != 4:
        raise PermissionDenied
    return get_object_or_404(Region.objects.current(), digits=user.scope)


@login_required
def batch_new(request: HttpRequest) -> HttpResponse:
    kab = _kabkota_of(request.user)
    form = FinaliseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            batch = batches.finalise_batch(by=request.user, kabkota_region=kab)
        except TransitionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Paket %(batch)s dibuat.") % {"batch": batch})
            return redirect("proposals:batch_detail", pk=batch.pk)
    per_kind = dict(
        batches.final_items(kab.digits).values_list("kind").annotate(n=Count("id")).order_by()
    )
    context = {
        "form": form,
        "region": kab,
        "per_kind": [(label, per_kind.get(value, 0)) for value, label in Kind.choices],
        "total": sum(per_kind.values()),
        "deadline": calendar.deadlines(),
        "today": calendar.today(),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "proposals/kabkota/batch_new.html", context, status=status)


@login_required
@require_GET
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_for_user(request.user, pk)
    items = batch.proposals.select_related("region").order_by("region_code", "id")
    page = Paginator(items, ITEMS_PAGE_SIZE).get_page(request.GET.get("hal"))
    per_status = list(
        batch.proposals.values("kind", "status").annotate(n=Count("id")).order_by("kind")
    )
    kinds = {value: label for value, label in Kind.choices}
    statuses = {value: label for value, label in Status.choices}
    user = request.user
    context = {
        "batch": batch,
        "page": page,
        "per_status": [
            (kinds.get(r["kind"], r["kind"]), statuses.get(r["status"], r["status"]), r["n"])
            for r in per_status
        ],
        "events": [
            (e, batches.EVENT_LABELS.get(e.action, e.action))
            for e in batch.events.select_related("actor")
        ],
        "deadline": calendar.deadlines(batch.period),
        "is_admin": batches.may_finalise(user) and batch.region_code.startswith(user.scope),
        "may_forward": batches.may_forward(user, batch),
        "may_receive": batches.may_receive(user),
        "upload_form": SignedLetterForm(),
        "annotate_form": AnnotateForm(),
    }
    return render(request, "proposals/kabkota/batch_detail.html", context)


def _serve(field: Any, filename: str) -> FileResponse:
    if not field:
        raise Http404
    return FileResponse(field.open("rb"), as_attachment=True, filename=filename)


@login_required
@require_GET
def batch_letter(request: HttpRequest, pk: int) -> FileResponse:
    batch = _batch_for_user(request.user, pk)
    name = f"surat-pengesahan-{batch.region_code}-{batch.period}-{batch.sequence}.pdf"
    return _serve(batch.letter_pdf, name)


@login_required
@require_GET
def batch_signed_letter(request: HttpRequest, pk: int) -> FileResponse:
    batch = _batch_for_user(request.user, pk)
    ext = batch.signed_letter.name.rsplit(".", 1)[-1] if batch.signed_letter else "pdf"
    name = f"surat-pengesahan-ttd-{batch.region_code}-{batch.period}-{batch.sequence}.{ext}"
    return _serve(batch.signed_letter, name)


@login_required
@require_POST
def batch_upload(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_for_user(request.user, pk)
    form = SignedLetterForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            batches.upload_signed_letter(by=request.user, batch=batch, **form.cleaned_data)
        except TransitionError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Surat pengesahan bertanda tangan tersimpan."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect("proposals:batch_detail", pk=batch.pk)


@login_required
@require_POST
def batch_send(request: HttpRequest, pk: int) -> HttpResponse:
    return _batch_step(
        request, pk, batches.send_to_province, success=_("Paket dikirim ke provinsi.")
    )


urlpatterns: list[URLPattern] = [
    path("periksa/", review_queue, name="review_queue"),
    path("periksa/aksi/", review_bulk, name="review_bulk"),
    path("paket/", batch_list, name="batch_list"),
    path("paket/baru/", batch_new, name="batch_new"),
    path("paket/<int:pk>/", batch_detail, name="batch_detail"),
    path("paket/<int:pk>/surat.pdf", batch_letter, name="batch_letter"),
    path("paket/<int:pk>/surat-ttd/", batch_signed_letter, name="batch_signed_letter"),
    path("paket/<int:pk>/unggah/", batch_upload, name="batch_upload"),
    path("paket/<int:pk>/kirim/", batch_send, name="batch_send"),
]
