"""Province pages: the batches of its kab/kota, annotations, forwarding to pusat, and the
lateness dashboard (which kab/kota missed the month's deadlines)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from terpadu.proposals import batches, calendar, dashboards
from terpadu.proposals.forms_review import AnnotateForm
from terpadu.proposals.models import BatchStatus
from terpadu.proposals.queries import batches_for_user
from terpadu.proposals.transitions import PROVINSI_ROLES, PUSAT_ROLES
from terpadu.proposals.views.kabkota import _batch_for_user, _batch_step
from terpadu.proposals.workflow import TransitionError

PAGE_SIZE = 25


def _ensure_provinsi(user: Any) -> None:
    # Pusat may look at any province's dashboard (read only: buttons check the role again).
    if not (user.is_superuser or user.role in PROVINSI_ROLES | PUSAT_ROLES):
        raise PermissionDenied


@login_required
@require_GET
def province_home(request: HttpRequest) -> HttpResponse:
    _ensure_provinsi(request.user)
    today = calendar.today()
    qs = batches_for_user(request.user).select_related("region")
    if request.GET.get("semua") != "1":  # by default what has reached the province
        qs = qs.filter(status__in=list(batches.ANNOTATABLE))
    page = Paginator(qs.order_by("-period", "region_code", "-sequence"), PAGE_SIZE).get_page(
        request.GET.get("hal")
    )
    context = {
        "page": page,
        "rows": dashboards.lateness_by_kabkota(request.user.scope[:2], today),
        "deadline": calendar.deadlines(),
        "today": today,
        "waiting_status": BatchStatus.DIKIRIM_PROVINSI,
        "show_all": request.GET.get("semua") == "1",
    }
    return render(request, "proposals/provinsi/home.html", context)


@login_required
@require_POST
def batch_annotate(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _batch_for_user(request.user, pk)
    form = AnnotateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Catatan wajib diisi."))
        return redirect("proposals:batch_detail", pk=batch.pk)
    try:
        batches.annotate(by=request.user, batch=batch, note=form.cleaned_data["note"])
    except TransitionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Catatan provinsi tersimpan."))
    return redirect("proposals:batch_detail", pk=batch.pk)


@login_required
@require_POST
def batch_forward(request: HttpRequest, pk: int) -> HttpResponse:
    return _batch_step(
        request, pk, batches.forward_to_pusat, success=_("Paket diteruskan ke pusat.")
    )


urlpatterns: list[URLPattern] = [
    path("provinsi/", province_home, name="province_home"),
    path("paket/<int:pk>/catatan/", batch_annotate, name="batch_annotate"),
    path("paket/<int:pk>/teruskan/", batch_forward, name="batch_forward"),
]
