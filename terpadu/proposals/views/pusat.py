"""Pusat pages: incoming batches, receiving (which queues the integrity test), processing
results, and the yearly calendar (input and ratification days)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from terpadu.proposals import batches, calendar
from terpadu.proposals.forms_review import CalendarYearForm
from terpadu.proposals.integrity import REASON_LABELS
from terpadu.proposals.models import Batch, BatchStatus, CalendarYear, Proposal, Status
from terpadu.proposals.views.kabkota import _batch_step
from terpadu.proposals.workflow import TransitionError

PAGE_SIZE = 25


def _ensure_pusat(user: Any) -> None:
    if not batches.may_receive(user):
        raise PermissionDenied


def processing_results(batch_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Accepted/returned counts per batch (one GROUP BY) and returned reasons per code (one
    query over the returned items' reasons)."""
    out: dict[int, dict[str, Any]] = {
        pk: {"accepted": 0, "returned": 0, "reasons": Counter()} for pk in batch_ids
    }
    rows = (
        Proposal.objects.filter(batch_id__in=batch_ids)
        .values("batch_id", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        if row["status"] == Status.DIKEMBALIKAN_KE_KABKOTA:
            out[row["batch_id"]]["returned"] += row["n"]
        elif row["status"] in (Status.DITERIMA_PUSAT, Status.DITETAPKAN):
            out[row["batch_id"]]["accepted"] += row["n"]
    returned = Proposal.objects.filter(
        batch_id__in=batch_ids, status=Status.DIKEMBALIKAN_KE_KABKOTA
    ).values_list("batch_id", "return_reasons")
    for batch_id, reasons in returned:
        for reason in reasons or []:
            out[batch_id]["reasons"][reason.get("code", "")] += 1
    for result in out.values():
        result["reasons"] = [
            (code, REASON_LABELS.get(code, code), n) for code, n in result["reasons"].most_common()
        ]
    return out


@login_required
@require_GET
def pusat_home(request: HttpRequest) -> HttpResponse:
    _ensure_pusat(request.user)
    incoming = (
        Batch.objects.filter(status=BatchStatus.DIKIRIM_PUSAT)
        .select_related("region")
        .order_by("forwarded_at", "id")
    )
    processed_qs = (
        Batch.objects.filter(status__in=[BatchStatus.DIPROSES_PUSAT, BatchStatus.SELESAI])
        .select_related("region")
        .order_by("-received_at", "-id")
    )
    processed = Paginator(processed_qs, PAGE_SIZE).get_page(request.GET.get("hal"))
    results = processing_results([b.pk for b in processed])
    context = {
        "incoming": incoming[:200],
        "incoming_count": incoming.count(),
        "processed": processed,
        "results": [(b, results[b.pk]) for b in processed],
        "deadline": calendar.deadlines(),
    }
    return render(request, "proposals/pusat/home.html", context)


@login_required
@require_POST
def batch_receive(request: HttpRequest, pk: int) -> HttpResponse:
    _ensure_pusat(request.user)
    return _batch_step(
        request,
        pk,
        batches.receive_at_pusat,
        success=_("Paket %(batch)s diterima; uji integritas berjalan."),
        then=reverse("proposals:pusat_home"),
    )


@login_required
def calendar_config(request: HttpRequest) -> HttpResponse:
    _ensure_pusat(request.user)
    this_year = calendar.today().year
    current = CalendarYear.objects.filter(year=this_year).first()
    initial = {
        "year": this_year,
        "input_end_day": current.input_end_day if current else calendar.DEFAULT_INPUT_END_DAY,
        "ratification_day": (
            current.ratification_day if current else calendar.DEFAULT_RATIFICATION_DAY
        ),
    }
    form = CalendarYearForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            row = batches.configure_calendar(by=request.user, **form.cleaned_data)
        except TransitionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Kalender tahun %(year)s tersimpan.") % {"year": row.year})
            return redirect("proposals:calendar_config")
    context = {
        "form": form,
        "years": CalendarYear.objects.select_related("updated_by").order_by("-year")[:20],
        "defaults": (calendar.DEFAULT_INPUT_END_DAY, calendar.DEFAULT_RATIFICATION_DAY),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "proposals/pusat/calendar.html", context, status=status)


urlpatterns: list[URLPattern] = [
    path("pusat/", pusat_home, name="pusat_home"),
    path("pusat/kalender/", calendar_config, name="calendar_config"),
    path("paket/<int:pk>/terima/", batch_receive, name="batch_receive"),
]
