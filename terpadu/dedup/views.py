"""Dedup pages: home (runs, start), run progress, review queue with bulk decisions, pair page
with match weights explained, and the likely-matches fragment of the new-household form."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from terpadu.accounts.access import Action, can, log_access, role_allows
from terpadu.core.htmx import is_htmx
from terpadu.dedup import decisions, runs
from terpadu.dedup.access import ensure_read, may_decide, pairs_in_scope
from terpadu.dedup.forms import (
    BulkDecisionForm,
    DifferentForm,
    QueueFilterForm,
    SameForm,
    StartRunForm,
)
from terpadu.dedup.incremental import match_records
from terpadu.dedup.labels import level_label
from terpadu.dedup.models import CandidatePair, DedupRun, PairStatus
from terpadu.lib.nik import mask_nik
from terpadu.regions.forms import RegionField
from terpadu.regions.models import Level, prefix_q
from terpadu.registry.models import Person
from terpadu.registry.records import RegistryError

PAGE_SIZE = 50
COMPARISON_LABELS = {
    "name": _lazy("Nama"),
    "birth_date": _lazy("Tanggal lahir"),
    "birth_place": _lazy("Tempat lahir"),
    "mother": _lazy("Nama ibu kandung"),
    "sex": _lazy("Jenis kelamin"),
    "region": _lazy("Wilayah"),
    "address": _lazy("Alamat"),
}


def _runs_in_scope(user: Any) -> QuerySet[DedupRun]:
    return DedupRun.objects.filter(prefix_q("scope", user.scope))


@login_required
@require_http_methods(["GET", "POST"])
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    ensure_read(user)
    deciding = may_decide(user)
    form = StartRunForm(request.POST or None, user=user) if deciding else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                run = runs.start_run(by=user, **form.cleaned_data)
            except runs.DedupError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Deteksi duplikat dimulai."))
                return redirect("dedup:run", run.pk)
    open_pairs = pairs_in_scope(CandidatePair.objects.all(), user).aggregate(
        open=Count("pk", filter=Q(status=PairStatus.OPEN)),
        same=Count("pk", filter=Q(status=PairStatus.SAME)),
        different=Count("pk", filter=Q(status=PairStatus.DIFFERENT)),
    )
    context = {
        "form": form,
        "deciding": deciding,
        "runs": _runs_in_scope(user)
        .select_related("region", "started_by", "model")
        .order_by("-started_at", "-pk")[:20],
        "counts": open_pairs,
        "model": runs.latest_model(),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "dedup/home.html", context, status=status)


@login_required
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ensure_read(request.user)
    run = get_object_or_404(
        _runs_in_scope(request.user).select_related("region", "started_by", "model"), pk=pk
    )
    if is_htmx(request):
        response = render(request, "dedup/_progress.html", {"run": run})
        if run.state != DedupRun.State.BERJALAN:
            response["HX-Refresh"] = "true"
        return response
    return render(request, "dedup/run.html", {"run": run})


def _filtered_pairs(user: Any, form: QueueFilterForm) -> QuerySet[CandidatePair]:
    qs = pairs_in_scope(CandidatePair.objects.all(), user)
    status = PairStatus.OPEN
    if form.is_valid():
        data = form.cleaned_data
        status = data["status"] or PairStatus.OPEN
        if data["wilayah"]:
            qs = qs.filter(prefix_q("region_code", data["wilayah"]))
        if data["min_prob"] is not None:
            qs = qs.filter(probability__gte=data["min_prob"])
    return qs.filter(status=status).select_related("person_a", "person_b", "decided_by")


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    user = request.user
    ensure_read(user)
    form = QueueFilterForm(request.GET or None)
    qs = _filtered_pairs(user, form).order_by("-probability", "pk")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("hal"))
    rows = [
        {
            "pair": p,
            "a_nik": mask_nik(p.person_a.nik) if p.person_a.nik else "–",
            "b_nik": mask_nik(p.person_b.nik) if p.person_b.nik else "–",
        }
        for p in page
    ]
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "deciding": may_decide(user),
        "bulk_form": BulkDecisionForm(),
    }
    return render(request, "dedup/queue.html", context)


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@login_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    user = request.user
    ensure_read(user)
    if not may_decide(user):
        raise PermissionDenied
    form = BulkDecisionForm(request.POST)
    back = _safe_next(request, reverse("dedup:queue"))
    if not form.is_valid():
        messages.error(request, _("Pilih pasangan, keputusan, dan isi alasan."))
        return redirect(back)
    pairs = list(
        pairs_in_scope(CandidatePair.objects.all(), user)
        .filter(pk__in=form.cleaned_data["pairs"], status=PairStatus.OPEN)
        .order_by("pk")
    )
    done, refused = decisions.bulk_decide(
        by=user,
        pairs=pairs,
        decision=form.cleaned_data["decision"],
        note=form.cleaned_data["note"],
    )
    if done:
        messages.success(request, _("%(n)d pasangan diputuskan.") % {"n": len(done)})
    for pair, message in refused:
        messages.error(request, f"#{pair.pk}: {message}")
    return redirect(back)


def _pair_for(user: Any, pk: int) -> CandidatePair:
    ensure_read(user)
    return get_object_or_404(
        pairs_in_scope(CandidatePair.objects.all(), user).select_related(
            "person_a__household", "person_b__household", "proposal", "duplicate", "run"
        ),
        pk=pk,
    )


_SIDE_FIELDS = (
    ("name", _lazy("Nama")),
    ("sex", _lazy("Jenis kelamin")),
    ("birth_place", _lazy("Tempat lahir")),
    ("birth_date", _lazy("Tanggal lahir")),
    ("mother_name", _lazy("Nama ibu kandung")),
    ("region_code", _lazy("Kode wilayah")),
    ("address", _lazy("Alamat")),
    ("status", _lazy("Status")),
)


def _side_by_side(a: Person, b: Person) -> list[dict[str, Any]]:
    def value(p: Person, name: str) -> Any:
        if name == "address":
            return p.household.address
        if name == "sex":
            return p.get_sex_display()
        if name == "status":
            return p.get_status_display()
        return getattr(p, name)

    rows = []
    for name, label in _SIDE_FIELDS:
        va, vb = value(a, name), value(b, name)
        rows.append({"label": label, "a": va, "b": vb, "same": va == vb and va not in ("", None)})
    return rows


def _waterfall(pair: CandidatePair) -> list[dict[str, Any]]:
    """Prior, each comparison's level and weight, running total (the waterfall)."""
    total = pair.prior_weight
    rows = [{"label": _("Bobot awal (prior)"), "level": "", "weight": total, "total": total}]
    for item in pair.explanation:
        total += item["weight"]
        rows.append(
            {
                "label": COMPARISON_LABELS.get(item["comparison"], item["comparison"]),
                "level": level_label(item["label"]),
                "weight": item["weight"],
                "total": total,
            }
        )
    return rows


@login_required
@require_GET
def pair_detail(request: HttpRequest, pk: int) -> HttpResponse:
    pair = _pair_for(request.user, pk)
    a, b = pair.person_a, pair.person_b
    context = {
        "pair": pair,
        "a": a,
        "b": b,
        "a_nik": mask_nik(a.nik) if a.nik else "–",
        "b_nik": mask_nik(b.nik) if b.nik else "–",
        "rows": _side_by_side(a, b),
        "waterfall": _waterfall(pair),
        "deciding": pair.status == PairStatus.OPEN
        and may_decide(request.user, pair.region_code)
        and may_decide(request.user, pair.region_code_b),
        "events": pair.events.select_related("actor", "proposal").order_by("-at", "-pk"),
        "same_form": SameForm(auto_id="same_%s"),
        "different_form": DifferentForm(auto_id="different_%s"),
    }
    return render(request, "dedup/pair.html", context)


@login_required
@require_POST
def reveal_nik(request: HttpRequest, pk: int, person_pk: int) -> HttpResponse:
    """The full NIK of one of the pair's persons, logged (UU PDP)."""
    pair = _pair_for(request.user, pk)
    if person_pk not in (pair.person_a_id, pair.person_b_id):
        raise Http404
    person = pair.person_a if person_pk == pair.person_a_id else pair.person_b
    if not can(request.user, Action.VIEW, person.region_code):
        raise Http404
    log_access(
        request,
        action="view",
        entity="person",
        entity_id=person.pk,
        region_code=person.region_code,
        purpose=f"dedup pair #{pair.pk}",
    )
    return render(request, "dedup/_nik.html", {"nik": person.nik or "–"})


@login_required
@require_POST
def decide_same(request: HttpRequest, pk: int) -> HttpResponse:
    pair = _pair_for(request.user, pk)
    form = SameForm(request.POST, auto_id="same_%s")
    if not form.is_valid():
        messages.error(request, _("Pilih data yang ganda."))
        return redirect("dedup:pair", pair.pk)
    try:
        pair = decisions.decide_same(
            by=request.user,
            pair=pair,
            duplicate_id=form.cleaned_data["duplicate"],
            note=form.cleaned_data["note"],
        )
    except decisions.DecisionError as exc:
        messages.error(request, exc.message)
    except RegistryError as exc:
        for issue in exc.errors:  # warnings do not refuse; only the errors are the reason
            messages.error(request, issue.message)
    else:
        messages.success(
            request,
            _("Usulan penonaktifan #%(n)d (data ganda) dibuat.") % {"n": pair.proposal_id},
        )
    return redirect("dedup:pair", pair.pk)


@login_required
@require_POST
def decide_different(request: HttpRequest, pk: int) -> HttpResponse:
    pair = _pair_for(request.user, pk)
    form = DifferentForm(request.POST, auto_id="different_%s")
    if not form.is_valid():
        messages.error(request, _("Isi alasan keputusan."))
        return redirect("dedup:pair", pair.pk)
    try:
        decisions.decide_different(by=request.user, pair=pair, note=form.cleaned_data["note"])
    except decisions.DecisionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Pasangan ditandai sebagai orang berbeda."))
    return redirect("dedup:pair", pair.pk)


# --- likely matches on the new-household form -------------------------------------------


_MEMBER_KEYS = ("nik", "name", "birth_date", "birth_place", "mother_name", "sex")


@login_required
@require_POST
def check_member(request: HttpRequest) -> HttpResponse:
    """htmx fragment: likely registry matches of one member being entered (before submit).

    Reads the member's fields under its form prefix and the chosen desa. Matches outside the
    user's own scope are shown without name or NIK (only that a match exists, and where).
    """
    user = request.user
    if not role_allows(user, Action.EDIT):
        raise Http404
    prefix = request.POST.get("prefix", "")
    record = {key: request.POST.get(f"{prefix}-{key}", "").strip() for key in _MEMBER_KEYS}
    desa_field = RegionField(level=Level.DESA, required=False)
    desa_field.limit_to_user(user)
    try:
        raw = desa_field.widget.value_from_datadict(request.POST, {}, "desa")
        desa = desa_field.clean(raw or None)
    except ValidationError:  # an unfinished desa entry just narrows nothing
        desa = None
    region_code = desa.digits if desa else user.scope
    record["region_code"] = region_code if len(region_code) == 10 else ""
    record["address"] = request.POST.get("address", "")
    record["no_kk"] = request.POST.get("no_kk", "")
    if not record["name"] and not record["nik"]:
        return render(request, "dedup/_matches.html", {"checked": False})
    scope = (region_code or user.scope)[:4]
    [found] = match_records([record], scope_prefix=scope)
    shown = [
        {
            "c": c,
            "visible": can(user, Action.LIST, c.region_code),
            "reasons": [level_label(r) for r in c.reasons],
        }
        for c in found
    ]
    return render(request, "dedup/_matches.html", {"checked": True, "matches": shown})
