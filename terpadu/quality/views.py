"""Quality pages: home with the job's progress, NIK ganda worklist, flags, reference lists,
summaries. Thin views; the work is in nikganda/rules/decisions/reflists/derived/jobs."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from terpadu.accounts.access import Action, can, log_access, role_allows
from terpadu.core.htmx import is_htmx
from terpadu.proposals.creation import ProposalError
from terpadu.quality import decisions, derived, jobs, pack, reflists
from terpadu.quality.forms import (
    FlagFilterForm,
    GroupFilterForm,
    ProposeFlagForm,
    ProposeMemberForm,
    ReasonForm,
    UploadForm,
)
from terpadu.quality.models import (
    AgeScheme,
    DuplicateKind,
    EligibilityRule,
    ExclusionFlag,
    FlagStatus,
    NikDuplicateGroup,
    NikDuplicateMember,
    QualityDecision,
    QualityRun,
    ReferenceList,
    WorkStatus,
)
from terpadu.regions.models import prefix_q

PAGE_SIZE = 50


def ensure_quality(user: Any) -> None:
    """Quality pages are for the roles above desa (kecamatan up to pusat, auditors)."""
    if not role_allows(user, Action.QUALITY):
        raise PermissionDenied


def groups_in_scope(user: Any) -> QuerySet[NikDuplicateGroup]:
    """Groups of the user's kab/kota(s); below kab/kota, those with a member in scope."""
    qs = NikDuplicateGroup.objects.filter(prefix_q("region_code", user.scope[:4]))
    if len(user.scope) > 4:
        members = NikDuplicateMember.objects.filter(
            prefix_q("region_code", user.scope), group_id=OuterRef("pk")
        )
        qs = qs.filter(Exists(members))
    return qs


def flags_in_scope(user: Any) -> QuerySet[ExclusionFlag]:
    return ExclusionFlag.objects.filter(prefix_q("region_code", user.scope))


def _latest_run(user: Any) -> QualityRun | None:
    return QualityRun.objects.filter(region_code=user.scope[:4]).order_by("-created_at").first()


def _issues(exc: ProposalError) -> list[str]:
    return [i.message for i in exc.errors]


# --- home and runs --------------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    ensure_quality(user)
    flags = flags_in_scope(user)
    groups = groups_in_scope(user)
    groups_by_kind = [
        {**g, "label": DuplicateKind(g["kind"]).label}
        for g in groups.filter(status=WorkStatus.OPEN)
        .values("kind")
        .annotate(n=Count("id"))
        .order_by("kind")
    ]
    flags_by_rule = list(
        flags.filter(status=FlagStatus.OPEN)
        .values("code", "label")
        .annotate(n=Count("id"))
        .order_by("code")
    )
    context = {
        "scope": user.scope,
        # The totals are the sums of the grouped counts (no second COUNT query each).
        "groups_open": sum(g["n"] for g in groups_by_kind),
        "groups_by_kind": groups_by_kind,
        "flags_open": sum(f["n"] for f in flags_by_rule),
        "flags_by_rule": flags_by_rule,
        "lists": lists_visible(user).filter(active=True).count(),
        "tasks": pack.tasks_for(user).count(),
        "run": _latest_run(user),
        "can_run": jobs.can_start(user),
        "can_pack": role_allows(user, Action.REVIEW_PACK),
    }
    return render(request, "quality/home.html", context)


@login_required
@require_POST
def run_start(request: HttpRequest) -> HttpResponse:
    ensure_quality(request.user)
    if not jobs.can_start(request.user):
        raise PermissionDenied
    jobs.start_run(region_code=request.user.scope, by=request.user, source="manual")
    messages.success(request, _("Pemeriksaan kualitas data dijadwalkan."))
    return redirect("quality:home")


@login_required
@require_GET
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    ensure_quality(request.user)
    run = get_object_or_404(QualityRun, pk=pk)
    if not run.region_code.startswith(request.user.scope[:4]):
        raise Http404
    response = render(request, "quality/_run.html", {"run": run, "can_run": False})
    if is_htmx(request) and not run.running:
        response["HX-Refresh"] = "true"  # the run ended: show fresh counts
    return response


# --- NIK ganda ------------------------------------------------------------------------------


@login_required
@require_GET
def group_list(request: HttpRequest) -> HttpResponse:
    ensure_quality(request.user)
    form = GroupFilterForm(request.GET or None)
    qs = groups_in_scope(request.user)
    if form.is_valid():
        data = form.cleaned_data
        if data["kind"]:
            qs = qs.filter(kind=data["kind"])
        if data["status"]:
            qs = qs.filter(status=data["status"])
        if data["wilayah"]:
            qs = qs.filter(prefix_q("region_code", data["wilayah"][:4]))
    else:
        qs = qs.filter(status=WorkStatus.OPEN)
    page = Paginator(qs.order_by("region_code", "kind", "nik", "pk"), PAGE_SIZE).get_page(
        request.GET.get("hal")
    )
    return render(request, "quality/groups.html", {"form": form, "page": page})


def _group_for(user: Any, pk: int) -> NikDuplicateGroup:
    return get_object_or_404(groups_in_scope(user), pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    ensure_quality(user)
    group = _group_for(user, pk)
    members = list(
        group.members.select_related("person", "family", "household").order_by(
            "region_code", "person_id"
        )
    )
    visible = [m for m in members if can(user, Action.VIEW, m.region_code)]
    editable = [
        (m.person_id, f"{m.person.name} ({m.region_code})")
        for m in members
        if can(user, Action.EDIT, m.region_code)
    ]
    propose_form = ProposeMemberForm(members=editable)
    dismiss_form = ReasonForm()
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "propose":
                propose_form = ProposeMemberForm(request.POST, members=editable)
                if propose_form.is_valid():
                    person = next(
                        m.person
                        for m in members
                        if m.person_id == propose_form.cleaned_data["person"]
                    )
                    proposal = decisions.propose_group_member(
                        by=user,
                        group=group,
                        person=person,
                        reason=propose_form.cleaned_data["reason"],
                    )
                    messages.success(
                        request, _("Usulan nonaktif #%(n)s dibuat.") % {"n": proposal.pk}
                    )
                    return redirect("quality:group", group.pk)
            elif action == "dismiss":
                dismiss_form = ReasonForm(request.POST)
                if dismiss_form.is_valid():
                    decisions.dismiss_group(
                        by=user, group=group, reason=dismiss_form.cleaned_data["reason"]
                    )
                    messages.success(request, _("Ditandai bukan ganda/sudah benar."))
                    return redirect("quality:group", group.pk)
        except ProposalError as exc:
            for message in _issues(exc):
                messages.error(request, message)
    # Several persons' records side by side: a read of personal data (UU PDP).
    log_access(
        request,
        action="view_nik_group",
        entity="quality.NikDuplicateGroup",
        entity_id=group.pk,
        region_code=group.region_code,
    )
    context = {
        "group": group,
        "members": members,
        "visible_ids": {m.pk for m in visible},
        "propose_form": propose_form if editable and group.status == WorkStatus.OPEN else None,
        "dismiss_form": dismiss_form if editable and group.status == WorkStatus.OPEN else None,
        "history": decisions.history(QualityDecision.Subject.NIK_GROUP, group.pk),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "quality/group_detail.html", context, status=status)


# --- flags ----------------------------------------------------------------------------------


def _rule_choices() -> list[tuple[str, str]]:
    return list(
        dict(
            EligibilityRule.objects.order_by("code", "version").values_list("code", "name")
        ).items()
    )


@login_required
@require_GET
def flag_list(request: HttpRequest) -> HttpResponse:
    ensure_quality(request.user)
    form = FlagFilterForm(request.GET or None, rules=_rule_choices())
    qs = flags_in_scope(request.user)
    if form.is_valid():
        data = form.cleaned_data
        if data["rule"]:
            qs = qs.filter(code=data["rule"])
        if data["status"]:
            qs = qs.filter(status=data["status"])
        if data["wilayah"]:
            qs = qs.filter(prefix_q("region_code", data["wilayah"]))
    else:
        qs = qs.filter(status=FlagStatus.OPEN)
    qs = qs.select_related("person").order_by("region_code", "code", "pk")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("hal"))
    return render(request, "quality/flags.html", {"form": form, "page": page})


@login_required
@require_http_methods(["GET", "POST"])
def flag_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    ensure_quality(user)
    flag = get_object_or_404(
        flags_in_scope(user).select_related("person", "rule", "proposal", "decided_by"), pk=pk
    )
    editable = can(user, Action.EDIT, flag.region_code) and flag.status == FlagStatus.OPEN
    propose_form, dismiss_form = ProposeFlagForm(), ReasonForm()
    if request.method == "POST":
        if not can(user, Action.EDIT, flag.region_code):
            raise PermissionDenied
        # A flag decided meanwhile (another reviewer) is refused by the decision itself,
        # with its message, rather than by a bare 403 here.
        action = request.POST.get("action")
        try:
            if action == "propose":
                propose_form = ProposeFlagForm(request.POST, request.FILES)
                if propose_form.is_valid():
                    files = [propose_form.cleaned_data["evidence"]]
                    proposal = decisions.propose_from_flag(
                        by=user,
                        flag=flag,
                        reason=propose_form.cleaned_data["reason"],
                        evidence_files=[f for f in files if f],
                    )
                    messages.success(
                        request, _("Usulan nonaktif #%(n)s dibuat.") % {"n": proposal.pk}
                    )
                    return redirect("quality:flag", flag.pk)
            elif action == "dismiss":
                dismiss_form = ReasonForm(request.POST)
                if dismiss_form.is_valid():
                    decisions.dismiss_flag(
                        by=user, flag=flag, reason=dismiss_form.cleaned_data["reason"]
                    )
                    messages.success(request, _("Tanda diabaikan dengan alasan."))
                    return redirect("quality:flag", flag.pk)
        except ProposalError as exc:
            for message in _issues(exc):
                messages.error(request, message)
    source = None
    if source_id := (flag.evidence or {}).get("source_person_id"):
        from terpadu.registry.models import Person

        source = Person.objects.filter(pk=source_id).only("name", "nik", "region_code").first()
    context = {
        "flag": flag,
        "source": source,
        "editable": editable,
        "propose_form": propose_form,
        "dismiss_form": dismiss_form,
        "history": decisions.history(QualityDecision.Subject.FLAG, flag.pk),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "quality/flag_detail.html", context, status=status)


# --- reference lists ------------------------------------------------------------------------


def lists_visible(user: Any) -> QuerySet[ReferenceList]:
    """Lists inside the user's scope and those covering it (e.g. a national list)."""
    covering = [user.scope[:n] for n in (0, 2, 4, 6, 10) if n <= len(user.scope)]
    return ReferenceList.objects.filter(
        prefix_q("region_code", user.scope) | Q(region_code__in=covering)
    )


@login_required
@require_http_methods(["GET", "POST"])
def reflist_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    ensure_quality(user)
    may_upload = reflists.can_upload(user)
    form = UploadForm()
    issues: list[reflists.ListIssue] = []
    total_issues = 0
    if request.method == "POST":
        if not may_upload:
            raise PermissionDenied
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                reflist = reflists.upload(by=user, **form.cleaned_data)
            except reflists.ReferenceListError as exc:
                issues, total_issues = exc.issues, exc.total
            else:
                messages.success(
                    request,
                    _("Daftar %(name)s dimuat: %(n)s NIK.")
                    % {"name": reflist.name, "n": reflist.entry_count},
                )
                return redirect("quality:reflists")
    page = Paginator(
        lists_visible(user).select_related("uploaded_by").order_by("-uploaded_at", "-pk"),
        PAGE_SIZE,
    ).get_page(request.GET.get("hal"))
    context = {
        "form": form if may_upload else None,
        "page": page,
        "issues": issues,
        "total_issues": total_issues,
        "english": (request.LANGUAGE_CODE or "").startswith("en"),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "quality/reflists.html", context, status=status)


@login_required
@require_POST
def reflist_toggle(request: HttpRequest, pk: int) -> HttpResponse:
    ensure_quality(request.user)
    reflist = get_object_or_404(lists_visible(request.user), pk=pk)
    reflists.set_active(by=request.user, reflist=reflist, active=not reflist.active)
    return redirect("quality:reflists")


# --- summaries (age categories, informal work, completeness) --------------------------------


@login_required
@require_GET
def summary(request: HttpRequest) -> HttpResponse:
    ensure_quality(request.user)
    schemes = list(AgeScheme.objects.all())
    if not schemes:
        raise Http404
    by_code = {s.code: s for s in schemes}
    scheme = by_code.get(request.GET.get("skema") or "p3ke") or schemes[0]
    ref = derived.reference_date()
    rows = sorted(derived.person_summary(request.user.scope, scheme, ref).items())
    context = {
        "schemes": schemes,
        "scheme": scheme,
        "reference_date": ref,
        "labels": [b.label for b in derived.buckets(scheme)],
        "rows": rows,
        "fields": derived.MANDATORY_PERSON_FIELDS,
    }
    return render(request, "quality/summary.html", context)
