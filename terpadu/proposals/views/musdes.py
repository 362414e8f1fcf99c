"""Musdes/muskel pages: list, plan, the meeting page (agenda, attendance, decisions, berita
acara, signed upload) and the downloads. Rules live in proposals/musdes.py."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from terpadu.accounts.access import log_access
from terpadu.proposals import musdes as domain
from terpadu.proposals.forms_musdes import (
    DecisionsForm,
    PlanForm,
    SignedScanForm,
    attendee_formset,
    attendees_from,
)
from terpadu.proposals.models import Musdes
from terpadu.proposals.transitions import PROPOSER_ROLES
from terpadu.proposals.workflow import TransitionError

PAGE_SIZE = 25


def _musdes_for(request: HttpRequest, pk: int) -> Musdes:
    try:
        return domain.musdes_for_user(request.user).get(pk=pk)
    except Musdes.DoesNotExist:
        raise Http404 from None


def _ensure_recorder(request: HttpRequest, musdes: Musdes) -> None:
    if not domain.may_record(request.user, musdes.region_code):
        raise PermissionDenied


@login_required
@require_GET
def musdes_list(request: HttpRequest) -> HttpResponse:
    qs = domain.musdes_for_user(request.user)
    state = request.GET.get("tahap", "")
    if state in Musdes.State.values:
        qs = qs.filter(state=state)
    page = Paginator(qs.order_by("-held_on", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "proposals/musdes/list.html",
        {
            "page": page,
            "state": state,
            "states": Musdes.State.choices,
            "waiting": domain.desa_waiting(request.user),
            "may_plan": request.user.is_superuser or request.user.role in PROPOSER_ROLES,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def musdes_plan(request: HttpRequest) -> HttpResponse:
    if not (request.user.is_superuser or request.user.role in PROPOSER_ROLES):
        raise PermissionDenied
    initial = {"desa": request.GET.get("desa")} if request.GET.get("desa") else None
    form = PlanForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = domain.plan_musdes(
                by=request.user,
                region=form.cleaned_data["desa"],
                held_on=form.cleaned_data["held_on"],
                place=form.cleaned_data["place"],
                chair=form.cleaned_data["chair"],
            )
        except TransitionError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Musyawarah direncanakan."))
            return redirect("proposals:musdes_detail", pk=meeting.pk)
    status = 422 if request.method == "POST" else 200
    return render(request, "proposals/musdes/plan.html", {"form": form}, status=status)


def _detail(request: HttpRequest, meeting: Musdes, status: int = 200, **forms: Any) -> HttpResponse:
    items = list(domain.agenda(meeting))
    recorded = domain.decisions_of(meeting)
    attendance = domain.attendance_of(meeting)
    decisions_form = forms.get("decisions_form") or DecisionsForm(
        proposals=items, recorded=recorded
    )
    rows = [
        {
            "proposal": p,
            "subject": domain.subject_of(p),
            "recorded": recorded.get(p.pk),
            "choice": decisions_form[f"d_{p.pk}"] if f"d_{p.pk}" in decisions_form.fields else None,
            "note": decisions_form[f"n_{p.pk}"] if f"n_{p.pk}" in decisions_form.fields else None,
        }
        for p in items
    ]
    context = {
        "musdes": meeting,
        "label": domain.meeting_label(meeting.region),
        "rows": rows,
        "attendance": attendance,
        "quorum": domain.quorum_met(attendance),
        "quorum_others": domain.QUORUM_OTHERS,
        "editable": meeting.state != Musdes.State.SELESAI
        and domain.may_record(request.user, meeting.region_code),
        "may_record": domain.may_record(request.user, meeting.region_code),
        "attendance_formset": forms.get("attendance_formset")
        or attendee_formset(initial=attendance),
        "decisions_form": decisions_form,
        "upload_form": forms.get("upload_form") or SignedScanForm(),
        "error": forms.get("error", ""),
        "State": Musdes.State,
    }
    return render(request, "proposals/musdes/detail.html", context, status=status)


@login_required
@require_GET
def musdes_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _musdes_for(request, pk))


@login_required
@require_POST
def musdes_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _musdes_for(request, pk)
    _ensure_recorder(request, meeting)
    formset = attendee_formset(request.POST)
    if not formset.is_valid():
        return _detail(request, meeting, 422, attendance_formset=formset)
    try:
        n = domain.record_attendance(
            by=request.user, musdes=meeting, attendees=attendees_from(formset)
        )
    except TransitionError as exc:
        return _detail(request, meeting, 422, attendance_formset=formset, error=exc.message)
    messages.success(request, _("Daftar hadir disimpan (%(n)d orang).") % {"n": n})
    return redirect("proposals:musdes_detail", pk=meeting.pk)


@login_required
@require_POST
def musdes_decisions(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _musdes_for(request, pk)
    _ensure_recorder(request, meeting)
    form = DecisionsForm(request.POST, proposals=list(domain.agenda(meeting)))
    if not form.is_valid():
        return _detail(request, meeting, 422, decisions_form=form)
    try:
        n = domain.record_decisions(by=request.user, musdes=meeting, decisions=form.decisions())
    except TransitionError as exc:
        return _detail(request, meeting, 422, decisions_form=form, error=exc.message)
    messages.success(
        request,
        _(
            "%(n)d keputusan dicatat. Usulan baru berpindah setelah berita acara "
            "bertanda tangan diunggah."
        )
        % {"n": n},
    )
    return redirect("proposals:musdes_detail", pk=meeting.pk)


@login_required
@require_POST
def musdes_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _musdes_for(request, pk)
    _ensure_recorder(request, meeting)
    try:
        domain.generate_minutes(meeting)
    except TransitionError as exc:
        return _detail(request, meeting, 422, error=exc.message)
    return redirect("proposals:musdes_minutes_pdf", pk=meeting.pk)


def _stream(request: HttpRequest, meeting: Musdes, field: str, filename: str) -> HttpResponse:
    stored = getattr(meeting, field)
    if not stored:
        raise Http404
    log_access(
        request,
        action=f"download_{field}",
        entity="musdes",
        entity_id=meeting.pk,
        region_code=meeting.region_code,
    )
    head = stored.open("rb").read(16)
    stored.seek(0)
    found = domain.sniff(head, domain.SCAN_SIGNATURES)
    content_type = found[0] if found else "application/octet-stream"
    ext = found[1] if found else ""
    response = FileResponse(
        stored, content_type=content_type, as_attachment=True, filename=f"{filename}{ext}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_GET
def musdes_minutes_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _musdes_for(request, pk)
    return _stream(request, meeting, "minutes_pdf", f"berita-acara-{meeting.region_code}-{pk}")


@login_required
@require_GET
def musdes_signed(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _musdes_for(request, pk)
    return _stream(request, meeting, "signed_scan", f"ba-ttd-{meeting.region_code}-{pk}")


@login_required
@require_POST
def musdes_upload(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _musdes_for(request, pk)
    _ensure_recorder(request, meeting)
    form = SignedScanForm(request.POST, request.FILES)
    if not form.is_valid():
        return _detail(request, meeting, 422, upload_form=form)
    try:
        result = domain.upload_signed_minutes(
            by=request.user, musdes=meeting, file=form.cleaned_data["file"]
        )
    except TransitionError as exc:
        form.add_error("file", exc.message)
        return _detail(request, meeting, 422, upload_form=form)
    messages.success(
        request,
        _("Berita acara diunggah: %(a)d usulan disepakati, %(r)d ditolak.")
        % {"a": result.agreed, "r": result.rejected},
    )
    return redirect("proposals:musdes_detail", pk=meeting.pk)


urlpatterns: list[URLPattern] = [
    path("musdes/", musdes_list, name="musdes_list"),
    path("musdes/baru/", musdes_plan, name="musdes_plan"),
    path("musdes/<int:pk>/", musdes_detail, name="musdes_detail"),
    path("musdes/<int:pk>/hadir/", musdes_attendance, name="musdes_attendance"),
    path("musdes/<int:pk>/keputusan/", musdes_decisions, name="musdes_decisions"),
    path("musdes/<int:pk>/berita-acara/", musdes_minutes, name="musdes_minutes"),
    path("musdes/<int:pk>/berita-acara.pdf", musdes_minutes_pdf, name="musdes_minutes_pdf"),
    path("musdes/<int:pk>/unggah/", musdes_upload, name="musdes_upload"),
    path("musdes/<int:pk>/ba-ttd/", musdes_signed, name="musdes_signed"),
]
