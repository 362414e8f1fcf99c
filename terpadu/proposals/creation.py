"""Writing proposals on the desa/operator side: create each kind, edit while it is with the
desa (or returned), comment, consent to a move, and read a correction's diff.

Every function takes its actor keyword-only (``by``) and checks it through one place,
`ensure_can_propose`. A proposal never edits the registry: it stores a payload that the
monthly determination applies. The payload is validated now, with the registry's own rules
(`records.validate_household_bundle`, `records.check_changes`), so the desa sees NIK/No KK
errors while the family is still in front of them, not months later. Validation happens
before any write, and the writes of one act share a transaction: a refusal leaves nothing.

Errors are `ProposalError` (a `RegistryError`, so callers handle one shape: `issues` with
`path`, `message_id`, `message_en`); permission failures are `PermissionDenied`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone

from terpadu.accounts.access import Action, can
from terpadu.core.models import Notification
from terpadu.lib.nik import normalise_id
from terpadu.proposals.models import (
    CLOSED_STATUSES,
    Comment,
    Consent,
    Evidence,
    Kind,
    Proposal,
    ProposalEvent,
    Status,
    Target,
)
from terpadu.proposals.queries import proposals_for_user
from terpadu.proposals.transitions import KABKOTA_ROLES
from terpadu.regions.models import Level, Region
from terpadu.registry import records
from terpadu.registry.codelists import FIELD_VARIABLE, label
from terpadu.registry.models import Family, Household, NonaktifReason, Person, RecordStatus
from terpadu.registry.records import RecordIssue, RegistryError, json_safe

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from terpadu.accounts.models import User

RegistryTarget = Person | Household | Family

# Statuses in which the payload may still change, and who holds the pen in each: the desa
# while drafting or after a kab/kota return; the kab/kota after a return from pusat.
DESA_EDITABLE = frozenset({Status.DRAFT, Status.DIKEMBALIKAN_KE_DESA})
KABKOTA_EDITABLE = frozenset({Status.DIKEMBALIKAN_KE_KABKOTA})
EDITABLE_STATUSES = DESA_EDITABLE | KABKOTA_EDITABLE

# Deaths and moves are facts a document proves (akta kematian/surat keterangan, surat pindah).
EVIDENCE_REQUIRED = frozenset({NonaktifReason.MENINGGAL, NonaktifReason.PINDAH})
EVIDENCE_MAX_BYTES = 5 * 1024 * 1024
# Sniffed from the first bytes, not trusted from the browser's content type or file name.
EVIDENCE_SIGNATURES: dict[str, tuple[bytes, str]] = {
    "pdf": (b"%PDF-", "application/pdf"),
    "png": (b"\x89PNG\r\n\x1a\n", "image/png"),
    "jpg": (b"\xff\xd8\xff", "image/jpeg"),
}
EVIDENCE_EXTENSIONS = {"pdf": "pdf", "png": "png", "jpg": "jpg", "jpeg": "jpg"}

# A correction that names these is another kind of proposal (a move, a family restructure).
_RELATION_FIELDS = frozenset({"region", "head", "household", "family"})


class ProposalError(RegistryError):
    """A proposal was refused; `issues` lists every reason (same shape as RegistryError)."""


def _issue(path: str, code: str, message_id: str, message_en: str) -> RecordIssue:
    return RecordIssue(path, code, "error", message_id, message_en)


def _refuse(path: str, code: str, message_id: str, message_en: str) -> ProposalError:
    return ProposalError([_issue(path, code, message_id, message_en)])


def _issue_dict(issue: RecordIssue) -> dict[str, str]:
    return {
        "path": issue.path,
        "code": issue.code,
        "message_id": issue.message_id,
        "message_en": issue.message_en,
    }


# --- permission -------------------------------------------------------------------------


def ensure_can_propose(user: User, region_code: str) -> None:
    """Raise PermissionDenied unless `user` may propose changes for `region_code`.

    The one permission check of this module: Action.EDIT over the region (operator desa in
    its desa, kecamatan assisting, Dinsos kab/kota; never province, pusat or enumerators).
    """
    if not can(user, Action.EDIT, region_code):
        raise PermissionDenied


def _ensure_reason(reason: str) -> str:
    if not (reason or "").strip():
        raise _refuse(
            "reason",
            "reason_required",
            "Alasan/keterangan usulan wajib diisi.",
            "A reason for the proposal is required.",
        )
    return reason.strip()


# --- shared writing -----------------------------------------------------------------------


def _target_fields(target: RegistryTarget) -> dict[str, Any]:
    if isinstance(target, Person):
        return {
            "target_type": Target.PERSON,
            "person": target,
            "household_id": target.household_id,
            "family_id": target.family_id,
        }
    if isinstance(target, Family):
        return {"target_type": Target.FAMILY, "family": target, "household_id": target.household_id}
    return {"target_type": Target.HOUSEHOLD, "household": target}


def _region_id_of(target: RegistryTarget) -> int:
    if isinstance(target, Household):
        return target.region_id
    return Household.objects.filter(pk=target.household_id).values_list("region_id", flat=True)[0]


def _target_label(target: RegistryTarget, heads: Mapping[int, str] | None = None) -> str:
    """The target as a proposal summary names it: the person's name, KK #id, or Ruta #id with
    its head's name; `heads` (from `household_heads`) saves a query per household."""
    if isinstance(target, Person):
        return target.name
    if isinstance(target, Family):
        return f"KK #{target.pk}"
    head = (
        heads.get(target.pk) if heads is not None else household_heads([target.pk]).get(target.pk)
    )
    return f"Ruta #{target.pk}" + (f" ({head})" if head else "")


def household_heads(household_ids: Iterable[int]) -> dict[int, str]:
    """{household id: name of its head (relation_ruta 1, lowest member_no)}: one query."""
    rows = (
        Person.objects.filter(household_id__in=list(household_ids), relation_ruta=1)
        .order_by("household_id", "-member_no")
        .values_list("household_id", "name")
    )
    return dict(rows)  # the last row per household wins: the lowest member_no


def _event(proposal: Proposal, action: str, *, by: User, note: str = "") -> ProposalEvent:
    return ProposalEvent.objects.create(
        proposal=proposal,
        action=action,
        from_status=proposal.status if action != "create" else "",
        to_status=proposal.status,
        actor=by,
        actor_role=by.role or ("superuser" if by.is_superuser else ""),
        actor_scope=by.scope,
        note=note,
    )


def _create(
    *,
    by: User,
    kind: str,
    reason: str,
    summary: str,
    evidence_files: Sequence[UploadedFile] = (),
    **fields: Any,
) -> Proposal:
    """Write the proposal in DRAFT with its one "create" event (and evidence) atomically."""
    with transaction.atomic():
        proposal = Proposal.objects.create(
            kind=kind,
            status=Status.DRAFT,
            reason=reason,
            summary=summary[:200],
            created_by=by,
            **fields,
        )
        event = _event(proposal, "create", by=by, note=reason)
        _save_evidence(proposal, evidence_files, by=by, event=event)
    return proposal


def _ensure_no_open(kind: str, **target: Any) -> None:
    """One open proposal of a kind per record: a second deactivation of the same person
    would be determined twice."""
    open_one = (
        Proposal.objects.filter(kind=kind, **target)
        .exclude(status__in=list(CLOSED_STATUSES))
        .values_list("pk", flat=True)
        .first()
    )
    if open_one:
        raise _refuse(
            "target",
            "already_proposed",
            f"Sudah ada usulan yang masih berjalan untuk data ini (#{open_one}).",
            f"An open proposal already exists for this record (#{open_one}).",
        )


# --- usulan baru ----------------------------------------------------------------------------


def _head_name(families: Sequence[Mapping[str, Any]]) -> str:
    members = [m for fam in families for m in (fam.get("members") or [])]
    for relation in ("relation_ruta", "relation_kk"):
        for m in members:
            if str(m.get(relation) or "") == "1":
                return str(m.get("name") or "")
    return str(members[0].get("name") or "") if members else ""


def _json_bundle(value: Any) -> Any:
    """The bundle as JSON (dates as ISO text); blanks dropped so the payload stays small."""
    if isinstance(value, Mapping):
        return {k: _json_bundle(v) for k, v in value.items() if v not in (None, "")}
    if isinstance(value, list | tuple):
        return [_json_bundle(v) for v in value]
    return json_safe(value)


def _new_household_payload(
    region: Region,
    household_fields: Mapping[str, Any],
    families: Sequence[Mapping[str, Any]],
) -> tuple[dict[str, Any], str]:
    hh = _json_bundle(dict(household_fields))
    fams = _json_bundle(list(families))
    issues = records.validate_household_bundle(region, fams, hh)
    if any(i.severity == "error" for i in issues):
        raise ProposalError(issues)
    payload = {
        "household_fields": hh,
        "families": fams,
        "warnings": [_issue_dict(i) for i in issues],
    }
    n = sum(len(f.get("members") or []) for f in fams)
    summary = f"Ruta baru: {_head_name(fams) or '-'} ({n} ART)"
    return payload, summary


def propose_new_household(
    *,
    by: User,
    region: Region,
    household_fields: Mapping[str, Any],
    families: Sequence[Mapping[str, Any]],
    active_registration: bool = False,
    reason: str,
) -> Proposal:
    """Usulan baru: a new household (families and members) for `region` (a current desa).

    The payload is the bundle `records.create_household` takes at determination; it is
    validated now with the same rules, errors refuse, warnings stay in payload["warnings"].
    """
    ensure_can_propose(by, region.digits)
    reason = _ensure_reason(reason)
    payload, summary = _new_household_payload(region, household_fields, families)
    return _create(
        by=by,
        kind=Kind.BARU,
        reason=reason,
        summary=summary,
        region=region,
        region_code=region.digits,
        target_type=Target.HOUSEHOLD,
        active_registration=active_registration,
        payload=payload,
    )


# --- perbaikan ----------------------------------------------------------------------------


def _normalised(model: type[models.Model], name: str, raw: Any) -> Any:
    """A value as the registry would store it, for comparing with the current one."""
    field = model._meta.get_field(name)
    if raw in (None, ""):
        return "" if isinstance(field, models.CharField) and not field.null else None
    if name in ("nik", "no_kk"):
        return normalise_id(raw)
    try:
        return json_safe(field.to_python(raw))
    except ValidationError:
        return raw


def _current(target: models.Model, name: str) -> Any:
    return json_safe(getattr(target, target._meta.get_field(name).attname))


def _correction_payload(
    target: RegistryTarget, changes: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    relational = sorted(set(changes) & _RELATION_FIELDS)
    if relational:
        raise _refuse(
            relational[0],
            "relation_field",
            "Perpindahan wilayah/keluarga diusulkan sebagai pemindahan, bukan perbaikan.",
            "Moves between regions/families are proposed as a move, not a correction.",
        )
    issues = records.check_changes(target, changes)
    if any(i.severity == "error" for i in issues):
        raise ProposalError(issues)
    model = type(target)
    new: dict[str, Any] = {}
    before: dict[str, Any] = {}
    for name, raw in changes.items():
        value = _normalised(model, name, raw)
        if value != _current(target, name):  # only changed fields are proposed
            new[name] = value
            before[name] = _current(target, name)
    if not new:
        raise _refuse(
            "changes",
            "no_change",
            "Tidak ada isian yang berubah dari data registri saat ini.",
            "Nothing differs from the current registry record.",
        )
    warnings = [_issue_dict(i) for i in issues if i.severity == "warning"]
    return {"changes": new, "before": before, "warnings": warnings}, sorted(new)


def _field_label(model: type[models.Model], name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


def propose_correction(
    *, by: User, target: RegistryTarget, changes: Mapping[str, Any], reason: str
) -> Proposal:
    """Perbaikan: field changes to a person, family or household (NIK/No KK included).

    Only fields that differ from the registry are kept; ``payload = {"changes", "before"}``
    where "before" is the registry value now, so a later drift can be shown.
    """
    ensure_can_propose(by, target.region_code)
    reason = _ensure_reason(reason)
    payload, names = _correction_payload(target, changes)
    fields = ", ".join(_field_label(type(target), n) for n in names)
    return _create(
        by=by,
        kind=Kind.PERBAIKAN,
        reason=reason,
        summary=f"Perbaikan {_target_label(target)}: {fields}",
        region_id=_region_id_of(target),
        region_code=target.region_code,
        payload=payload,
        **_target_fields(target),
    )


class DiffRow(NamedTuple):
    """One line of a correction's diff against the registry as it is now."""

    field: str
    label: str
    current: Any  # the registry value now
    before: Any  # the registry value when the proposal was written
    proposed: Any
    drifted: bool  # the registry changed since the proposal was written


def correction_target(proposal: Proposal) -> RegistryTarget | None:
    """The registry row a proposal is about, read fresh (None for a new household)."""
    for name, model in (("person", Person), ("family", Family), ("household", Household)):
        if proposal.target_type == name:
            pk = getattr(proposal, f"{name}_id")
            return model.objects.filter(pk=pk).first() if pk else None
    return None


def _shown(target: models.Model, name: str, value: Any) -> Any:
    """A coded value with its label from the row's code list (``3 – Anak``)."""
    variable = FIELD_VARIABLE.get(name)
    if variable is None or value in (None, ""):
        return value
    codelist = getattr(target, "codelist", "") or "DTKS2020"
    try:
        text = label(codelist, variable, int(value))
    except (TypeError, ValueError):
        return value
    return f"{value} – {text}"


def correction_diff(proposal: Proposal) -> list[DiffRow]:
    """Field by field: label, current registry value, value at proposal time, proposed value;
    `drifted` flags fields the registry changed since (someone else's correction landed)."""
    target = correction_target(proposal)
    if target is None or proposal.kind != Kind.PERBAIKAN:
        return []
    changes = proposal.payload.get("changes", {})
    before = proposal.payload.get("before", {})
    rows = []
    model = type(target)
    for name, proposed in changes.items():
        try:
            field_label = _field_label(model, name)
        except FieldDoesNotExist:  # a field renamed since the proposal was written
            field_label = name
            current = None
        else:
            current = _current(target, name)
        rows.append(
            DiffRow(
                field=name,
                label=field_label,
                current=_shown(target, name, current),
                before=_shown(target, name, before.get(name)),
                proposed=_shown(target, name, proposed),
                drifted=current != before.get(name),
            )
        )
    return rows


# --- nonaktif / reaktivasi ----------------------------------------------------------------


def check_evidence_file(upload: UploadedFile, *, path: str = "evidence") -> list[RecordIssue]:
    """Issues with one uploaded file: PDF/JPG/PNG (by its first bytes) and at most 5 MB."""
    name = upload.name or ""
    ext = EVIDENCE_EXTENSIONS.get(name.rsplit(".", 1)[-1].lower() if "." in name else "")
    if (upload.size or 0) > EVIDENCE_MAX_BYTES:
        return [
            _issue(
                path,
                "file_too_large",
                f"Berkas {name} lebih dari 5 MB.",
                f"File {name} is larger than 5 MB.",
            )
        ]
    head = upload.read(8)
    upload.seek(0)
    if ext is None or not head.startswith(EVIDENCE_SIGNATURES[ext][0]):
        return [
            _issue(
                path,
                "file_type",
                f"Berkas {name} harus PDF, JPG atau PNG.",
                f"File {name} must be a PDF, JPG or PNG.",
            )
        ]
    return []


def _save_evidence(
    proposal: Proposal,
    files: Sequence[UploadedFile],
    *,
    by: User,
    event: ProposalEvent | None,
) -> None:
    for upload in files:
        ext = EVIDENCE_EXTENSIONS[upload.name.rsplit(".", 1)[-1].lower()]
        Evidence.objects.create(
            proposal=proposal,
            event=event,
            file=upload,
            description=upload.name[:200],
            content_type=EVIDENCE_SIGNATURES[ext][1],
            size=upload.size or 0,
            uploaded_by=by,
        )


def _check_deactivation(
    target: RegistryTarget,
    reason_code: str,
    files: Sequence[UploadedFile],
    *,
    existing_evidence: int = 0,
) -> None:
    issues: list[RecordIssue] = []
    if reason_code not in NonaktifReason.values:
        issues.append(
            _issue(
                "reason_code",
                "bad_reason",
                "Pilih alasan nonaktif.",
                "Choose a deactivation reason.",
            )
        )
    if target.status == RecordStatus.NONAKTIF:
        issues.append(
            _issue(
                "target",
                "already_nonaktif",
                "Data ini sudah nonaktif.",
                "This record is already inactive.",
            )
        )
    if reason_code in EVIDENCE_REQUIRED and not (files or existing_evidence):
        issues.append(
            _issue(
                "evidence",
                "evidence_required",
                "Alasan meninggal/pindah memerlukan bukti (akta/surat keterangan).",
                "Death or moving away needs supporting evidence (certificate/letter).",
            )
        )
    for upload in files:
        issues += check_evidence_file(upload)
    if issues:
        raise ProposalError(issues)


def propose_deactivation(
    *,
    by: User,
    target: RegistryTarget,
    reason_code: str,
    reason: str,
    evidence_files: Sequence[UploadedFile] = (),
) -> Proposal:
    """Penonaktifan with a reason code; meninggal/pindah need evidence (PDF/JPG/PNG ≤ 5 MB)."""
    ensure_can_propose(by, target.region_code)
    reason = _ensure_reason(reason)
    _check_deactivation(target, reason_code, evidence_files)
    target_fields = _target_fields(target)
    key = target_fields["target_type"]
    _ensure_no_open(Kind.NONAKTIF, **{key: target})
    return _create(
        by=by,
        kind=Kind.NONAKTIF,
        reason=reason,
        summary=(f"Nonaktif ({NonaktifReason(reason_code).label}): {_target_label(target)}"),
        region_id=_region_id_of(target),
        region_code=target.region_code,
        reason_code=reason_code,
        evidence_files=evidence_files,
        **target_fields,
    )


def propose_reactivation(*, by: User, target: RegistryTarget, reason: str) -> Proposal:
    """Pengaktifan kembali of a nonaktif record (e.g. wrongly reported dead)."""
    ensure_can_propose(by, target.region_code)
    reason = _ensure_reason(reason)
    if target.status != RecordStatus.NONAKTIF:
        raise _refuse(
            "target",
            "not_nonaktif",
            "Hanya data nonaktif yang dapat diaktifkan kembali.",
            "Only an inactive record can be reactivated.",
        )
    target_fields = _target_fields(target)
    _ensure_no_open(Kind.REAKTIVASI, **{target_fields["target_type"]: target})
    return _create(
        by=by,
        kind=Kind.REAKTIVASI,
        reason=reason,
        summary=f"Aktifkan kembali: {_target_label(target)}",
        region_id=_region_id_of(target),
        region_code=target.region_code,
        payload={"previous_reason": target.nonaktif_reason},
        **target_fields,
    )


# --- pemindahan wilayah --------------------------------------------------------------------


def _check_destination(household: Household, destination: Region | None) -> Region:
    if destination is None or destination.level != Level.DESA or destination.valid_to:
        raise _refuse(
            "destination",
            "destination_not_desa",
            "Wilayah tujuan harus desa/kelurahan yang masih berlaku.",
            "The destination must be a current desa/kelurahan.",
        )
    if destination.digits == household.region_code:
        raise _refuse(
            "destination",
            "same_region",
            "Wilayah tujuan sama dengan wilayah asal.",
            "The destination is the household's current region.",
        )
    return destination


def propose_move(*, by: User, household: Household, destination: Region, reason: str) -> Proposal:
    """Pemindahan wilayah: move a household to another desa; the destination must consent
    (`record_consent`) before the kab/kota may approve (workflow checks it)."""
    ensure_can_propose(by, household.region_code)
    reason = _ensure_reason(reason)
    _check_destination(household, destination)
    _ensure_no_open(Kind.PEMINDAHAN, household=household)
    return _create(
        by=by,
        kind=Kind.PEMINDAHAN,
        reason=reason,
        summary=f"Pindah {_target_label(household)} → {destination.name}",
        region_id=household.region_id,
        region_code=household.region_code,
        destination=destination,
        destination_code=destination.digits,
        payload={"origin_code": household.region_code},
        **_target_fields(household),
    )


def can_consent(user: User, proposal: Proposal) -> bool:
    """Whether `user` speaks for the destination of an open move."""
    return (
        proposal.kind == Kind.PEMINDAHAN
        and proposal.status not in CLOSED_STATUSES
        and bool(proposal.destination_code)
        and can(user, Action.EDIT, proposal.destination_code)
    )


def record_consent(*, by: User, proposal: Proposal, agreed: bool, note: str = "") -> Consent:
    """The destination region agrees (or refuses) to receive the household; the latest
    answer is on the timeline, and any agreement lets the kab/kota approve."""
    if proposal.kind != Kind.PEMINDAHAN:
        raise _refuse(
            "proposal",
            "not_a_move",
            "Persetujuan wilayah tujuan hanya untuk pemindahan wilayah.",
            "Destination consent applies to moves only.",
        )
    if not can(by, Action.EDIT, proposal.destination_code):
        raise PermissionDenied
    if proposal.status in CLOSED_STATUSES:
        raise _refuse(
            "proposal",
            "closed",
            "Usulan sudah selesai; persetujuan tidak dapat dicatat.",
            "The proposal is closed; consent cannot be recorded.",
        )
    if not agreed and not note.strip():
        raise _refuse(
            "note",
            "note_required",
            "Penolakan memerlukan alasan.",
            "A refusal needs a reason.",
        )
    with transaction.atomic():
        consent = Consent.objects.create(
            proposal=proposal,
            region_code=proposal.destination_code,
            agreed=agreed,
            note=note.strip(),
            by=by,
        )
        _event(proposal, "consent" if agreed else "consent_refused", by=by, note=note.strip())
        if proposal.created_by_id != by.pk:
            verdict_id, verdict_en = (
                ("menyetujui", "agreed to")
                if agreed
                else (
                    "menolak",
                    "refused",
                )
            )
            Notification.objects.create(
                user_id=proposal.created_by_id,
                message_id=f"Wilayah tujuan {verdict_id} pemindahan usulan #{proposal.pk}.",
                message_en=f"The destination region {verdict_en} the move #{proposal.pk}.",
                link=f"/usulan/{proposal.pk}/",
            )
    return consent


def consent_state(proposal: Proposal) -> Consent | None:
    """The destination's latest answer, or None while it has not answered."""
    return (
        Consent.objects.filter(proposal=proposal)
        .select_related("by")
        .order_by("-at", "-pk")
        .first()
    )


# --- comments -------------------------------------------------------------------------------


def add_comment(*, proposal: Proposal, by: User, text: str) -> Comment:
    """Add to the proposal's thread (kept across return-for-revision loops)."""
    if not proposals_for_user(by).filter(pk=proposal.pk).exists():
        raise PermissionDenied
    text = (text or "").strip()
    if not text:
        raise _refuse("text", "empty", "Komentar kosong.", "The comment is empty.")
    return Comment.objects.create(
        proposal=proposal,
        author=by,
        author_role=by.role or ("superuser" if by.is_superuser else ""),
        text=text,
    )


# --- editing (drafts and the revision loop) ------------------------------------------------


def can_edit(user: User, proposal: Proposal) -> bool:
    """Whether `user` may change the payload now (see DESA_/KABKOTA_EDITABLE)."""
    if not can(user, Action.EDIT, proposal.region_code):
        return False
    if proposal.status in DESA_EDITABLE:
        return True
    if proposal.status in KABKOTA_EDITABLE:
        return user.is_superuser or user.role in KABKOTA_ROLES
    return False


def update_draft(
    *,
    by: User,
    proposal: Proposal,
    note: str = "",
    reason: str | None = None,
    region: Region | None = None,
    household_fields: Mapping[str, Any] | None = None,
    families: Sequence[Mapping[str, Any]] | None = None,
    active_registration: bool | None = None,
    changes: Mapping[str, Any] | None = None,
    reason_code: str | None = None,
    evidence_files: Sequence[UploadedFile] = (),
    destination: Region | None = None,
) -> Proposal:
    """Change a proposal's content while it is a draft or returned for revision.

    Arguments left None keep their value; whatever is given is validated with the same rules
    as at creation. One "edit" event (with `note`) is written, and a non-empty note also goes
    to the comments thread, so the reviewer sees the answer to their return note. The status
    does not change here: resubmitting is a transition (`workflow.transition`).
    """
    if proposal.status not in EDITABLE_STATUSES:
        raise _refuse(
            "status",
            "not_editable",
            f"Usulan berstatus '{proposal.get_status_display()}' tidak dapat diubah.",
            f"A proposal in status '{proposal.status}' cannot be edited.",
        )
    if not can_edit(by, proposal):
        raise PermissionDenied
    fields: dict[str, Any] = {}
    if reason is not None:
        fields["reason"] = _ensure_reason(reason)
    file_issues = [i for upload in evidence_files for i in check_evidence_file(upload)]
    if file_issues:
        raise ProposalError(file_issues)
    fields.update(
        _revised_content(
            proposal,
            region=region,
            household_fields=household_fields,
            families=families,
            active_registration=active_registration,
            changes=changes,
            reason_code=reason_code,
            evidence_files=evidence_files,
            destination=destination,
        )
    )
    if "region" in fields:
        ensure_can_propose(by, fields["region"].digits)
    with transaction.atomic():
        # Conditional on the status we checked: a concurrent return/resubmit wins cleanly.
        moved = Proposal.objects.filter(pk=proposal.pk, status=proposal.status).update(
            updated_at=timezone.now(), **fields
        )
        if not moved:
            raise _refuse(
                "status",
                "conflict",
                f"Usulan #{proposal.pk} baru saja diubah oleh pengguna lain; muat ulang halaman.",
                f"Proposal #{proposal.pk} was just changed by someone else; reload the page.",
            )
        event = _event(proposal, "edit", by=by, note=note.strip())
        _save_evidence(proposal, evidence_files, by=by, event=event)
        if note.strip():
            add_comment(proposal=proposal, by=by, text=note)
    proposal.refresh_from_db()
    return proposal


def _revised_content(
    proposal: Proposal,
    *,
    region: Region | None,
    household_fields: Mapping[str, Any] | None,
    families: Sequence[Mapping[str, Any]] | None,
    active_registration: bool | None,
    changes: Mapping[str, Any] | None,
    reason_code: str | None,
    evidence_files: Sequence[UploadedFile],
    destination: Region | None,
) -> dict[str, Any]:
    """The new column values for `proposal`, validated as at creation."""
    fields: dict[str, Any] = {}
    if proposal.kind == Kind.BARU:
        if active_registration is not None:
            fields["active_registration"] = active_registration
        if region is not None or household_fields is not None or families is not None:
            region = region or proposal.region
            payload, summary = _new_household_payload(
                region,
                household_fields
                if household_fields is not None
                else proposal.payload.get("household_fields", {}),
                families if families is not None else proposal.payload.get("families", []),
            )
            fields.update(region=region, region_code=region.digits, payload=payload)
            fields["summary"] = summary[:200]
        return fields
    target = correction_target(proposal)
    if target is None:
        raise _refuse(
            "target", "no_target", "Data sasaran tidak ditemukan.", "Target record not found."
        )
    if proposal.kind == Kind.PERBAIKAN and changes is not None:
        payload, names = _correction_payload(target, changes)
        fields["payload"] = payload
        labels = ", ".join(_field_label(type(target), n) for n in names)
        fields["summary"] = f"Perbaikan {_target_label(target)}: {labels}"[:200]
    if proposal.kind == Kind.NONAKTIF and (reason_code is not None or evidence_files):
        code = reason_code if reason_code is not None else proposal.reason_code
        # The record is nonaktif-pending, not nonaktif: check reason and evidence only.
        _check_deactivation(
            target,
            code,
            evidence_files,
            existing_evidence=proposal.evidence.count(),
        )
        fields["reason_code"] = code
        fields["summary"] = f"Nonaktif ({NonaktifReason(code).label}): {_target_label(target)}"[
            :200
        ]
    if proposal.kind == Kind.PEMINDAHAN and destination is not None:
        assert isinstance(target, Household)
        _check_destination(target, destination)
        fields.update(destination=destination, destination_code=destination.digits)
        fields["summary"] = f"Pindah {_target_label(target)} → {destination.name}"[:200]
    return fields
