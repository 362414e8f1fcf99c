"""Downloads of scoped lists: registry search results, BNBA of a region, proposals.

GET requests carrying the filters of the page they come from, so the file holds exactly what
the page lists. Every download is written to the access log with the filters, before the
first byte streams; NIK/No KK are masked unless the user holds Action.EXPORT_NIK there.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from terpadu.accounts.access import Action, role_allows
from terpadu.imports import exports
from terpadu.imports.exports import Export
from terpadu.imports.forms import BnbaExportForm
from terpadu.proposals.forms import ProposalFilterForm
from terpadu.proposals.queries import filtered_proposals
from terpadu.registry.forms import SearchForm


def _check_format(fmt: str) -> None:
    if fmt not in exports.FORMATS:
        raise Http404


def _download(request: HttpRequest, export: Export, fmt: str) -> HttpResponse:
    exports.log_export(request, export, fmt)
    return exports.response(export, fmt)


@login_required
@require_GET
def persons(request: HttpRequest, fmt: str) -> HttpResponse:
    """The registry search results (same query string as the search page) as a file."""
    _check_format(fmt)
    if not role_allows(request.user, Action.LIST):
        raise PermissionDenied
    form = SearchForm(request.GET, user=request.user)
    if not form.is_valid():
        raise Http404  # a hand-made URL; the page itself explains bad input
    data = form.cleaned_data
    export = exports.persons_export(
        request.user, q=data["q"], status=data["status"], region=data["wilayah"]
    )
    return _download(request, export, fmt)


@login_required
@require_GET
def bnba(request: HttpRequest) -> HttpResponse:
    """Choose a region (kecamatan/desa within scope) and a format; download its BNBA."""
    if not role_allows(request.user, Action.LIST):
        raise PermissionDenied
    form = BnbaExportForm(request.GET if "format" in request.GET else None, user=request.user)
    if form.is_bound and form.is_valid():
        region = form.cleaned_data["wilayah"]
        export = exports.bnba_export(request.user, region=region.digits if region else "")
        return _download(request, export, form.cleaned_data["format"])
    scope = request.user.scope or ""
    ctx = {"form": form, "unmask": exports.may_unmask(request.user, scope)}
    return render(request, "imports/bnba.html", ctx, status=422 if form.is_bound else 200)


@login_required
@require_GET
def proposals(request: HttpRequest, fmt: str) -> HttpResponse:
    """The proposals list (same filters as the list page) as a file."""
    _check_format(fmt)
    form = ProposalFilterForm(request.GET or None, user=request.user)
    data = form.cleaned_data if form.is_valid() else {}
    qs = filtered_proposals(request.user, data)
    query = request.GET.copy()
    query.pop("hal", None)
    export = exports.proposals_export(
        request.user, qs, filters=query.urlencode(), region=data.get("wilayah") or ""
    )
    return _download(request, export, fmt)
