"""Region browser and the picker's htmx endpoints. Every answer is cut to the user's scope."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from terpadu.regions.forms import RegionField
from terpadu.regions.models import Level, Region, level_of, to_digits
from terpadu.regions.queries import (
    ancestors_of,
    child_counts,
    children_of,
    narrower_prefix,
    region_by_code,
    search_regions,
)

SEARCH_LIMIT = 20


def _wants_json(request: HttpRequest) -> bool:
    return request.GET.get("format") == "json" or "application/json" in request.headers.get(
        "Accept", ""
    )


def _as_json(region: Region) -> dict[str, Any]:
    return {
        "id": region.pk,
        "code": region.code,
        "digits": region.digits,
        "name": region.name,
        "level": region.level,
        "kind": region.kind,
        "label": region.full_name,
    }


def _root_for(request: HttpRequest) -> str | None:
    """The requested `within` cut to the user's scope; None = nothing visible."""
    return narrower_prefix(to_digits(request.GET.get("within", "")), request.user.scope)  # type: ignore[union-attr]


def _options(request: HttpRequest, regions: list[Region], template: str, **extra: Any) -> Any:
    if _wants_json(request):
        return JsonResponse({"results": [_as_json(r) for r in regions]})
    return render(request, template, {"regions": regions, **extra})


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """``/wilayah/cari?q=&within=&level=``: <option>s (htmx) or JSON."""
    raw_level = request.GET.get("level", "")
    if raw_level and raw_level not in {str(int(level)) for level in Level}:
        return HttpResponseBadRequest("level")
    q = request.GET.get("q", "")
    root = _root_for(request)
    regions = (
        search_regions(q, within=root, level=int(raw_level) if raw_level else None,
                       limit=SEARCH_LIMIT)
        if root is not None else []
    )  # fmt: skip
    return _options(request, regions, "regions/_search_options.html", q=q.strip())


@login_required
@require_GET
def children(request: HttpRequest, digits: str) -> HttpResponse:
    """``/wilayah/<kode>/anak``: the next level's <option>s (htmx) or JSON."""
    root = _root_for(request)
    regions = list(children_of(digits).within(root)) if root is not None else []
    level = (level_of(digits) or 0) + 1
    return _options(request, regions, "regions/_options.html", level=level)


class PickForm(forms.Form):
    pilih = RegionField(label=_("Pilih wilayah"), required=False)


@login_required
@require_GET
def browse(request: HttpRequest, digits: str = "") -> HttpResponse:
    """The region tree one level at a time, with search and a picker demo."""
    scope: str = request.user.scope  # type: ignore[union-attr]
    if len(digits) < len(scope):
        if scope.startswith(digits):
            # Above the user's subtree there is nothing else to browse: start at its top.
            return redirect("regions:region", digits=scope)
        raise Http404
    if not digits.startswith(scope):
        raise Http404
    region = region_by_code(digits) if digits else None
    if digits and region is None:
        raise Http404
    chain = ancestors_of(digits)
    counts = child_counts(digits)
    rows = [(child, counts.get(child.digits)) for child in children_of(digits)]
    q = request.GET.get("q", "").strip()
    form = PickForm(request.GET if "pilih" in request.GET else None)
    form.fields["pilih"].limit_to_user(request.user)  # type: ignore[attr-defined]
    picked = form.cleaned_data["pilih"] if form.is_bound and form.is_valid() else None
    context = {
        "region": region,
        "chain": chain,
        "scope": scope,
        "rows": rows,
        "child_level": _child_level(region),
        "q": q,
        "results": search_regions(q, within=digits, limit=50) if q else [],
        "form": form,
        "picked": picked,
    }
    return render(request, "regions/browse.html", context)


def _child_level(region: Region | None) -> Level | None:
    if region is None:
        return Level.PROVINSI
    return None if region.level == Level.DESA else Level(region.level + 1)
