"""Edition pages: list, detail (decree, summary, region drill-down), determination (pusat),
as-of export (xlsx/csv), and the diff between two editions.

Editions are read-only after determination: nothing here edits one. Who may look: pusat
(national), kab/kota and province roles and auditors, each within their region subtree.
Exports ask a purpose first and are logged (UU PDP); NIK and No KK come unmasked only for
roles with Action.EXPORT_NIK, and pages always show them masked. The reads behind these pages
(summaries, per-region counts, the diff preview) are in editions/queries.py.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.forms import ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import URLPattern, path, register_converter, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from terpadu.accounts.access import Action, can, log_access
from terpadu.accounts.models import Role
from terpadu.editions import exports, queries
from terpadu.editions.determination import DeterminationError, determine_edition
from terpadu.editions.exports import Sheet, edition_label, period_label
from terpadu.editions.forms import DetermineForm, DiffForm, ExportForm, clean_region
from terpadu.editions.models import Edition, EditionFrozen, ProcessingRun
from terpadu.proposals import calendar
from terpadu.proposals.pdf import tanggal_indonesia

PAGE_SIZE = 24
DIFF_PREVIEW_ROWS = 20
# Who reads editions (domain.md §3.9): pusat nationally, province and kab/kota within their
# region, auditors within theirs. Desa and kecamatan work on proposals, not on editions.
EDITION_ROLES = frozenset(
    {
        Role.PUSAT,
        Role.ADMIN_PROVINSI,
        Role.OPERATOR_PROVINSI,
        Role.ADMIN_KABKOTA,
        Role.VERIFIKATOR_KABKOTA,
        Role.AUDITOR,
    }
)


class PeriodConverter:
    regex = r"[0-9]{4}-(?:0[1-9]|1[0-2])"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(PeriodConverter, "period")


# --- access ---------------------------------------------------------------------------------


def may_view_editions(user: Any) -> bool:
    """Whether the user may open the edition pages at all (region scope applies within)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or user.role in EDITION_ROLES


def may_determine(user: Any) -> bool:
    """Only pusat determines an edition (Kepmensos)."""
    return user.is_authenticated and (user.is_superuser or user.role == Role.PUSAT)


def _ensure_viewer(user: Any) -> None:
    if not may_view_editions(user):
        raise PermissionDenied


def _region_prefix(request: HttpRequest) -> str:
    """The `wilayah` filter within the user's scope (404 outside it); default: the scope.

    A region wider than one's own (a kab/kota user asking for its province) reads as one's own
    scope, never as more.
    """
    scope: str = request.user.scope  # type: ignore[union-attr]
    try:
        wanted = clean_region(request.GET.get("wilayah"))
    except ValidationError:
        raise Http404 from None
    if wanted.startswith(scope):
        return wanted or scope
    if scope.startswith(wanted):
        return scope
    raise Http404


def _edition(period: str) -> Edition:
    return get_object_or_404(Edition.objects.select_related("determined_by", "run"), period=period)


# --- page helpers (the reads they show are in editions.queries) ------------------------------


def _up_link(prefix: str, scope: str) -> str:
    """The wider region to go back to ("-" = national), or "" at the user's own scope."""
    if len(prefix) <= len(scope):
        return ""
    wider = prefix[: max(n for n in (0, 2, 4, 6) if n < len(prefix))]
    if len(wider) < len(scope):
        wider = scope
    return wider or "-"


def _determine(*, by: Any, run: ProcessingRun | None, **data: Any) -> tuple[Edition | None, str]:
    """Call determination; a refusal comes back as a message (nothing was written)."""
    data.pop("confirm", None)
    try:
        return determine_edition(by=by, run=run, **data), ""
    except DeterminationError as exc:
        return None, " ".join(issue.message for issue in exc.errors) or str(exc)
    except EditionFrozen:
        return None, _("Edisi ini sudah ditetapkan dan tidak dapat diubah.")


def _preamble(edition: Edition, *, prefix: str, user: Any, unmask: bool) -> list[str]:
    region = queries.region_for_prefix(prefix)
    where = f"{region.name} ({prefix})" if region else (prefix or _("Nasional"))
    return [
        edition_label(edition.period),
        _("Kepmensos %(number)s tanggal %(date)s")
        % {"number": edition.decree_number, "date": tanggal_indonesia(edition.decree_date)},
        _("Wilayah: %(where)s") % {"where": where},
        _("Diekspor oleh %(user)s pada %(at)s%(masked)s")
        % {
            "user": user.username,
            "at": timezone.localtime().strftime("%d-%m-%Y %H:%M"),
            "masked": "" if unmask else _(" (NIK dan No KK disamarkan)"),
        },
    ]


# --- pages ----------------------------------------------------------------------------------


@login_required
@require_GET
def edition_list(request: HttpRequest) -> HttpResponse:
    _ensure_viewer(request.user)
    editions = Edition.objects.select_related("determined_by").order_by("-period")
    page = Paginator(editions, PAGE_SIZE).get_page(request.GET.get("hal"))
    # Stored counts are national: only national users see them here (a kab/kota user gets
    # its own region's counts on the edition page).
    national = not request.user.scope  # type: ignore[union-attr]
    rows = [
        (e, edition_label(e.period), queries.summary_rows(e.counts) if national else None)
        for e in page
    ]
    context = {
        "page": page,
        "rows": rows,
        "national": national,
        "may_determine": may_determine(request.user),
    }
    return render(request, "editions/list.html", context)


@login_required
@require_GET
def edition_detail(request: HttpRequest, period: str) -> HttpResponse:
    _ensure_viewer(request.user)
    edition = _edition(period)
    prefix = _region_prefix(request)
    previous = queries.previous_edition_period(period)
    context = {
        "edition": edition,
        "label": edition_label(period),
        "prefix": prefix,
        "region": queries.region_for_prefix(prefix),
        "up": _up_link(prefix, request.user.scope),  # type: ignore[union-attr]
        "previous": previous,
        "summary": queries.edition_summary(edition, prefix=prefix, previous=previous),
        "drilldown": queries.region_drilldown(period, prefix=prefix),
    }
    return render(request, "editions/detail.html", context)


@login_required
@require_GET
def decree_pdf(request: HttpRequest, period: str) -> FileResponse:
    _ensure_viewer(request.user)
    edition = _edition(period)
    if not edition.decree_pdf:
        raise Http404
    log_access(request, action="download_decree", entity="edition", entity_id=period)
    name = f"kepmensos-dtks-{period}.pdf"
    return FileResponse(edition.decree_pdf.open("rb"), as_attachment=True, filename=name)


@login_required
@require_http_methods(["GET", "POST"])
def determine(request: HttpRequest, run_pk: int | None = None) -> HttpResponse:
    if not may_determine(request.user):
        raise PermissionDenied
    run = get_object_or_404(ProcessingRun, pk=run_pk) if run_pk else None
    initial = {
        "period": run.period if run else calendar.deadlines().period,
        "decree_date": calendar.today(),
    }
    form = DetermineForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        edition, error = _determine(by=request.user, run=run, **form.cleaned_data)
        if edition is not None:
            messages.success(
                request, _("%(label)s telah ditetapkan.") % {"label": edition_label(edition.period)}
            )
            return redirect("editions:detail", period=edition.period)
        messages.error(request, error)
    period = str(form["period"].value() or "")
    context = {
        "form": form,
        "run": run,
        "accepted": queries.accepted_proposals_by_kind(period, run=run),
        "existing": Edition.objects.filter(period=period).exists(),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "editions/determine.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def export(request: HttpRequest, period: str, fmt: str) -> HttpResponse:
    """GET: the purpose form; POST with a purpose: the download, logged before it streams."""
    _ensure_viewer(request.user)
    edition = _edition(period)
    prefix = _region_prefix(request)
    form = ExportForm(request.POST or None, with_inactive=True)
    unmask = can(request.user, Action.EXPORT_NIK, prefix)
    if request.method == "POST" and form.is_valid():
        _log_export(request, "edition", f"{period}.{fmt}", prefix, form, unmask=unmask)
        rows = exports.bnba_rows(
            period, prefix=prefix, active_only=not form.cleaned_data["include_inactive"]
        )
        name = f"dtks-{period}-{prefix or 'nasional'}.{fmt}"
        if fmt == "csv":
            response = StreamingHttpResponse(
                exports.iter_csv(rows, exports.BNBA_COLUMNS, unmask=unmask),
                content_type="text/csv; charset=utf-8",
            )
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        preamble = _preamble(edition, prefix=prefix, user=request.user, unmask=unmask)
        sheet = Sheet(f"DTKS {period}", exports.BNBA_COLUMNS, rows, preamble)
        return _xlsx_response(exports.write_xlsx([sheet], unmask=unmask), name)
    context = {
        "form": form,
        "label": edition_label(period),
        "crumb_edition": period,
        "crumb_label": edition_label(period),
        "prefix": prefix,
        "region": queries.region_for_prefix(prefix),
        "fmt": fmt,
        "unmask": unmask,
        "back": _with_region(reverse("editions:detail", args=[period]), prefix),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "editions/export_purpose.html", context, status=status)


def _log_export(
    request: HttpRequest, entity: str, what: str, prefix: str, form: ExportForm, *, unmask: bool
) -> None:
    log_access(
        request,
        action="export_edition",
        entity=entity,
        entity_id=what if unmask else f"{what} (NIK disamarkan)",
        region_code=prefix,
        purpose=form.cleaned_data["purpose"],
    )


def _with_region(url: str, prefix: str) -> str:
    return f"{url}?wilayah={prefix}" if prefix else url


def _xlsx_response(handle: Any, name: str) -> FileResponse:
    return FileResponse(
        handle,
        as_attachment=True,
        filename=name,
        content_type=exports.XLSX_CONTENT_TYPE,
    )


def _diff_choice(request: HttpRequest) -> tuple[DiffForm, str, str, str]:
    """The diff form and, when valid, (a, b, region prefix); default: the last two editions."""
    periods = list(Edition.objects.order_by("-period").values_list("period", flat=True)[:240])
    data = request.GET.copy()
    if "a" not in data and len(periods) >= 2:
        data.update({"a": periods[1], "b": periods[0]})
    form = DiffForm(data if "a" in data else None, periods=periods)
    prefix = _region_prefix(request)
    if not form.is_valid():
        return form, "", "", prefix
    a, b = sorted([form.cleaned_data["a"], form.cleaned_data["b"]])
    return form, a, b, prefix


@login_required
@require_GET
def diff(request: HttpRequest) -> HttpResponse:
    _ensure_viewer(request.user)
    form, a, b, prefix = _diff_choice(request)
    context: dict[str, Any] = {"form": form, "a": a, "b": b, "prefix": prefix}
    if a and b:
        preview = queries.diff_preview(a, b, prefix=prefix, limit=DIFF_PREVIEW_ROWS)
        context.update(
            {
                "label_a": edition_label(a),
                "label_b": edition_label(b),
                "region": queries.region_for_prefix(prefix),
                "export_query": urlencode({"a": a, "b": b, "wilayah": prefix}),
                **preview,
            }
        )
    return render(request, "editions/diff.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def diff_export(request: HttpRequest) -> HttpResponse:
    _ensure_viewer(request.user)
    _form, a, b, prefix = _diff_choice(request)
    if not (a and b):
        raise Http404
    purpose = ExportForm(request.POST or None)
    unmask = can(request.user, Action.EXPORT_NIK, prefix)
    if request.method == "POST" and purpose.is_valid():
        _log_export(request, "edition_diff", f"{a}..{b}", prefix, purpose, unmask=unmask)
        sheets = exports.diff_sheets(a, b, prefix=prefix, unmask=unmask)
        handle = exports.write_xlsx(sheets, unmask=unmask)
        return _xlsx_response(handle, f"dtks-beda-{a}-{b}-{prefix or 'nasional'}.xlsx")
    query = urlencode({"a": a, "b": b, "wilayah": prefix})
    context = {
        "form": purpose,
        "label": _("Perbedaan %(a)s dan %(b)s") % {"a": period_label(a), "b": period_label(b)},
        "prefix": prefix,
        "region": queries.region_for_prefix(prefix),
        "fmt": "xlsx",
        "unmask": unmask,
        "back": f"{reverse('editions:diff')}?{query}",
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "editions/export_purpose.html", context, status=status)


urlpatterns: list[URLPattern] = [
    path("", edition_list, name="list"),
    path("tetapkan/", determine, name="determine"),
    path("tetapkan/<int:run_pk>/", determine, name="determine"),
    path("beda/", diff, name="diff"),
    path("beda.xlsx", diff_export, name="diff_export"),
    path("<period:period>/", edition_detail, name="detail"),
    path("<period:period>/keputusan.pdf", decree_pdf, name="decree_pdf"),
    path("<period:period>/ekspor.xlsx", export, {"fmt": "xlsx"}, name="export_xlsx"),
    path("<period:period>/ekspor.csv", export, {"fmt": "csv"}, name="export_csv"),
]
