"""Verivali: field verification of agreed proposals by enumerators (PSKS volunteers).

A supervisor assigns DISEPAKATI proposals to an enumerator whose area covers their desa
(the proposals move to VERIVALI); the enumerator records the home visit — result code of the
2020 form's Blok II, GPS, photos; the supervisor's quality check (QC) either accepts the visit
(the proposal moves on: positive → DIPERIKSA_DINSOS, negative → HASIL_NEGATIF) or returns it
for a revisit. A negative result on a record that exists in the registry becomes a new
deactivation proposal (domain.md §3.3–3.4, issue 4 item 4).

Visit photos are personal data: they are streamed by a view after the permission check and
every opening is logged; they are never published under MEDIA_URL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone, translation

from terpadu.accounts.access import covers
from terpadu.accounts.models import Role, User
from terpadu.core.models import Notification
from terpadu.proposals.models import (
    NEGATIVE_RESULT_REASON,
    Assignment,
    Proposal,
    ProposalEvent,
    Status,
    Visit,
    VisitPhoto,
    VisitResult,
)
from terpadu.proposals.pdf import tanggal_indonesia
from terpadu.proposals.queries import proposals_for_user
from terpadu.proposals.transitions import SUPERVISOR_ROLES, TRANSITIONS
from terpadu.proposals.workflow import TransitionError, bulk_transition, role_may, transition
from terpadu.regions.models import prefix_q

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.core.files import File

# Indonesia's bounding box (Sabang–Merauke, Miangas–Rote): a point outside is a typo or a
# device that did not get a fix.
LAT_RANGE = (Decimal(-11), Decimal(6))
LON_RANGE = (Decimal(95), Decimal(141))
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 20
MAX_ASSIGN = 500
OPEN_STATES = (Assignment.State.DITUGASKAN, Assignment.State.DIKEMBALIKAN)
_MICRO = Decimal("0.000001")


class VerivaliError(TransitionError):
    """A refused verivali step (`.message` in the active language; `.field` for forms)."""

    def __init__(
        self, code: str, message_id: str, message_en: str, *, field: str | None = None
    ) -> None:
        super().__init__(code, message_id, message_en)
        self.field = field


class VisitInvalid(Exception):
    """A visit that cannot be accepted; every problem at once, nothing written."""

    def __init__(self, issues: list[VerivaliError]) -> None:
        super().__init__("; ".join(i.message_id for i in issues))
        self.issues = issues


def _prefix(qs: QuerySet[Any], field: str, prefix: str) -> QuerySet[Any]:
    return qs.filter(prefix_q(field, prefix))


# --- who may do what -----------------------------------------------------------------------


def may_assign(user: User | AnonymousUser) -> bool:
    return role_may(user, TRANSITIONS["assign"])  # type: ignore[arg-type]


def may_supervise(user: User | AnonymousUser, region_code: str = "") -> bool:
    """Supervisors (operator kecamatan, verifikator, admin kab/kota) covering `region_code`."""
    if not user.is_authenticated or not user.is_active:
        return False
    if not (user.is_superuser or user.role in SUPERVISOR_ROLES):
        return False
    return covers(user, region_code)  # type: ignore[arg-type]


def enumerator_covers(enumerator: User, region_code: str) -> bool:
    return (
        enumerator.is_active
        and enumerator.role == Role.ENUMERATOR
        and bool(enumerator.scope)
        and region_code.startswith(enumerator.scope)
    )


# --- reads ---------------------------------------------------------------------------------


def assignable(user: User | AnonymousUser) -> QuerySet[Proposal]:
    """DISEPAKATI proposals of the user's subtree, ready to be given to an enumerator."""
    if not may_assign(user):
        return Proposal.objects.none()
    qs = Proposal.objects.filter(status=Status.DISEPAKATI)
    return _prefix(qs, "region_code", user.scope)  # type: ignore[union-attr]


def enumerators_for(user: User | AnonymousUser) -> QuerySet[User]:
    """Active enumerators working inside the user's area, or over it (a kecamatan TKSK for
    a desa operator)."""
    if not may_assign(user):
        return User.objects.none()
    scope: str = user.scope  # type: ignore[union-attr]
    enumerators = User.objects.filter(role=Role.ENUMERATOR, is_active=True)
    inside = _prefix(enumerators, "scope", scope)
    above = [scope[:n] for n in (2, 4, 6) if len(scope) > n]
    return (
        (inside | enumerators.filter(scope__in=above))
        .select_related("region")
        .order_by("scope", "first_name", "username")
    )


def assignments_for_enumerator(user: User) -> QuerySet[Assignment]:
    """The enumerator's own open assignments (assigned or returned for a revisit)."""
    return (
        Assignment.objects.filter(enumerator=user, state__in=OPEN_STATES)
        .select_related("proposal__region", "proposal__household", "proposal__person__household")
        .order_by("due_on", "pk")
    )


def assignment_for_enumerator(user: User, pk: int) -> Assignment:
    """One of the enumerator's own assignments; 404 for anyone else's."""
    try:
        return Assignment.objects.select_related("proposal__region").get(pk=pk, enumerator=user)
    except Assignment.DoesNotExist:
        raise Http404 from None


def _with_visits(qs: QuerySet[Assignment]) -> QuerySet[Assignment]:
    visits = Visit.objects.order_by("-pk").prefetch_related(
        Prefetch("photos", queryset=VisitPhoto.objects.order_by("pk"))
    )
    return qs.select_related(
        "proposal__region", "proposal__household", "proposal__person__household", "enumerator"
    ).prefetch_related(Prefetch("visits", queryset=visits))


def qc_queue(user: User | AnonymousUser) -> QuerySet[Assignment]:
    """Submitted visits waiting for the supervisor's check, with their visits and photos
    (a fixed number of queries whatever the page holds)."""
    if not may_supervise(user, getattr(user, "scope", "")):
        return Assignment.objects.none()
    qs = Assignment.objects.filter(state=Assignment.State.DIKIRIM)
    qs = _prefix(qs, "region_code", user.scope)  # type: ignore[union-attr]
    return _with_visits(qs).order_by("pk")


def assignment_for_supervisor(user: User | AnonymousUser, pk: int) -> Assignment:
    try:
        return qc_queue(user).get(pk=pk)
    except Assignment.DoesNotExist:
        raise Http404 from None


def photo_for_user(user: User | AnonymousUser, pk: int) -> VisitPhoto:
    """A visit photo, when the user may see its proposal (404 otherwise)."""
    visible = proposals_for_user(user).values("pk")
    try:
        return VisitPhoto.objects.select_related("visit__assignment").get(
            pk=pk, visit__assignment__proposal__in=visible
        )
    except VisitPhoto.DoesNotExist:
        raise Http404 from None


def latest_visit(assignment: Assignment) -> Visit | None:
    return assignment.visits.order_by("-pk").first()


# --- assign --------------------------------------------------------------------------------


def assign(
    *,
    by: User,
    proposal_ids: Iterable[int],
    enumerator: User,
    due_on: dt.date | None = None,
) -> int:
    """Give DISEPAKATI proposals to `enumerator`; they move to VERIVALI. All or nothing.

    Every proposal must be in the actor's area and in the enumerator's; a fixed number of
    queries whatever the count.
    """
    ids = sorted({int(pk) for pk in proposal_ids})
    if not may_assign(by):
        raise PermissionDenied
    if not ids:
        raise VerivaliError(
            "empty", "Pilih sekurang-kurangnya satu usulan.", "Choose at least one proposal."
        )
    if len(ids) > MAX_ASSIGN:
        raise VerivaliError(
            "too_many",
            f"Paling banyak {MAX_ASSIGN} usulan sekali tugas.",
            f"At most {MAX_ASSIGN} proposals at once.",
        )
    if enumerator.role != Role.ENUMERATOR or not enumerator.is_active:
        raise VerivaliError(
            "not_enumerator",
            "Petugas yang dipilih bukan enumerator aktif.",
            "The chosen user is not an active enumerator.",
            field="enumerator",
        )
    if due_on is not None and due_on < timezone.localdate():
        raise VerivaliError(
            "due_past",
            "Batas waktu tidak boleh di masa lalu.",
            "The due date cannot be in the past.",
            field="due_on",
        )
    rows = dict(assignable(by).filter(pk__in=ids).values_list("pk", "region_code"))
    unavailable = [pk for pk in ids if pk not in rows]
    if unavailable:
        raise VerivaliError(
            "not_assignable",
            "Usulan berikut tidak (lagi) berstatus Disepakati di wilayah Anda: "
            + ", ".join(f"#{pk}" for pk in unavailable),
            "Not (or no longer) agreed proposals of your area: "
            + ", ".join(f"#{pk}" for pk in unavailable),
        )
    outside = [pk for pk, code in rows.items() if not enumerator_covers(enumerator, code)]
    if outside:
        raise VerivaliError(
            "outside_enumerator",
            "Usulan berikut berada di luar wilayah tugas enumerator: "
            + ", ".join(f"#{pk}" for pk in sorted(outside)),
            "Outside the enumerator's area: " + ", ".join(f"#{pk}" for pk in sorted(outside)),
            field="enumerator",
        )
    with transaction.atomic():
        moved = bulk_transition(ids, "assign", by=by, via="assign").moved
        if moved != len(ids):  # someone moved one of them since we read; all or nothing
            raise VerivaliError(
                "conflict",
                "Sebagian usulan baru saja diubah oleh pengguna lain; muat ulang halaman.",
                "Some proposals were just changed by someone else; reload the page.",
            )
        Assignment.objects.bulk_create(
            Assignment(
                proposal_id=pk,
                enumerator=enumerator,
                region_code=rows[pk],
                due_on=due_on,
                assigned_by=by,
            )
            for pk in ids
        )
        Notification.objects.create(
            user=enumerator,
            message_id=f"{len(ids)} tugas verivali baru untuk Anda.",
            message_en=f"{len(ids)} new verivali assignments for you.",
            link="/usulan/verivali/tugas/",
        )
    return len(ids)


# --- the visit -----------------------------------------------------------------------------


def sniff_image(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a JPEG, PNG or WebP by its magic bytes, else None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", ".jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", ".png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", ".webp"
    return None


def _coordinate(value: Any, bounds: tuple[Decimal, Decimal]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(_MICRO)
    except (InvalidOperation, ValueError):
        raise ValueError from None
    if not (bounds[0] <= number <= bounds[1]):
        raise ValueError
    return number


def _issue(field: str | None, code: str, message_id: str, message_en: str) -> VerivaliError:
    return VerivaliError(code, message_id, message_en, field=field)


def _check_visit(
    *,
    result: int,
    visited_on: dt.date,
    latitude: Any,
    longitude: Any,
    respondent: str,
    photos: Sequence[tuple[str, File]],
) -> tuple[list[VerivaliError], Decimal | None, Decimal | None, list[tuple[str, File, str]]]:
    issues: list[VerivaliError] = []
    if result not in VisitResult.values:
        issues.append(_issue("result", "result", "Pilih hasil verivali.", "Choose a result."))
    if visited_on > timezone.localdate():
        issues.append(
            _issue(
                "visited_on",
                "future",
                "Tanggal kunjungan tidak boleh di masa depan.",
                "The visit date cannot be in the future.",
            )
        )
    lat = lon = None
    try:
        lat = _coordinate(latitude, LAT_RANGE)
    except ValueError:
        issues.append(
            _issue(
                "latitude",
                "lat",
                "Lintang harus angka antara -11 dan 6 (wilayah Indonesia).",
                "Latitude must be a number between -11 and 6 (Indonesia).",
            )
        )
    try:
        lon = _coordinate(longitude, LON_RANGE)
    except ValueError:
        issues.append(
            _issue(
                "longitude",
                "lon",
                "Bujur harus angka antara 95 dan 141 (wilayah Indonesia).",
                "Longitude must be a number between 95 and 141 (Indonesia).",
            )
        )
    found = result == VisitResult.SELESAI
    coords_given = latitude not in (None, "") or longitude not in (None, "")
    if (found or coords_given) and (latitude in (None, "") or longitude in (None, "")):
        issues.append(
            _issue(
                "latitude",
                "gps",
                "Lokasi GPS (lintang dan bujur) wajib diisi bila rumah tangga ditemukan.",
                "GPS location (latitude and longitude) is required when the household is found.",
            )
        )
    if len(respondent) > 120:
        issues.append(
            _issue("respondent", "long", "Nama responden terlalu panjang.", "Name too long.")
        )
    checked: list[tuple[str, File, str]] = []
    if len(photos) > MAX_PHOTOS:
        issues.append(
            _issue(
                None,
                "photos",
                f"Paling banyak {MAX_PHOTOS} foto.",
                f"At most {MAX_PHOTOS} photos.",
            )
        )
    for kind, upload in photos:
        field = f"photo_{kind}"
        if kind not in VisitPhoto.Kind.values:
            issues.append(_issue(None, "kind", "Jenis foto tidak dikenal.", "Unknown photo kind."))
            continue
        if (upload.size or 0) > MAX_PHOTO_BYTES:
            issues.append(
                _issue(
                    field,
                    "too_large",
                    "Foto terlalu besar (paling besar 5 MB).",
                    "The photo is too large (at most 5 MB).",
                )
            )
            continue
        upload.seek(0)
        sniffed = sniff_image(upload.read(16))
        upload.seek(0)
        if sniffed is None:
            issues.append(
                _issue(
                    field,
                    "bad_type",
                    "Foto harus berupa gambar JPEG, PNG atau WebP.",
                    "Photos must be JPEG, PNG or WebP images.",
                )
            )
            continue
        checked.append((kind, upload, sniffed[1]))
    if found and not any(kind == VisitPhoto.Kind.DEPAN for kind, _ in photos):
        issues.append(
            _issue(
                "photo_depan",
                "front_photo",
                "Foto tampak depan rumah wajib bila rumah tangga ditemukan.",
                "A photo of the front of the house is required when the household is found.",
            )
        )
    return issues, lat, lon, checked


def submit_visit(
    *,
    by: User,
    assignment: Assignment,
    result: int,
    visited_on: dt.date,
    latitude: Any = None,
    longitude: Any = None,
    respondent: str = "",
    notes: str = "",
    photos: Sequence[tuple[str, File]] = (),
) -> Visit:
    """Record the enumerator's visit; the assignment goes to DIKIRIM for QC.

    GPS inside Indonesia and a front photo are required when the household was found;
    photos must be JPEG/PNG/WebP (magic bytes) of at most 5 MB. Raises `VisitInvalid`
    with every problem at once and writes nothing then.
    """
    if not by.is_active or assignment.enumerator_id != by.pk:
        raise PermissionDenied
    if assignment.state not in OPEN_STATES:
        raise VerivaliError(
            "not_open",
            "Tugas ini sudah dikirim atau diterima; tidak dapat diisi lagi.",
            "This assignment was already submitted or accepted.",
        )
    issues, lat, lon, checked = _check_visit(
        result=result,
        visited_on=visited_on,
        latitude=latitude,
        longitude=longitude,
        respondent=respondent.strip(),
        photos=photos,
    )
    if issues:
        raise VisitInvalid(issues)
    with transaction.atomic():
        claimed = Assignment.objects.filter(pk=assignment.pk, state__in=OPEN_STATES).update(
            state=Assignment.State.DIKIRIM
        )
        if not claimed:  # a double submit from a flaky connection
            raise VerivaliError(
                "conflict",
                "Hasil kunjungan ini sudah terkirim.",
                "This visit was already submitted.",
            )
        visit = Visit.objects.create(
            assignment=assignment,
            result=result,
            visited_on=visited_on,
            latitude=lat,
            longitude=lon,
            respondent=respondent.strip(),
            notes=notes.strip(),
            submitted_by=by,
        )
        folder = f"{assignment.region_code}/{assignment.pk}"
        photo_rows = []
        for kind, upload, ext in checked:
            photo = VisitPhoto(visit=visit, kind=kind)
            # Our own name: the device's file name may carry a person's name.
            photo.file.save(f"{folder}/{visit.pk}-{kind}{ext}", upload, save=False)
            photo_rows.append(photo)
        VisitPhoto.objects.bulk_create(photo_rows)
    assignment.state = Assignment.State.DIKIRIM
    return visit


# --- QC ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QcResult:
    proposal: Proposal
    deactivation: Proposal | None
    # Why no deactivation proposal was made for an existing record (e.g. already nonaktif).
    deactivation_refused: list[str]


def _ensure_supervisor(by: User, assignment: Assignment) -> None:
    if not may_supervise(by, assignment.region_code):
        raise PermissionDenied


def _ensure_submitted(assignment: Assignment) -> Visit:
    visit = latest_visit(assignment)
    if assignment.state != Assignment.State.DIKIRIM or visit is None:
        raise VerivaliError(
            "not_submitted",
            "Belum ada hasil kunjungan yang menunggu pemeriksaan untuk tugas ini.",
            "No submitted visit is waiting for a check on this assignment.",
        )
    return visit


def _close_qc(assignment: Assignment, state: str, *, by: User, note: str) -> None:
    done = Assignment.objects.filter(pk=assignment.pk, state=Assignment.State.DIKIRIM).update(
        state=state, qc_by=by, qc_at=timezone.now(), qc_note=note
    )
    if not done:
        raise VerivaliError(
            "conflict",
            "Hasil kunjungan ini baru saja diperiksa pengguna lain; muat ulang halaman.",
            "This visit was just checked by someone else; reload the page.",
        )
    assignment.state = state


def qc_accept(*, by: User, assignment: Assignment, note: str = "") -> QcResult:
    """Accept the latest visit: result 1 → DIPERIKSA_DINSOS, results 2–7 → HASIL_NEGATIF, and
    then, if the proposal is about an existing record, a new NONAKTIF draft citing the visit
    (through creation.propose_deactivation, with the visit's photos as evidence)."""
    _ensure_supervisor(by, assignment)
    visit = _ensure_submitted(assignment)
    result = VisitResult(visit.result)
    positive = result == VisitResult.SELESAI
    with translation.override("id"):
        label = str(result.label)
    event_note = f"QC kunjungan {tanggal_indonesia(visit.visited_on)}: {label}"
    if note.strip():
        event_note += f". {note.strip()}"
    with transaction.atomic():
        _close_qc(assignment, Assignment.State.DITERIMA, by=by, note=note.strip())
        proposal = transition(
            assignment.proposal,
            "verivali_positive" if positive else "verivali_negative",
            by=by,
            note=event_note,
            via="qc",
        )
        deactivation, refused = None, []
        if not positive and _has_record(proposal):
            deactivation, refused = _propose_deactivation(
                proposal, visit=visit, result=result, label=label, by=by
            )
    return QcResult(proposal, deactivation, refused)


def _has_record(proposal: Proposal) -> bool:
    return bool(proposal.person_id or proposal.family_id or proposal.household_id)


def _propose_deactivation(
    original: Proposal, *, visit: Visit, result: VisitResult, label: str, by: User
) -> tuple[Proposal | None, list[str]]:
    """The follow-up deactivation, written by the creation service with its own rules (one
    open proposal per record, evidence for meninggal/pindah, not already nonaktif). Its
    refusal does not undo the QC verdict: the reasons are returned for the page to show."""
    from terpadu.proposals import creation

    target = original.person or original.family or original.household
    enumerator = visit.submitted_by
    reason = (
        f"Hasil verivali lapangan atas usulan #{original.pk} "
        f"({original.get_kind_display()}): {label}. Dikunjungi "
        f"{tanggal_indonesia(visit.visited_on)} oleh "
        f"{enumerator.get_full_name() or enumerator.username}."
    )
    if visit.notes:
        reason += f" Catatan petugas: {visit.notes}"
    try:
        with transaction.atomic():  # a savepoint: a refusal leaves the QC itself intact
            proposal = creation.propose_deactivation(
                by=by,
                target=target,
                reason_code=NEGATIVE_RESULT_REASON[result],
                reason=reason,
                evidence_files=_photos_as_evidence(visit),
            )
    except creation.ProposalError as exc:
        return None, [issue.message for issue in exc.errors]
    return proposal, []


def _photos_as_evidence(visit: Visit) -> list[ContentFile[bytes]]:
    # The visit's photos document the finding (a house gone, a death certificate); the
    # evidence rules accept JPEG/PNG, so WebP photos stay with the visit only.
    files = []
    for photo in visit.photos.order_by("pk"):
        with photo.file.storage.open(photo.file.name, "rb") as fh:
            data = fh.read()
        sniffed = sniff_image(data[:16])
        if sniffed and sniffed[0] != "image/webp":
            files.append(ContentFile(data, name=f"verivali-{photo.kind}{sniffed[1]}"))
    return files


def qc_return(*, by: User, assignment: Assignment, note: str) -> Assignment:
    """Send the visit back to the enumerator for a revisit; the proposal stays in VERIVALI.
    The note is kept on the assignment and in the proposal's history."""
    _ensure_supervisor(by, assignment)
    _ensure_submitted(assignment)
    if not note.strip():
        raise VerivaliError(
            "note_required",
            "Tuliskan alasan pengembalian untuk enumerator.",
            "Write the reason for the enumerator.",
            field="note",
        )
    with transaction.atomic():
        _close_qc(assignment, Assignment.State.DIKEMBALIKAN, by=by, note=note.strip())
        ProposalEvent.objects.create(
            proposal_id=assignment.proposal_id,
            action="qc_return",
            from_status=Status.VERIVALI,
            to_status=Status.VERIVALI,
            actor=by,
            actor_role=by.role,
            actor_scope=by.scope,
            note=note.strip(),
        )
        Notification.objects.create(
            user_id=assignment.enumerator_id,
            message_id=f"Hasil kunjungan usulan #{assignment.proposal_id} dikembalikan "
            "untuk dikunjungi ulang.",
            message_en=f"The visit for proposal #{assignment.proposal_id} was returned "
            "for a revisit.",
            link=f"/usulan/verivali/tugas/{assignment.pk}/kunjungan/",
        )
    return assignment


def photo_content_type(photo: VisitPhoto) -> str:
    """The stored photo's type by its magic bytes (never trusted from the upload)."""
    with photo.file.storage.open(photo.file.name, "rb") as fh:
        sniffed = sniff_image(fh.read(16))
    return sniffed[0] if sniffed else "application/octet-stream"
