"""The kab/kota monthly batch (paket pengesahan) from finalisation to pusat (domain.md §3.5).

FINAL → DISAHKAN → DIKIRIM_PROVINSI → DIKIRIM_PUSAT → DIPROSES_PUSAT → SELESAI.

Every step is one conditional UPDATE on the batch (only a batch still in the expected status
moves, so two users clicking at once cannot both win), one `BatchEvent`, and — where the
items move too — one `workflow.bulk_transition` over the batch's proposals with via="batch",
so the cost does not depend on the batch size. All of it in one transaction.

BPNT guideline (S2): the bupati/wali kota ratifies and the letter must reach Kemensos and the
governor by the 25th; hence the gate "no sending before the signed letter is uploaded".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from terpadu.accounts.models import Role, User
from terpadu.core.models import Notification
from terpadu.proposals import calendar
from terpadu.proposals.models import (
    Batch,
    BatchEvent,
    BatchStatus,
    CalendarYear,
    Kind,
    Proposal,
    Status,
)
from terpadu.proposals.transitions import KABKOTA_ROLES, PROVINSI_ROLES, PUSAT_ROLES
from terpadu.proposals.workflow import MoveResult, TransitionError, bulk_transition
from terpadu.regions.models import Level, Region, prefix_q

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

MAX_LETTER_BYTES = 10 * 1024 * 1024
# Magic bytes of what a scanner or phone produces for a signed letter.
LETTER_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
)

# Batch statuses a province may comment on: the batch has reached it.
ANNOTATABLE = frozenset(
    {
        BatchStatus.DIKIRIM_PROVINSI,
        BatchStatus.DIKIRIM_PUSAT,
        BatchStatus.DIPROSES_PUSAT,
        BatchStatus.SELESAI,
    }
)


EVENT_LABELS: dict[str, Any] = {
    "finalise": _("Difinalisasi, draf surat pengesahan dibuat"),
    "ratify": _("Surat bertanda tangan diunggah (disahkan)"),
    "send_to_province": _("Dikirim ke provinsi"),
    "annotate": _("Catatan provinsi"),
    "forward": _("Diteruskan ke pusat"),
    "receive": _("Diterima pusat"),
    "integrity": _("Uji integritas selesai"),
}


class BatchError(TransitionError):
    """A refused batch step, with the reason in Indonesian and English."""


# --- permission --------------------------------------------------------------------------


def _ensure_role(user: User, roles: Iterable[str], region_code: str) -> None:
    """Role in `roles` and `region_code` in the user's subtree, else 403."""
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied
    if not (user.is_superuser or user.role in roles):
        raise PermissionDenied
    if not region_code.startswith(user.scope):
        raise PermissionDenied


def may_finalise(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role == Role.ADMIN_KABKOTA)


def may_forward(user: User, batch: Batch) -> bool:
    """A province role whose subtree holds the batch's kab/kota."""
    return (
        user.is_authenticated
        and (user.is_superuser or user.role in PROVINSI_ROLES)
        and batch.region_code.startswith(user.scope)
    )


def may_receive(user: User) -> bool:
    return user.is_authenticated and (user.is_superuser or user.role in PUSAT_ROLES)


# --- reads used by the pages ----------------------------------------------------------------


def final_items(kabkota_code: str) -> QuerySet[Proposal]:
    """FINAL_KABKOTA proposals of a kab/kota not yet in a batch awaiting signature.

    An item returned by pusat and fixed through the generic proposal page may still point at
    its old (processed) batch; such an item is free again, so only membership of a batch that
    is still FINAL (not yet signed) counts as taken.
    """
    qs = Proposal.objects.filter(prefix_q("region_code", kabkota_code), status=Status.FINAL_KABKOTA)
    return qs.filter(Q(batch__isnull=True) | ~Q(batch__status=BatchStatus.FINAL))


@dataclass(frozen=True)
class LetterTable:
    """Counts for the surat pengesahan: per kind and per kecamatan (no NIK, no names)."""

    kinds: list[tuple[str, int]]
    kecamatan: list[tuple[str, str, list[int], int]]  # digits, name, n per Kind, total
    total: int


def letter_table(batch: Batch) -> LetterTable:
    """One GROUP BY over the batch items (kind × kecamatan) and one query for the names."""
    rows = (
        Proposal.objects.filter(batch=batch)
        .annotate(kec=Substr("region_code", 1, 6))
        .values("kec", "kind")
        .annotate(n=Count("id"))
        .order_by("kec", "kind")
    )
    per_kec: dict[str, dict[str, int]] = {}
    per_kind: dict[str, int] = {}
    for row in rows:
        per_kec.setdefault(row["kec"], {})[row["kind"]] = row["n"]
        per_kind[row["kind"]] = per_kind.get(row["kind"], 0) + row["n"]
    names = dict(
        Region.objects.filter(digits__in=list(per_kec), valid_to__isnull=True).values_list(
            "digits", "name"
        )
    )
    kinds = [(label, per_kind.get(value, 0)) for value, label in Kind.choices]
    kec = [
        (
            digits,
            names.get(digits, digits),
            [counts.get(value, 0) for value in Kind.values],
            sum(counts.values()),
        )
        for digits, counts in sorted(per_kec.items())
    ]
    return LetterTable(kinds=kinds, kecamatan=kec, total=sum(per_kind.values()))


def render_letter(batch: Batch) -> bytes:
    """The draft surat pengesahan (PDF, Indonesian) for the bupati/wali kota to sign."""
    from terpadu.proposals.pdf import render_pdf, tanggal_indonesia

    table = letter_table(batch)
    deadline = calendar.deadlines(batch.period)
    year, month = (int(p) for p in batch.period.split("-"))
    context = {
        "batch": batch,
        "region": batch.region,
        "table": table,
        "kind_columns": Kind.choices,
        "period_label": tanggal_indonesia(dt.date(year, month, 1)).split(" ", 1)[-1],
        "ratification_label": tanggal_indonesia(deadline.ratification),
        "today_label": tanggal_indonesia(calendar.today()),
        "is_kota": batch.region.kind == "kota",
    }
    return render_pdf("proposals/pdf/surat_pengesahan.html", context)


# --- steps -----------------------------------------------------------------------------------


def _event(batch: Batch, *, by: User, action: str, from_status: str, note: str = "") -> None:
    BatchEvent.objects.create(
        batch=batch,
        action=action,
        from_status=from_status,
        to_status=batch.status,
        actor=by,
        actor_role=by.role,
        note=note,
    )


def _wrong_order(batch: Batch, expected: str, action_id: str, action_en: str) -> BatchError:
    return BatchError(
        "wrong_order",
        f"Paket {batch} berstatus '{batch.get_status_display()}'; {action_id} hanya dapat "
        f"dilakukan bila paket berstatus '{BatchStatus(expected).label}'.",
        f"Batch {batch} is '{batch.status}'; {action_en} is only possible when it is '{expected}'.",
    )


def _advance(
    batch: Batch,
    *,
    by: User,
    action: str,
    source: str,
    target: str,
    stamp: str,
    item_action: str | None,
    labels: tuple[str, str],
    extra: dict[str, Any] | None = None,
    note: str = "",
) -> MoveResult | None:
    """Move the batch `source` → `target` (conditional UPDATE), stamp the time, write the
    event and move the items with `item_action`. Caller holds the transaction."""
    if batch.status != source:
        raise _wrong_order(batch, source, *labels)
    now = timezone.now()
    fields = {"status": target, stamp: now, **(extra or {})}
    if not Batch.objects.filter(pk=batch.pk, status=source).update(**fields):
        raise BatchError(
            "conflict",
            f"Paket {batch} baru saja diubah oleh pengguna lain; muat ulang halaman.",
            f"Batch {batch} was just changed by someone else; reload the page.",
        )
    from_status = batch.status
    for name, value in fields.items():
        setattr(batch, name, value)
    _event(batch, by=by, action=action, from_status=from_status, note=note)
    if item_action is None:
        return None
    return bulk_transition(batch.proposals.all(), item_action, by=by, via="batch")


def _notify(users: QuerySet[User], message_id: str, message_en: str, link: str) -> None:
    """One notification per user of `users` (one SELECT + one INSERT)."""
    Notification.objects.bulk_create(
        Notification(user_id=pk, message_id=message_id, message_en=message_en, link=link)
        for pk in users.filter(is_active=True).values_list("pk", flat=True)
    )


def _users_at(roles: Iterable[str], region_code: str) -> QuerySet[User]:
    return User.objects.filter(role__in=list(roles), scope=region_code)


def finalise_batch(*, by: User, kabkota_region: Region, period: str | None = None) -> Batch:
    """Collect every free FINAL_KABKOTA proposal of the kab/kota into a new batch for `period`
    (default: this month), number it within the period and generate the draft letter.

    Refuses an empty batch. The items are claimed by one UPDATE, so a proposal approved while
    this runs either makes it in or waits for the next batch — never both.
    """
    _ensure_role(by, {Role.ADMIN_KABKOTA}, kabkota_region.digits)
    if kabkota_region.level != Level.KABKOTA:
        raise BatchError(
            "not_kabkota",
            "Paket pengesahan dibuat per kabupaten/kota.",
            "A ratification batch is made per regency/city.",
        )
    period = period or calendar.period_of(calendar.today())
    code = kabkota_region.digits
    try:
        with transaction.atomic():
            last = Batch.objects.filter(region_code=code, period=period).aggregate(
                m=Max("sequence")
            )["m"]
            batch = Batch.objects.create(
                region=kabkota_region,
                region_code=code,
                period=period,
                sequence=(last or 0) + 1,
                finalised_by=by,
            )
            n = final_items(code).update(batch=batch, period=period)
            if not n:
                raise BatchError(
                    "empty_batch",
                    "Tidak ada usulan berstatus Final kab/kota untuk dimasukkan ke paket.",
                    "There are no final kab/kota proposals to put in a batch.",
                )
            batch.item_count = n
            Batch.objects.filter(pk=batch.pk).update(item_count=n)
            regenerate_letter(batch)
            _event(batch, by=by, action="finalise", from_status="", note=f"{n}")
    except IntegrityError:  # another admin numbered the same sequence at the same moment
        raise BatchError(
            "conflict",
            "Paket lain sedang dibuat untuk kab/kota ini; coba lagi.",
            "Another batch is being made for this regency/city; try again.",
        ) from None
    return batch


def regenerate_letter(batch: Batch) -> None:
    """Re-render the draft letter (e.g. after the letter number is known)."""
    batch.letter_pdf.save(
        f"draf-{batch.region_code}-{batch.period}-{batch.sequence}.pdf",
        ContentFile(render_letter(batch)),
        save=False,
    )
    Batch.objects.filter(pk=batch.pk).update(letter_pdf=batch.letter_pdf.name)


def sniff_letter(file: UploadedFile) -> tuple[str, str]:
    """(content type, extension) from the file's magic bytes; BatchError if not allowed."""
    if file.size is not None and file.size > MAX_LETTER_BYTES:
        raise BatchError(
            "file_too_large",
            "Berkas surat terlalu besar (maksimal 10 MB).",
            "The letter file is too large (10 MB at most).",
        )
    file.seek(0)
    head = file.read(16)
    file.seek(0)
    for magic, content_type, ext in LETTER_SIGNATURES:
        if head.startswith(magic):
            return content_type, ext
    raise BatchError(
        "file_type",
        "Surat bertanda tangan harus berupa PDF, JPEG atau PNG.",
        "The signed letter must be a PDF, JPEG or PNG file.",
    )


def upload_signed_letter(
    *, by: User, batch: Batch, file: UploadedFile, letter_number: str, signatory: str
) -> Batch:
    """Store the letter signed by the bupati/wali kota; the batch and its items become
    DISAHKAN (items via `ratify`)."""
    _ensure_role(by, {Role.ADMIN_KABKOTA}, batch.region_code)
    letter_number, signatory = letter_number.strip(), signatory.strip()
    if not letter_number or not signatory:
        raise BatchError(
            "letter_fields",
            "Nomor surat dan nama penandatangan wajib diisi.",
            "The letter number and the signatory are required.",
        )
    if batch.status != BatchStatus.FINAL:
        raise _wrong_order(
            batch, BatchStatus.FINAL, "unggah surat bertanda tangan", "uploading the signed letter"
        )
    _, ext = sniff_letter(file)
    with transaction.atomic():
        name = f"ttd-{batch.region_code}-{batch.period}-{batch.sequence}.{ext}"
        batch.signed_letter.save(name, file, save=False)
        _advance(
            batch,
            by=by,
            action="ratify",
            source=BatchStatus.FINAL,
            target=BatchStatus.DISAHKAN,
            stamp="ratified_at",
            item_action="ratify",
            labels=("pengesahan", "ratification"),
            extra={
                "signed_letter": batch.signed_letter.name,
                "letter_number": letter_number,
                "signatory": signatory,
            },
            note=letter_number,
        )
    return batch


def send_to_province(*, by: User, batch: Batch) -> Batch:
    """Admin kab/kota sends the ratified batch to the province (items → DIKIRIM_PROVINSI)."""
    _ensure_role(by, {Role.ADMIN_KABKOTA}, batch.region_code)
    if not batch.signed_letter:
        raise BatchError(
            "no_signed_letter",
            "Unggah surat pengesahan bertanda tangan sebelum mengirim paket.",
            "Upload the signed ratification letter before sending the batch.",
        )
    with transaction.atomic():
        _advance(
            batch,
            by=by,
            action="send_to_province",
            source=BatchStatus.DISAHKAN,
            target=BatchStatus.DIKIRIM_PROVINSI,
            stamp="sent_at",
            item_action="send_to_province",
            labels=("pengiriman ke provinsi", "sending to the province"),
        )
        _notify(
            _users_at(PROVINSI_ROLES, batch.region_code[:2]),
            f"Paket pengesahan {batch} diterima dari kab/kota.",
            f"Ratification batch {batch} arrived from the regency/city.",
            reverse("proposals:batch_detail", args=[batch.pk]),
        )
    return batch


def annotate(*, by: User, batch: Batch, note: str) -> Batch:
    """A province adds a comment to a batch of one of its kab/kota (kept as a BatchEvent)."""
    _ensure_role(by, PROVINSI_ROLES, batch.region_code)
    note = note.strip()
    if not note:
        raise BatchError("note_required", "Catatan wajib diisi.", "A note is required.")
    if batch.status not in ANNOTATABLE:
        raise BatchError(
            "wrong_order",
            "Paket belum dikirim ke provinsi; catatan belum dapat diberikan.",
            "The batch has not reached the province yet; it cannot be annotated.",
        )
    with transaction.atomic():
        text = f"{batch.province_note}\n{note}".strip() if batch.province_note else note
        Batch.objects.filter(pk=batch.pk).update(province_note=text)
        batch.province_note = text
        _event(batch, by=by, action="annotate", from_status=batch.status, note=note)
    return batch


def forward_to_pusat(*, by: User, batch: Batch) -> Batch:
    """The province forwards the batch to pusat (items → DIKIRIM_PUSAT)."""
    _ensure_role(by, PROVINSI_ROLES, batch.region_code)
    with transaction.atomic():
        _advance(
            batch,
            by=by,
            action="forward",
            source=BatchStatus.DIKIRIM_PROVINSI,
            target=BatchStatus.DIKIRIM_PUSAT,
            stamp="forwarded_at",
            item_action="forward",
            labels=("penerusan ke pusat", "forwarding to the ministry"),
        )
        _notify(
            User.objects.filter(role=Role.PUSAT),
            f"Paket pengesahan {batch} diteruskan provinsi ke pusat.",
            f"Ratification batch {batch} was forwarded to the ministry.",
            reverse("proposals:pusat_home"),
        )
    return batch


def receive_at_pusat(*, by: User, batch: Batch) -> Batch:
    """Pusat receives the batch (items → PROSES_PUSAT) and queues the integrity test."""
    _ensure_role(by, PUSAT_ROLES, batch.region_code)
    with transaction.atomic():
        _advance(
            batch,
            by=by,
            action="receive",
            source=BatchStatus.DIKIRIM_PUSAT,
            target=BatchStatus.DIPROSES_PUSAT,
            stamp="received_at",
            item_action="receive",
            labels=("penerimaan di pusat", "receiving at the ministry"),
        )
        # Enqueue only once the receipt is committed, so the worker sees the moved items.
        batch_id, user_id = batch.pk, by.pk
        transaction.on_commit(lambda: _enqueue_integrity(batch_id, user_id))
    return batch


def _enqueue_integrity(batch_id: int, user_id: int) -> None:
    from terpadu.proposals.tasks import run_integrity_task

    run_integrity_task.enqueue(batch_id, user_id)


def fix_returned(*, by: User, proposals: QuerySet[Proposal] | Iterable[int]) -> MoveResult:
    """Kab/kota takes items returned by pusat back into review (`fix_kabkota`) and frees them
    from their old batch, so they travel in next month's batch."""
    if not isinstance(proposals, QuerySet):
        proposals = Proposal.objects.filter(pk__in=list(proposals))
    _ensure_role(by, KABKOTA_ROLES, by.scope)
    with transaction.atomic():
        result = bulk_transition(proposals, "fix_kabkota", by=by, via="proposal")
        # An item under review never belongs to a batch, so the rows in the actor's scope
        # that are under review and still point at a batch are exactly the ones just moved.
        stale = Proposal.objects.filter(
            prefix_q("region_code", by.scope), status=Status.DIPERIKSA_DINSOS, batch__isnull=False
        )
        stale.update(batch=None, period="")
    return result


def configure_calendar(
    *, by: User, year: int, input_end_day: int, ratification_day: int
) -> CalendarYear:
    """Pusat sets a year's monthly calendar (domain.md §3.5: default day 20 and day 25)."""
    if not (by.is_superuser or by.role in PUSAT_ROLES):
        raise PermissionDenied
    if not (1 <= input_end_day <= ratification_day <= 28):
        raise BatchError(
            "calendar_days",
            "Tanggal harus 1–28 dan batas input desa tidak boleh setelah batas pengesahan.",
            "Days must be 1–28 and the input deadline may not fall after ratification.",
        )
    row, _created = CalendarYear.objects.update_or_create(
        year=year,
        defaults={
            "input_end_day": input_end_day,
            "ratification_day": ratification_day,
            "updated_by": by,
        },
    )
    return row
