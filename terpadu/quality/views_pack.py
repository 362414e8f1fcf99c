"""Province review pack (page, xlsx, "send task lists") and the kab/kota task lists."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from terpadu.accounts.access import log_access
from terpadu.editions.exports import XLSX_CONTENT_TYPE
from terpadu.quality import pack
from terpadu.quality.forms import PackForm
from terpadu.quality.models import AgeScheme, TaskItemState
from terpadu.quality.views import PAGE_SIZE, ensure_quality
from terpadu.regions.models import Level, Region


def _choose(request: HttpRequest) -> tuple[PackForm, Region, AgeScheme]:
    """The province (own one for province roles; any for pusat) and the age scheme."""
    user = request.user
    provinces = Region.objects.current().filter(level=Level.PROVINSI).order_by("digits")
    if user.scope:
        provinces = provinces.filter(digits=user.scope[:2])
    choices = [(r.digits, f"{r.digits} {r.name}") for r in provinces]
    schemes = list(AgeScheme.objects.order_by("code"))
    form = PackForm(
        request.GET or None,
        provinces=choices,
        schemes=[(s.code, s.name) for s in schemes],
    )
    wanted = request.GET.get("provinsi") or (user.scope[:2] if user.scope else "")
    province = next((r for r in provinces if r.digits == wanted), None)
    if province is None and choices and not user.scope:
        province = provinces[0]
    if province is None or not schemes:
        raise Http404
    pack.ensure_pack(user, province.digits)
    by_code = {s.code: s for s in schemes}
    scheme = by_code.get(request.GET.get("skema") or "p3ke") or schemes[0]
    return form, province, scheme


@login_required
@require_GET
def pack_page(request: HttpRequest) -> HttpResponse:
    form, province, scheme = _choose(request)
    data = pack.build(province, scheme)
    context = {"form": form, "pack": data, "province": province, "scheme": scheme}
    return render(request, "quality/pack.html", context)


@login_required
@require_GET
def pack_xlsx(request: HttpRequest) -> HttpResponse:
    _form, province, scheme = _choose(request)
    data = pack.build(province, scheme)
    log_access(
        request,
        action="export_quality_pack",
        entity="quality.pack",
        entity_id=province.digits,
        region_code=province.digits,
    )
    response = HttpResponse(pack.xlsx(data), content_type=XLSX_CONTENT_TYPE)
    name = f"paket-kualitas-{province.digits}-{scheme.code}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@login_required
@require_POST
def pack_send(request: HttpRequest) -> HttpResponse:
    province = get_object_or_404(
        Region.objects.current().filter(level=Level.PROVINSI), digits=request.POST.get("provinsi")
    )
    pack.ensure_pack(request.user, province.digits)
    tasks = pack.send_tasks(by=request.user, province=province, note=request.POST.get("note", ""))
    if tasks:
        messages.success(
            request,
            _("Daftar tugas dikirim ke %(n)s kab/kota (%(items)s butir).")
            % {"n": len(tasks), "items": sum(t.item_count for t in tasks)},
        )
    else:
        messages.info(request, _("Tidak ada KPM bertanda yang belum masuk daftar tugas."))
    return redirect(f"{reverse('quality:pack')}?provinsi={province.digits}")


# --- task lists -----------------------------------------------------------------------------


def _tasks(user: Any) -> Any:
    ensure_quality(user)
    return pack.tasks_for(user)


@login_required
@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(_tasks(request.user).order_by("-created_at", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("hal")
    )
    return render(request, "quality/tasks.html", {"page": page})


@login_required
@require_GET
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(_tasks(request.user), pk=pk)
    state = request.GET.get("status", TaskItemState.OPEN)
    items = task.items.select_related("person", "flag", "proposal").order_by("region_code", "pk")
    if state in TaskItemState.values:
        items = items.filter(state=state)
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("hal"))
    context = {"task": task, "page": page, "state": state, "states": TaskItemState.choices}
    return render(request, "quality/task_detail.html", context)
