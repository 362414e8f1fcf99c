"""Musyawarah desa/kelurahan (musdes/muskel): the village agrees its proposal list.

The meeting is planned, its attendance and one decision per agenda item are recorded, the
berita acara (BA) is generated as a PDF, and — the gate — only when the BA signed by the
participants comes back as a scan are the decisions applied: agreed proposals move to
DISEPAKATI, rejected ones to DITOLAK_MUSDES (domain.md §3.2, issue 4 item 3). Until then
every agenda item stays MENUNGGU_MUSDES whatever was typed into the decisions form.

One open meeting per desa at a time, so two meetings can never decide the same proposal.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, QuerySet

from terpadu.accounts.access import covers
from terpadu.accounts.models import Role
from terpadu.proposals.models import (
    Musdes,
    MusdesAttendee,
    MusdesDecision,
    Proposal,
    Status,
)
from terpadu.proposals.pdf import render_html, render_pdf, tanggal_indonesia, tanggal_terbilang
from terpadu.proposals.queries import proposals_for_user
from terpadu.proposals.transitions import PROPOSER_ROLES
from terpadu.proposals.workflow import TransitionError, bulk_transition
from terpadu.regions.models import Kind as RegionKind
from terpadu.regions.models import Level, Region, prefix_q

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.core.files import File

    from terpadu.accounts.models import User

# Quorum: the kepala desa/lurah (or the acting one) and at least two other participants.
QUORUM_OTHERS = 2
# "Kepala Desa", "Kades", "Lurah", "Plt. Lurah", "Pj. Kepala Desa" — not "Sekretaris Kelurahan".
HEAD_POSITION = re.compile(r"\b(kepala\s+desa|kades|lurah)\b", re.IGNORECASE)
MAX_ATTENDEES = 200
MAX_SCAN_BYTES = 10 * 1024 * 1024
# Magic bytes of what a scanner or a phone produces; the extension and the browser's
# Content-Type are not trusted.
SCAN_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)
MINUTES_TEMPLATE = "proposals/pdf/berita_acara.html"
# Long digit runs in free text could be a NIK or No KK; the BA never carries them (§10.2).
_LONG_DIGITS = re.compile(r"\d{8,}")


class MusdesError(TransitionError):
    """A refused musdes step, with the reason in Indonesian and English (`.message`)."""


def is_kelurahan(region: Region) -> bool:
    return region.kind == RegionKind.KELURAHAN


def meeting_label(region: Region) -> str:
    """``Musyawarah Kelurahan`` for a kelurahan, ``Musyawarah Desa`` otherwise."""
    return "Musyawarah Kelurahan" if is_kelurahan(region) else "Musyawarah Desa"


def meeting_short(region: Region) -> str:
    return "muskel" if is_kelurahan(region) else "musdes"


# --- reads -------------------------------------------------------------------------------------


def musdes_for_user(user: User | AnonymousUser) -> QuerySet[Musdes]:
    """Meetings of desa in the user's subtree (Dinsos, province and pusat may view;
    enumerators have no business here)."""
    if not user.is_authenticated or not user.is_active:
        return Musdes.objects.none()
    if user.role == Role.ENUMERATOR and not user.is_superuser:
        return Musdes.objects.none()
    return Musdes.objects.select_related("region").filter(prefix_q("region_code", user.scope))


def desa_waiting(user: User | AnonymousUser, limit: int = 50) -> list[dict[str, Any]]:
    """Desa of the user's area with proposals waiting for a meeting, in one GROUP BY:
    [{region_code, region__name, n}]."""
    if not user.is_authenticated or not (user.is_superuser or user.role in PROPOSER_ROLES):
        return []
    rows = (
        proposals_for_user(user)
        .filter(status=Status.MENUNGGU_MUSDES)
        .values("region_code", "region_id", "region__name")
        .annotate(n=Count("id"))
        .order_by("region_code")
    )
    return list(rows[:limit])


def may_record(user: User | AnonymousUser, region_code: str) -> bool:
    """Whether `user` may plan and record meetings of the desa `region_code`."""
    if not user.is_authenticated or not user.is_active:
        return False
    if not (user.is_superuser or user.role in PROPOSER_ROLES):
        return False
    return covers(user, region_code)  # type: ignore[arg-type]


def _ensure_may_record(by: User, region_code: str) -> None:
    if not may_record(by, region_code):
        raise PermissionDenied


def agenda(musdes: Musdes) -> QuerySet[Proposal]:
    """The items of the meeting: while it is open, the desa's proposals waiting for a musdes;
    once the signed BA is in, the proposals it decided."""
    if musdes.state == Musdes.State.SELESAI:
        qs = Proposal.objects.filter(musdes_decisions__musdes=musdes)
    else:
        qs = Proposal.objects.filter(region_code=musdes.region_code, status=Status.MENUNGGU_MUSDES)
    return qs.select_related("person__household", "household", "family__household").order_by("pk")


def subject_of(proposal: Proposal) -> dict[str, str]:
    """Name, RT/RW and address of what a proposal is about, for agendas, the BA and the
    enumerator's task list — never a NIK."""
    name, rt, rw, address = "", "", "", ""
    household = proposal.household or (
        proposal.person.household
        if proposal.person
        else (proposal.family.household if proposal.family else None)
    )
    if proposal.person:
        name = proposal.person.name
    if household is not None:
        rt, rw, address = household.rt, household.rw, household.address
    payload = proposal.payload if isinstance(proposal.payload, dict) else {}
    if not name:
        name = _payload_head_name(payload)
    fields = payload.get("household_fields")
    if isinstance(fields, dict) and not (rt or rw or address):
        rt, rw = str(fields.get("rt") or ""), str(fields.get("rw") or "")
        address = str(fields.get("address") or "")
    if not name:
        name = _LONG_DIGITS.sub("…", proposal.summary) or f"#{proposal.pk}"
    rt_rw = f"{rt or '-'}/{rw or '-'}" if (rt or rw) else "-"
    return {
        "name": name,
        "rt_rw": rt_rw,
        "address": address,
        "kind": str(proposal.get_kind_display()),
    }


def _payload_head_name(payload: Mapping[str, Any]) -> str:
    families = payload.get("families")
    if not isinstance(families, list):
        return ""
    members = [
        m
        for fam in families
        if isinstance(fam, dict)
        for m in fam.get("members", [])
        if isinstance(m, dict)
    ]
    for key in ("relation_ruta", "relation_kk"):
        for m in members:
            if str(m.get(key)) == "1" and m.get("name"):
                return str(m["name"])
    return str(members[0].get("name", "")) if members else ""


def quorum_met(attendees: Sequence[tuple[str, str]]) -> bool:
    """Kepala desa/lurah present and at least QUORUM_OTHERS other participants."""
    head_present = any(HEAD_POSITION.search(position) for _, position in attendees)
    return head_present and len(attendees) - 1 >= QUORUM_OTHERS


def attendance_of(musdes: Musdes) -> list[tuple[str, str]]:
    return list(musdes.attendees.order_by("pk").values_list("name", "position"))


# --- writes ------------------------------------------------------------------------------------


def plan_musdes(*, by: User, region: Region, held_on: dt.date, place: str, chair: str) -> Musdes:
    """Plan a meeting of `region` (a desa/kelurahan). Refused while another one is open."""
    if region.level != Level.DESA:
        raise MusdesError(
            "not_desa",
            "Musdes/muskel diadakan untuk satu desa/kelurahan.",
            "A musdes/muskel is held for one desa/kelurahan.",
        )
    _ensure_may_record(by, region.digits)
    if not place.strip() or not chair.strip():
        raise MusdesError(
            "missing", "Tempat dan pimpinan rapat wajib diisi.", "Place and chair are required."
        )
    with transaction.atomic():
        # Lock the desa row so two operators planning at once cannot both pass the check.
        Region.objects.select_for_update().filter(pk=region.pk).first()
        open_one = (
            Musdes.objects.filter(region_code=region.digits)
            .exclude(state=Musdes.State.SELESAI)
            .first()
        )
        if open_one is not None:
            raise MusdesError(
                "open_exists",
                f"Masih ada {meeting_short(region)} yang belum selesai "
                f"({tanggal_indonesia(open_one.held_on)}); selesaikan dulu.",
                f"Another meeting of this desa is still open ({open_one.held_on}); "
                "finish it first.",
            )
        return Musdes.objects.create(
            region=region,
            region_code=region.digits,
            held_on=held_on,
            place=place.strip(),
            chair=chair.strip(),
            created_by=by,
        )


def _ensure_open(musdes: Musdes) -> None:
    if musdes.state == Musdes.State.SELESAI:
        raise MusdesError(
            "closed",
            "Berita acara bertanda tangan sudah diunggah; musyawarah ini tidak dapat diubah.",
            "The signed minutes are uploaded; this meeting can no longer be changed.",
        )


def record_attendance(*, by: User, musdes: Musdes, attendees: list[tuple[str, str]]) -> int:
    """Replace the attendance list with `attendees` [(name, position)]; returns the count.

    Saving an incomplete list is allowed (the secretary types as people arrive); the quorum
    is checked when decisions are recorded and when the BA is generated.
    """
    _ensure_may_record(by, musdes.region_code)
    _ensure_open(musdes)
    rows = [(name.strip(), position.strip()) for name, position in attendees if name.strip()]
    if len(rows) > MAX_ATTENDEES:
        raise MusdesError(
            "too_many",
            f"Paling banyak {MAX_ATTENDEES} peserta.",
            f"At most {MAX_ATTENDEES} attendees.",
        )
    too_long = [name for name, position in rows if len(name) > 120 or len(position) > 120]
    if too_long:
        raise MusdesError(
            "too_long",
            "Nama dan jabatan paling panjang 120 karakter.",
            "Names and positions are at most 120 characters.",
        )
    with transaction.atomic():
        MusdesAttendee.objects.filter(musdes=musdes).delete()
        MusdesAttendee.objects.bulk_create(
            MusdesAttendee(musdes=musdes, name=name, position=position) for name, position in rows
        )
        _drop_stale_minutes(musdes)
    return len(rows)


def _drop_stale_minutes(musdes: Musdes) -> None:
    # A BA generated before the change no longer says what was decided; make them
    # generate it again rather than sign an outdated one.
    if musdes.minutes_pdf:
        musdes.minutes_pdf.delete(save=False)
        Musdes.objects.filter(pk=musdes.pk).update(minutes_pdf="")


def _ensure_quorum(musdes: Musdes) -> None:
    if not quorum_met(attendance_of(musdes)):
        raise MusdesError(
            "no_quorum",
            "Kuorum belum terpenuhi: kepala desa/lurah dan sekurang-kurangnya "
            f"{QUORUM_OTHERS} peserta lain harus tercatat hadir.",
            f"No quorum: the village head and at least {QUORUM_OTHERS} other participants "
            "must be recorded as present.",
        )


def record_decisions(*, by: User, musdes: Musdes, decisions: Mapping[int, tuple[bool, str]]) -> int:
    """Record agree/reject (+ note) for every agenda item, replacing earlier decisions.

    Nothing moves yet: the decisions are applied by `upload_signed_minutes`. Returns the
    number of decisions recorded.
    """
    _ensure_may_record(by, musdes.region_code)
    _ensure_open(musdes)
    _ensure_quorum(musdes)
    pending = set(agenda(musdes).values_list("pk", flat=True))
    if not pending:
        raise MusdesError(
            "empty_agenda",
            "Tidak ada usulan yang menunggu musdes di desa ini.",
            "No proposals of this desa are waiting for a musdes.",
        )
    given = {int(pk) for pk in decisions}
    missing, extra = sorted(pending - given), sorted(given - pending)
    if missing:
        raise MusdesError(
            "missing_decision",
            "Setiap usulan harus diputuskan; belum ada keputusan untuk: "
            + ", ".join(f"#{pk}" for pk in missing),
            "Every item needs a decision; missing: " + ", ".join(f"#{pk}" for pk in missing),
        )
    if extra:
        raise MusdesError(
            "not_on_agenda",
            "Usulan berikut tidak ada dalam agenda: " + ", ".join(f"#{pk}" for pk in extra),
            "Not on the agenda: " + ", ".join(f"#{pk}" for pk in extra),
        )
    with transaction.atomic():
        MusdesDecision.objects.filter(musdes=musdes).delete()
        MusdesDecision.objects.bulk_create(
            MusdesDecision(
                musdes=musdes,
                proposal_id=int(pk),
                agreed=bool(agreed),
                note=(note or "").strip()[:255],
            )
            for pk, (agreed, note) in decisions.items()
        )
        Musdes.objects.filter(pk=musdes.pk).update(state=Musdes.State.DIPUTUSKAN)
        _drop_stale_minutes(musdes)
    musdes.state = Musdes.State.DIPUTUSKAN
    musdes.minutes_pdf = ""  # type: ignore[assignment]
    return len(decisions)


def minutes_context(musdes: Musdes) -> dict[str, Any]:
    """Everything the BA shows. Names, RT/RW and kind only: no NIK/No KK (domain.md §10.2)."""
    desa = Region.objects.select_related("parent__parent__parent").get(pk=musdes.region_id)
    kecamatan = desa.parent
    kabkota = kecamatan.parent if kecamatan else None
    provinsi = kabkota.parent if kabkota else None
    decisions = list(
        MusdesDecision.objects.filter(musdes=musdes)
        .select_related(
            "proposal__person__household", "proposal__household", "proposal__family__household"
        )
        .order_by("proposal_id")
    )
    rows = [{**subject_of(d.proposal), "note": d.note, "agreed": d.agreed} for d in decisions]
    return {
        "musdes": musdes,
        "title": f"BERITA ACARA {meeting_label(desa).upper()}",
        "meeting": meeting_label(desa),
        "desa_label": "Kelurahan" if is_kelurahan(desa) else "Desa",
        "head_label": "Lurah" if is_kelurahan(desa) else "Kepala Desa",
        "desa": desa.name,
        "kecamatan": kecamatan.name if kecamatan else "",
        "kabkota": kabkota.full_name if kabkota else "",
        "provinsi": provinsi.name if provinsi else "",
        "held_on": tanggal_indonesia(musdes.held_on),
        "held_on_words": tanggal_terbilang(musdes.held_on),
        "place": musdes.place,
        "chair": musdes.chair,
        "attendees": attendance_of(musdes),
        "agreed": [r for r in rows if r["agreed"]],
        "rejected": [r for r in rows if not r["agreed"]],
    }


def minutes_html(musdes: Musdes) -> str:
    return render_html(MINUTES_TEMPLATE, minutes_context(musdes))


def generate_minutes(musdes: Musdes) -> File:
    """Render the berita acara PDF and store it in `musdes.minutes_pdf`; returns the file."""
    _ensure_open(musdes)
    if musdes.state != Musdes.State.DIPUTUSKAN:
        raise MusdesError(
            "no_decisions",
            "Catat keputusan setiap usulan sebelum membuat berita acara.",
            "Record a decision for every item before generating the minutes.",
        )
    _ensure_quorum(musdes)
    pdf = render_pdf(MINUTES_TEMPLATE, minutes_context(musdes))
    if musdes.minutes_pdf:
        musdes.minutes_pdf.delete(save=False)
    musdes.minutes_pdf.save(f"{musdes.region_code}/ba-{musdes.pk}.pdf", ContentFile(pdf))
    return musdes.minutes_pdf


def sniff(head: bytes, signatures: Sequence[tuple[bytes, str, str]]) -> tuple[str, str] | None:
    """(content type, extension) whose magic bytes `head` starts with, or None."""
    for magic, content_type, ext in signatures:
        if head.startswith(magic):
            return content_type, ext
    return None


@dataclass(frozen=True)
class GateResult:
    agreed: int
    rejected: int


def upload_signed_minutes(*, by: User, musdes: Musdes, file: File) -> GateResult:
    """Store the signed BA scan and — only now — apply the recorded decisions.

    PDF, JPEG or PNG (checked by magic bytes), at most 10 MB. Agreed items move with
    ``musdes_agree`` and rejected ones with ``musdes_reject``, each set in one statement;
    the meeting is then SELESAI. All or nothing.
    """
    _ensure_may_record(by, musdes.region_code)
    _ensure_open(musdes)
    if musdes.state != Musdes.State.DIPUTUSKAN or not musdes.minutes_pdf:
        raise MusdesError(
            "no_minutes",
            "Buat berita acara (setelah keputusan dicatat) sebelum mengunggah hasil tanda "
            "tangannya.",
            "Generate the minutes (after recording decisions) before uploading the signed scan.",
        )
    found = _check_scan(file)
    decided = list(
        MusdesDecision.objects.filter(musdes=musdes).values_list("proposal_id", "agreed")
    )
    agreed = [pk for pk, ok in decided if ok]
    rejected = [pk for pk, ok in decided if not ok]
    note = f"{meeting_short(musdes.region).capitalize()} {tanggal_indonesia(musdes.held_on)}"
    with transaction.atomic():
        closed = (
            Musdes.objects.filter(pk=musdes.pk, state=Musdes.State.DIPUTUSKAN)
            .exclude(minutes_pdf="")
            .update(state=Musdes.State.SELESAI)
        )
        if not closed:  # another upload won the race
            raise MusdesError(
                "conflict",
                "Musyawarah ini baru saja diubah oleh pengguna lain; muat ulang halaman.",
                "This meeting was just changed by someone else; reload the page.",
            )
        moved_agreed = bulk_transition(agreed, "musdes_agree", by=by, note=note, via="musdes")
        moved_rejected = bulk_transition(rejected, "musdes_reject", by=by, note=note, via="musdes")
        file.seek(0)
        musdes.signed_scan.save(
            f"{musdes.region_code}/ba-ttd-{musdes.pk}{found[1]}", file, save=False
        )
        Musdes.objects.filter(pk=musdes.pk).update(signed_scan=musdes.signed_scan.name)
    musdes.state = Musdes.State.SELESAI
    return GateResult(moved_agreed.moved, moved_rejected.moved)


def _check_scan(file: File) -> tuple[str, str]:
    size = file.size or 0
    if size > MAX_SCAN_BYTES:
        raise MusdesError(
            "too_large",
            "Berkas terlalu besar (paling besar 10 MB).",
            "The file is too large (at most 10 MB).",
        )
    file.seek(0)
    found = sniff(file.read(16), SCAN_SIGNATURES)
    file.seek(0)
    if size == 0 or found is None:
        raise MusdesError(
            "bad_type",
            "Unggah hasil pindai berita acara berupa PDF, JPEG atau PNG.",
            "Upload the signed minutes as a PDF, JPEG or PNG scan.",
        )
    return found


def decisions_of(musdes: Musdes) -> dict[int, tuple[bool, str]]:
    """{proposal id: (agreed, note)} as recorded so far."""
    return {
        pk: (agreed, note)
        for pk, agreed, note in MusdesDecision.objects.filter(musdes=musdes).values_list(
            "proposal_id", "agreed", "note"
        )
    }
