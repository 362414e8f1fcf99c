"""Proposal pages on the desa/operator side: list, create each kind, detail, edit, generic
actions, comments and destination consent.

Thin views: parse with forms.py, authorize (`proposal_for_user` answers 404 outside scope,
`creation.ensure_can_propose` 403), call one function of creation.py or workflow.py, respond.
Refusals come back as messages or as errors next to the field, never as an error page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Model
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from terpadu.accounts.access import Action, can, in_scope, log_access
from terpadu.accounts.models import Role
from terpadu.core.htmx import is_htmx, render_page
from terpadu.lib.nik import mask_nik
from terpadu.proposals import creation
from terpadu.proposals.forms import (
    MEMBER_PREFIX,
    ActionForm,
    CommentForm,
    ConsentForm,
    CorrectionForm,
    DeactivationForm,
    MemberFormSet,
    MoveForm,
    NewHouseholdForm,
    ProposalFilterForm,
    ReactivationForm,
    RevisionNoteForm,
    add_member_data,
    place_issues,
)
from terpadu.proposals.models import Evidence, Kind, Proposal, Status
from terpadu.proposals.queries import (
    filtered_proposals,
    proposal_for_user,
    status_counts,
)
from terpadu.proposals.transitions import TRANSITIONS, actions_from
from terpadu.proposals.workflow import (
    TransitionError,
    check_transition,
    get_transition,
    transition,
)
from terpadu.registry import queries as registry_queries
from terpadu.registry.codelists import DEFAULT_CODELIST, FIELD_VARIABLE, label
from terpadu.registry.models import Family, Household, Person
from terpadu.registry.records import RegistryError

PAGE_SIZE = 25


# --- helpers ------------------------------------------------------------------------------------


def _ensure_proposer(user: Any) -> None:
    """The "new" pages need a role that may propose somewhere in the user's own scope."""
    creation.ensure_can_propose(user, user.scope or "")


def _target_or_404(model: type[Model], user: Any, pk: int) -> Any:
    # Action.EDIT, not VIEW: a record one may only read cannot be proposed on (404, no leak).
    return get_object_or_404(in_scope(model.objects.all(), user, Action.EDIT), pk=pk)


def _refusal_messages(request: HttpRequest, exc: RegistryError) -> None:
    for issue in exc.errors:
        messages.error(request, issue.message)


def _warning_messages(request: HttpRequest, proposal: Proposal) -> None:
    lang_en = (request.LANGUAGE_CODE or "id").startswith("en")
    for w in proposal.payload.get("warnings", []):
        messages.warning(request, w["message_en"] if lang_en else w["message_id"])


def _saved(request: HttpRequest, proposal: Proposal) -> None:
    messages.success(request, _("Usulan #%(pk)s disimpan sebagai draf.") % {"pk": proposal.pk})


def _place_on_form(form: Any, exc: RegistryError) -> None:
    """Validator issues onto the form's fields (by path), the rest as non-field errors."""
    for issue in exc.errors:
        field = issue.path.rsplit(".", 1)[-1]
        form.add_error(field if field in form.fields else None, issue.message)


# --- list ---------------------------------------------------------------------------------------


@login_required
@require_GET
def proposal_list(request: HttpRequest) -> HttpResponse:
    """Proposals in the user's scope, filtered, 25 a page, with counts per status."""
    form = ProposalFilterForm(request.GET or None, user=request.user)
    qs = (
        filtered_proposals(request.user, form.cleaned_data if form.is_valid() else None)
        .select_related("region", "created_by")
        .order_by("-updated_at", "-pk")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("hal"))
    counts = status_counts(request.user)
    query = request.GET.copy()
    query.pop("hal", None)
    ctx = {
        "form": form,
        "page": page,
        "counts": [(s, s.label, counts.get(s.value, 0)) for s in Status if counts.get(s.value)],
        "total": sum(counts.values()),
        "query": query.urlencode(),
        "can_propose": can(request.user, Action.EDIT, request.user.scope or ""),
    }
    return render_page(request, "proposals/list.html", "proposals/_list_results.html", ctx)


# --- new ----------------------------------------------------------------------------------------


@login_required
@require_GET
def new(request: HttpRequest) -> HttpResponse:
    """Choose a kind; for kinds about an existing record, find the person first."""
    _ensure_proposer(request.user)
    q = request.GET.get("q", "")
    parsed = registry_queries.parse_query(q)
    persons: list[Person] = []
    if q and parsed.ok:
        persons = list(
            registry_queries.search_persons(request.user, q=parsed).select_related("family")[:20]
        )
    return render(
        request,
        "proposals/new.html",
        {"q": q, "notes": parsed.notes, "persons": persons, "searched": bool(q)},
    )


def _household_forms(request: HttpRequest, initial: dict[str, Any] | None = None) -> Any:
    members = (initial or {}).pop("members", None)
    if request.method == "POST":
        adding = "tambah_anggota" in request.POST
        data = add_member_data(request.POST) if adding else request.POST
        form = NewHouseholdForm(data, user=request.user)
        formset = MemberFormSet(data, prefix=MEMBER_PREFIX)
        return form, formset, adding
    form = NewHouseholdForm(initial=initial, user=request.user)
    formset = MemberFormSet(initial=members, prefix=MEMBER_PREFIX)
    return form, formset, False


def _household_bundle(form: NewHouseholdForm, formset: Any) -> tuple[list[Any], list[dict]]:
    kept = formset.kept_forms()
    family = {"no_kk": form.cleaned_data.get("no_kk"), "members": [f.member_fields() for f in kept]}
    return kept, [family]


def _render_household(request: HttpRequest, ctx: dict[str, Any], status: int = 200) -> HttpResponse:
    return render(request, "proposals/household_form.html", ctx, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def new_household(request: HttpRequest) -> HttpResponse:
    """Usulan baru: household address, one family (No KK) and its members."""
    _ensure_proposer(request.user)
    form, formset, adding = _household_forms(request)
    ctx: dict[str, Any] = {"form": form, "formset": formset, "hide_errors": adding}
    if request.method == "GET" or adding:
        return _render_household(request, ctx)
    if form.is_valid() and formset.is_valid():
        kept, families = _household_bundle(form, formset)
        try:
            proposal = creation.propose_new_household(
                by=request.user,
                region=form.cleaned_data["desa"],
                household_fields=form.household_fields(),
                families=families,
                active_registration=form.cleaned_data["active_registration"],
                reason=form.cleaned_data["reason"],
            )
        except RegistryError as exc:
            ctx["bundle_errors"] = place_issues(exc.issues, household_form=form, member_forms=kept)
        else:
            _saved(request, proposal)
            _warning_messages(request, proposal)
            return redirect("proposals:detail", pk=proposal.pk)
    return _render_household(request, ctx, status=422)


def _propose_page(
    request: HttpRequest,
    form: Any,
    propose: Callable[[dict[str, Any]], Proposal],
    *,
    template: str,
    context: dict[str, Any],
) -> HttpResponse:
    """A new proposal from one form: a valid POST calls `propose` with the cleaned data and
    opens the saved draft; a refusal goes next to its field (422). GET shows the form."""
    if request.method == "POST" and form.is_valid():
        try:
            proposal = propose(form.cleaned_data)
        except RegistryError as exc:
            _place_on_form(form, exc)
        else:
            _saved(request, proposal)
            _warning_messages(request, proposal)
            return redirect("proposals:detail", pk=proposal.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, template, {"form": form, **context}, status=status)


def _correction_page(request: HttpRequest, target: Any, *, heading: str, back: str) -> HttpResponse:
    form = CorrectionForm(request.POST or None, target=target)
    return _propose_page(
        request,
        form,
        lambda data: creation.propose_correction(
            by=request.user, target=target, changes=form.changes(), reason=data["reason"]
        ),
        template="proposals/correction_form.html",
        context={"target": target, "heading": heading, "back": back},
    )


@login_required
@require_http_methods(["GET", "POST"])
def new_correction(request: HttpRequest, person_pk: int) -> HttpResponse:
    """Perbaikan of a person's data (NIK included), prefilled with the current values."""
    _ensure_proposer(request.user)
    person = _target_or_404(Person, request.user, person_pk)
    return _correction_page(
        request,
        person,
        heading=_("Perbaikan data individu: %(name)s") % {"name": person.name},
        back=reverse("registry:person", args=[person.pk]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def new_correction_household(request: HttpRequest, household_pk: int) -> HttpResponse:
    """Perbaikan of a household's address and housing data."""
    _ensure_proposer(request.user)
    household = _target_or_404(Household, request.user, household_pk)
    return _correction_page(
        request,
        household,
        heading=_("Perbaikan data rumah tangga #%(pk)s") % {"pk": household.pk},
        back=reverse("registry:household", args=[household.pk]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def new_correction_family(request: HttpRequest, family_pk: int) -> HttpResponse:
    """Perbaikan of a family's No KK (e.g. a *tidak padan* KK) or NUK."""
    _ensure_proposer(request.user)
    family = _target_or_404(Family, request.user, family_pk)
    return _correction_page(
        request,
        family,
        heading=_("Perbaikan data keluarga (KK) #%(pk)s") % {"pk": family.pk},
        back=reverse("registry:household", args=[family.household_id]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def new_deactivation(request: HttpRequest, person_pk: int) -> HttpResponse:
    """Penonaktifan of a person with a reason code and evidence."""
    _ensure_proposer(request.user)
    person = _target_or_404(Person, request.user, person_pk)
    return _propose_page(
        request,
        DeactivationForm(request.POST or None, request.FILES or None),
        lambda data: creation.propose_deactivation(
            by=request.user,
            target=person,
            reason_code=data["reason_code"],
            reason=data["reason"],
            evidence_files=data["evidence"],
        ),
        template="proposals/deactivation_form.html",
        context={"person": person},
    )


@login_required
@require_http_methods(["GET", "POST"])
def new_reactivation(request: HttpRequest, person_pk: int) -> HttpResponse:
    """Pengaktifan kembali of a nonaktif person."""
    _ensure_proposer(request.user)
    person = _target_or_404(Person, request.user, person_pk)
    return _propose_page(
        request,
        ReactivationForm(request.POST or None),
        lambda data: creation.propose_reactivation(
            by=request.user, target=person, reason=data["reason"]
        ),
        template="proposals/reactivation_form.html",
        context={"person": person},
    )


@login_required
@require_http_methods(["GET", "POST"])
def new_move(request: HttpRequest, household_pk: int) -> HttpResponse:
    """Pemindahan wilayah of a household to another desa (destination must consent)."""
    _ensure_proposer(request.user)
    household = _target_or_404(Household, request.user, household_pk)
    return _propose_page(
        request,
        MoveForm(request.POST or None),
        lambda data: creation.propose_move(
            by=request.user,
            household=household,
            destination=data["destination"],
            reason=data["reason"],
        ),
        template="proposals/move_form.html",
        context={"household": household},
    )


# --- detail -------------------------------------------------------------------------------------

MEMBER_CODED = (
    "sex",
    "relation_ruta",
    "relation_kk",
    "marital_status",
    "education_level",
    "work_sector",
    "employment_status",
    "disability",
)


def _member_rows(proposal: Proposal, *, show_full: bool) -> list[dict[str, Any]]:
    """Members of a new-household payload for the table: codes decoded, NIK masked unless
    the reader may VIEW full records of the desa."""
    rows: list[dict[str, Any]] = []
    if proposal.kind != Kind.BARU:
        return rows
    for fam in proposal.payload.get("families", []):
        for m in fam.get("members", []):
            codes = {
                name: label(DEFAULT_CODELIST, FIELD_VARIABLE[name], m.get(name))
                for name in MEMBER_CODED
            }
            nik = m.get("nik") or ""
            rows.append(
                {
                    **m,
                    **{f"{k}_label": v for k, v in codes.items()},
                    "nik_shown": nik if show_full else mask_nik(nik) if nik else "",
                    "no_kk_shown": (fam.get("no_kk") or "")
                    if show_full
                    else mask_nik(fam.get("no_kk"))
                    if fam.get("no_kk")
                    else "",
                }
            )
    return rows


def _available_actions(proposal: Proposal, user: Any) -> tuple[list[Any], list[tuple[Any, str]]]:
    """Transitions on the proposal page the user may take now, and those blocked by a gate
    (e.g. a move without the destination's consent) with the reason."""
    available, blocked = [], []
    for t in actions_from(proposal.status, proposal.kind):
        if t.via != "proposal":
            continue
        try:
            check_transition(proposal, t.action, by=user)
        except TransitionError as exc:
            if exc.code == "no_consent":
                blocked.append((t, exc.message))
        except PermissionDenied:
            continue
        else:
            available.append(t)
    return available, blocked


EVENT_LABELS = {
    "create": gettext_lazy("Usulan dibuat"),
    "edit": gettext_lazy("Isi usulan diubah"),
    "consent": gettext_lazy("Wilayah tujuan setuju"),
    "consent_refused": gettext_lazy("Wilayah tujuan tidak setuju"),
}


def _timeline(proposal: Proposal) -> list[dict[str, Any]]:
    """Events as rows: who (name, role, scope), when, what, from → to, note."""
    statuses = dict(Status.choices)
    roles = dict(Role.choices)
    rows = []
    for e in proposal.events.select_related("actor").order_by("at", "pk"):
        t = TRANSITIONS.get(e.action)
        rows.append(
            {
                "event": e,
                "action": t.label if t else EVENT_LABELS.get(e.action, e.action),
                "from": statuses.get(e.from_status, e.from_status),
                "to": statuses.get(e.to_status, e.to_status),
                "moved": e.from_status != e.to_status and bool(e.from_status),
                "role": roles.get(e.actor_role, e.actor_role),
            }
        )
    return rows


def _detail_context(request: HttpRequest, proposal: Proposal) -> dict[str, Any]:
    user = request.user
    show_full = can(user, Action.VIEW, proposal.region_code)
    available, blocked = _available_actions(proposal, user)
    return {
        "proposal": proposal,
        "show_full": show_full,
        "members": _member_rows(proposal, show_full=show_full),
        "household_fields": proposal.payload.get("household_fields", {}),
        "diff": creation.correction_diff(proposal),
        "warnings": proposal.payload.get("warnings", []),
        "evidence": list(proposal.evidence.select_related("uploaded_by").order_by("pk")),
        "timeline": _timeline(proposal),
        "roles": dict(Role.choices),
        "comments": list(proposal.comments.select_related("author")),
        "consent": creation.consent_state(proposal) if proposal.kind == Kind.PEMINDAHAN else None,
        "can_consent": creation.can_consent(user, proposal),
        "can_edit": creation.can_edit(user, proposal),
        "actions": available,
        "blocked": blocked,
        "comment_form": CommentForm(),
        "consent_form": ConsentForm(),
        "status_labels": dict(Status.choices),
        "lang_en": (request.LANGUAGE_CODE or "id").startswith("en"),
    }


@login_required
@require_GET
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One proposal: content, diff, evidence, consent, timeline, comments and actions."""
    proposal = proposal_for_user(request.user, pk)
    ctx = _detail_context(request, proposal)
    if ctx["show_full"]:
        log_access(
            request,
            action=Action.VIEW,
            entity="proposal",
            entity_id=proposal.pk,
            region_code=proposal.region_code,
        )
    return render(request, "proposals/detail.html", ctx)


@login_required
@require_POST
def proposal_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Take one transition from the proposal page; a refusal is a message on the page."""
    proposal = proposal_for_user(request.user, pk)
    form = ActionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        transition(proposal, action, by=request.user, note=note, via="proposal")
    except TransitionError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Usulan #%(pk)s: %(action)s.")
            % {"pk": proposal.pk, "action": get_transition(action).label},
        )
    return redirect("proposals:detail", pk=proposal.pk)


@login_required
@require_POST
def comment(request: HttpRequest, pk: int) -> HttpResponse:
    """Add to the comments thread (htmx: the thread fragment comes back)."""
    proposal = proposal_for_user(request.user, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            creation.add_comment(proposal=proposal, by=request.user, text=form.cleaned_data["text"])
        except RegistryError as exc:
            _place_on_form(form, exc)
        else:
            form = CommentForm()
    if is_htmx(request):
        ctx = {
            "proposal": proposal,
            "comments": list(proposal.comments.select_related("author")),
            "comment_form": form,
        }
        status = 422 if form.is_bound and form.errors else 200
        return render(request, "proposals/_comments.html", ctx, status=status)
    if form.errors:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(reverse("proposals:detail", args=[proposal.pk]) + "#komentar")


@login_required
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, pk: int) -> HttpResponse:
    """The destination desa/kab-kota agrees (or not) to receive a moving household."""
    proposal = proposal_for_user(request.user, pk)
    if not creation.can_consent(request.user, proposal):
        raise PermissionDenied
    form = ConsentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            creation.record_consent(
                by=request.user,
                proposal=proposal,
                agreed=form.cleaned_data["agreed"],
                note=form.cleaned_data["note"],
            )
        except RegistryError as exc:
            _place_on_form(form, exc)
        else:
            messages.success(request, _("Keputusan wilayah tujuan dicatat."))
            return redirect("proposals:detail", pk=proposal.pk)
    status = 422 if request.method == "POST" else 200
    ctx = {"proposal": proposal, "form": form, "consent": creation.consent_state(proposal)}
    return render(request, "proposals/consent.html", ctx, status=status)


@login_required
@require_GET
def evidence_file(request: HttpRequest, pk: int, evidence_pk: int) -> HttpResponse:
    """Serve one evidence file to those who may see the proposal (never a public URL)."""
    proposal = proposal_for_user(request.user, pk)
    evidence = get_object_or_404(Evidence, pk=evidence_pk, proposal=proposal)
    log_access(
        request,
        action=Action.VIEW,
        entity="evidence",
        entity_id=evidence.pk,
        region_code=proposal.region_code,
    )
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(
        handle,
        content_type=evidence.content_type or "application/octet-stream",
        filename=evidence.description or evidence.file.name.rsplit("/", 1)[-1],
    )


# --- edit (drafts and the revision loop) ----------------------------------------------------------


def _return_note(proposal: Proposal) -> str:
    """The note of the return that put the proposal in its current (returned) status, so the
    reviser reads why while editing; "" for a draft."""
    if proposal.status == Status.DRAFT:
        return ""
    event = (
        proposal.events.filter(to_status=proposal.status)
        .exclude(note="")
        .order_by("-at", "-pk")
        .only("note")
        .first()
    )
    return event.note if event else ""


def _edit_household(request: HttpRequest, proposal: Proposal) -> HttpResponse:
    payload = proposal.payload
    fam = (payload.get("families") or [{}])[0]
    initial = {
        **payload.get("household_fields", {}),
        "desa": proposal.region,
        "no_kk": fam.get("no_kk"),
        "active_registration": proposal.active_registration,
        "reason": proposal.reason,
        "members": fam.get("members", []),
    }
    form, formset, adding = _household_forms(request, initial)
    note_form = RevisionNoteForm(request.POST or None)
    ctx: dict[str, Any] = {
        "form": form,
        "formset": formset,
        "note_form": note_form,
        "proposal": proposal,
        "return_note": _return_note(proposal),
        "hide_errors": adding,
    }
    if request.method == "GET" or adding:
        return _render_household(request, ctx)
    if form.is_valid() and formset.is_valid() and note_form.is_valid():
        kept, families = _household_bundle(form, formset)
        try:
            creation.update_draft(
                by=request.user,
                proposal=proposal,
                note=note_form.cleaned_data["note"],
                reason=form.cleaned_data["reason"],
                region=form.cleaned_data["desa"],
                household_fields=form.household_fields(),
                families=families,
                active_registration=form.cleaned_data["active_registration"],
            )
        except RegistryError as exc:
            ctx["bundle_errors"] = place_issues(exc.issues, household_form=form, member_forms=kept)
        else:
            messages.success(request, _("Perubahan usulan disimpan."))
            _warning_messages(request, proposal)
            return redirect("proposals:detail", pk=proposal.pk)
    return _render_household(request, ctx, status=422)


def _edit_other(request: HttpRequest, proposal: Proposal) -> HttpResponse:
    """Corrections, deactivations, reactivations and moves: one form each, plus the note."""
    target = creation.correction_target(proposal)
    if target is None:
        raise Http404
    post = request.POST if request.method == "POST" else None
    if proposal.kind == Kind.PERBAIKAN:
        # GET: the proposed values; POST: compared with the registry, so only real changes go.
        initial = {} if post else dict(proposal.payload.get("changes", {}))
        initial["reason"] = proposal.reason
        form: Any = CorrectionForm(post, target=target, initial=initial)
        template = "proposals/correction_form.html"
    elif proposal.kind == Kind.NONAKTIF:
        form = DeactivationForm(
            post,
            request.FILES or None,
            initial={"reason_code": proposal.reason_code, "reason": proposal.reason},
        )
        template = "proposals/deactivation_form.html"
    elif proposal.kind == Kind.REAKTIVASI:
        form = ReactivationForm(post, initial={"reason": proposal.reason})
        template = "proposals/reactivation_form.html"
    else:
        initial = {"destination": proposal.destination, "reason": proposal.reason}
        form = MoveForm(post, initial=initial)
        template = "proposals/move_form.html"
    note_form = RevisionNoteForm(post)
    if post is not None and form.is_valid() and note_form.is_valid():
        data = form.cleaned_data
        kwargs: dict[str, Any] = {"reason": data["reason"]}
        if proposal.kind == Kind.PERBAIKAN:
            kwargs["changes"] = form.changes()
        elif proposal.kind == Kind.NONAKTIF:
            kwargs.update(reason_code=data["reason_code"], evidence_files=data["evidence"])
        elif proposal.kind == Kind.PEMINDAHAN:
            kwargs["destination"] = data["destination"]
        try:
            creation.update_draft(
                by=request.user, proposal=proposal, note=note_form.cleaned_data["note"], **kwargs
            )
        except RegistryError as exc:
            _place_on_form(form, exc)
        else:
            messages.success(request, _("Perubahan usulan disimpan."))
            return redirect("proposals:detail", pk=proposal.pk)
    ctx = {
        "form": form,
        "note_form": note_form,
        "proposal": proposal,
        "return_note": _return_note(proposal),
        "target": target,
        "person": target,
        "household": target,
        "heading": _("Ubah usulan #%(pk)s") % {"pk": proposal.pk},
        "back": reverse("proposals:detail", args=[proposal.pk]),
    }
    return render(request, template, ctx, status=422 if post is not None else 200)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a draft or a returned proposal (the revision loop); resubmitting is an action."""
    proposal = proposal_for_user(request.user, pk)
    if not creation.can_edit(request.user, proposal):
        if proposal.status not in creation.EDITABLE_STATUSES:
            messages.error(
                request,
                _("Usulan berstatus '%(status)s' tidak dapat diubah.")
                % {"status": proposal.get_status_display()},
            )
            return redirect("proposals:detail", pk=proposal.pk)
        raise PermissionDenied
    if proposal.kind == Kind.BARU:
        return _edit_household(request, proposal)
    return _edit_other(request, proposal)


urlpatterns = [
    path("", proposal_list, name="list"),
    path("baru/", new, name="new"),
    path("baru/ruta/", new_household, name="new_household"),
    path("baru/perbaikan/<int:person_pk>/", new_correction, name="new_correction"),
    path(
        "baru/perbaikan/ruta/<int:household_pk>/",
        new_correction_household,
        name="new_correction_household",
    ),
    path("baru/perbaikan/kk/<int:family_pk>/", new_correction_family, name="new_correction_family"),
    path("baru/nonaktif/<int:person_pk>/", new_deactivation, name="new_deactivation"),
    path("baru/aktifkan/<int:person_pk>/", new_reactivation, name="new_reactivation"),
    path("baru/pindah/<int:household_pk>/", new_move, name="new_move"),
    path("<int:pk>/", proposal_detail, name="detail"),
    path("<int:pk>/aksi/<slug:action>/", proposal_action, name="action"),
    path("<int:pk>/ubah/", edit, name="edit"),
    path("<int:pk>/persetujuan/", consent, name="consent"),
    path("<int:pk>/komentar/", comment, name="comment"),
    path("<int:pk>/bukti/<int:evidence_pk>/", evidence_file, name="evidence"),
]
