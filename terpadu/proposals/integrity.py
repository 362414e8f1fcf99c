"""Pusat's integrity test of a received batch (domain.md §3.1, S30).

Checks, per item, with a fixed number of queries for the whole batch:

- ``nik_terdaftar``   a new person's NIK (usulan baru, or a NIK correction) already belongs to
                      an active person in the registry — single person data; the message names
                      the family it is active in, which also covers "member of another family";
- ``nik_ganda_paket`` the same NIK appears twice within one family/proposal of the batch;
- ``anggota_dua_keluarga`` the same NIK appears in two different families of the batch;
- ``nik_tidak_valid`` a NIK that fails the syntax rules (domain.md §2.1);
- ``tidak_padan``     the target person is marked *tidak padan* with Dukcapil (unless the item
                      deactivates it or corrects its NIK/No KK — that is the fix);
- ``kepala_keluarga`` a new family without exactly one head (relation_kk = 1);
- ``data_tidak_lengkap`` a person without name, sex, birth date or relation, or no desa;
- ``sasaran_tidak_ada`` / ``sasaran_tidak_aktif`` a correction or deactivation whose target is
                      missing or no longer active.

Failing items go back to the kab/kota (``return_to_kabkota``) with their reasons in
``return_reasons``; the others are accepted (``accept``, via "integrity") and wait for the
monthly determination. The run is one transaction (all or nothing) and only looks at items
still in PROSES_PUSAT, so running it again changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from terpadu.lib.nik import check_nik
from terpadu.proposals.models import Batch, BatchEvent, BatchStatus, Kind, Proposal, Status
from terpadu.proposals.workflow import bulk_transition
from terpadu.registry.models import Family, Household, Padan, Person, RecordStatus

if TYPE_CHECKING:
    from terpadu.accounts.models import User

ACTIVE = (RecordStatus.AKTIF, RecordStatus.AKTIF_BERMASALAH)
RELATION_HEAD = 1
REQUIRED_PERSON_FIELDS = ("name", "sex", "birth_date", "relation_kk")
TARGETED_KINDS = frozenset({Kind.PERBAIKAN, Kind.NONAKTIF, Kind.PEMINDAHAN})

# code → (Indonesian, English) templates; {detail} is filled per item.
REASONS: dict[str, tuple[str, str]] = {
    "nik_terdaftar": (
        "NIK {detail} sudah terdaftar atas individu aktif di registri.",
        "NIK {detail} already belongs to an active person in the registry.",
    ),
    "nik_ganda_paket": (
        "NIK {detail} muncul lebih dari sekali dalam paket.",
        "NIK {detail} appears more than once in the batch.",
    ),
    "anggota_dua_keluarga": (
        "NIK {detail} tercatat di dua keluarga dalam paket.",
        "NIK {detail} is listed in two families of the batch.",
    ),
    "nik_tidak_valid": (
        "NIK {detail} tidak sesuai aturan penulisan NIK.",
        "NIK {detail} does not follow the NIK rules.",
    ),
    "tidak_padan": (
        "Individu sasaran tidak padan dengan Dukcapil; perbaiki NIK/No KK lebih dulu.",
        "The target person does not match Dukcapil; correct the NIK/No KK first.",
    ),
    "kepala_keluarga": (
        "Keluarga {detail} harus memiliki tepat satu kepala keluarga.",
        "Family {detail} must have exactly one head.",
    ),
    "data_tidak_lengkap": (
        "Data belum lengkap: {detail}.",
        "Incomplete data: {detail}.",
    ),
    "sasaran_tidak_ada": (
        "Usulan tidak menunjuk data registri yang akan diubah.",
        "The proposal does not point at the registry record to change.",
    ),
    "sasaran_tidak_aktif": (
        "Data sasaran sudah tidak aktif di registri.",
        "The target record is no longer active in the registry.",
    ),
}


# Short names of the reasons for dashboards.
REASON_LABELS: dict[str, Any] = {
    "nik_terdaftar": _("NIK sudah terdaftar"),
    "nik_ganda_paket": _("NIK ganda dalam paket"),
    "anggota_dua_keluarga": _("Anggota di dua keluarga"),
    "nik_tidak_valid": _("NIK tidak valid"),
    "tidak_padan": _("Tidak padan Dukcapil"),
    "kepala_keluarga": _("Kepala keluarga tidak tepat satu"),
    "data_tidak_lengkap": _("Data tidak lengkap"),
    "sasaran_tidak_ada": _("Sasaran tidak ada"),
    "sasaran_tidak_aktif": _("Sasaran tidak aktif"),
}


@dataclass
class IntegrityResult:
    batch_id: int
    accepted: int = 0
    returned: int = 0
    reasons: dict[int, list[dict[str, str]]] = field(default_factory=dict)

    def codes(self, proposal_id: int) -> set[str]:
        return {r["code"] for r in self.reasons.get(proposal_id, [])}


@dataclass(frozen=True)
class _NewPerson:
    proposal_id: int
    family_key: str  # identifies the family within the batch
    index: str  # human path, e.g. "keluarga 1 anggota 2"
    values: dict[str, Any]


def _reason(code: str, detail: str = "") -> dict[str, str]:
    message_id, message_en = REASONS[code]
    return {
        "code": code,
        "message_id": message_id.format(detail=detail),
        "message_en": message_en.format(detail=detail),
    }


def _payload_families(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The families a BARU payload brings: a new household ({"families": [...]}) or new
    members of an existing family ({"members": [...]}, target family)."""
    payload = item["payload"] or {}
    if payload.get("families"):
        return list(payload["families"])
    if payload.get("members"):
        return [{"members": payload["members"], "existing_family": item["family_id"]}]
    return []


def proposed_people(item: dict[str, Any]) -> Iterator[_NewPerson]:
    """The persons a BARU item brings (public: the national processing run reads them too)."""
    return _new_people(item)


def _new_people(item: dict[str, Any]) -> Iterator[_NewPerson]:
    for f_idx, fam in enumerate(_payload_families(item), 1):
        key = (
            f"F{fam['existing_family']}" if fam.get("existing_family") else f"P{item['id']}.{f_idx}"
        )
        for m_idx, member in enumerate(fam.get("members") or [], 1):
            yield _NewPerson(item["id"], key, f"{f_idx}.{m_idx}", member)


def _load_items(batch: Batch) -> list[dict[str, Any]]:
    """The batch items still in PROSES_PUSAT, with their target's state: one query."""
    return load_items(Proposal.objects.filter(batch=batch, status=Status.PROSES_PUSAT))


def load_items(proposals: QuerySet[Proposal]) -> list[dict[str, Any]]:
    """`proposals` as the dicts `check_items` reads, with their target's state: one query.
    (Public: the national processing run loads a whole period this way.)"""
    active = list(ACTIVE)
    return list(
        proposals.annotate(
            person_active=Exists(
                Person.objects.filter(pk=OuterRef("person_id"), status__in=active)
            ),
            family_active=Exists(
                Family.objects.filter(pk=OuterRef("family_id"), status__in=active)
            ),
            household_active=Exists(
                Household.objects.filter(pk=OuterRef("household_id"), status__in=active)
            ),
            person_padan=Subquery(Person.objects.filter(pk=OuterRef("person_id")).values("padan")),
        )
        .values(
            "id",
            "batch_id",
            "kind",
            "payload",
            "region_code",
            "target_type",
            "person_id",
            "family_id",
            "household_id",
            "person_active",
            "family_active",
            "household_active",
            "person_padan",
        )
        .order_by("id")
    )


def _target_active(item: dict[str, Any]) -> bool | None:
    """None when the item points at nothing; else whether its target is active."""
    order = ("person", "family", "household")
    kind = item["target_type"] if item["target_type"] in order else None
    for name in (kind,) if kind else order:
        if item[f"{name}_id"]:
            return bool(item[f"{name}_active"])
    return None


def check_items(items: list[dict[str, Any]]) -> dict[int, list[dict[str, str]]]:
    """Reasons per failing item id. Registry lookups: one query for all NIKs of the batch."""
    failures: dict[int, list[dict[str, str]]] = defaultdict(list)

    def fail(pid: int, code: str, detail: str = "") -> None:
        reason = _reason(code, detail)
        if reason not in failures[pid]:
            failures[pid].append(reason)

    new_people: list[_NewPerson] = []
    corrected_nik: list[tuple[int, str]] = []
    for item in items:
        pid = item["id"]
        if len(item["region_code"] or "") != 10:
            fail(pid, "data_tidak_lengkap", "desa/kelurahan")
        if item["kind"] == Kind.BARU:
            people = list(_new_people(item))
            if not people:
                fail(pid, "data_tidak_lengkap", "anggota keluarga")
            new_people += people
            for fam in _payload_families(item):
                if fam.get("existing_family"):
                    continue  # the existing family keeps its head; new members add to it
                heads = sum(
                    _as_int(m.get("relation_kk")) == RELATION_HEAD for m in fam.get("members") or []
                )
                if heads != 1:
                    fail(pid, "kepala_keluarga", fam.get("no_kk") or "")
            continue
        changes = (item["payload"] or {}).get("changes") or {}
        if item["kind"] in TARGETED_KINDS:
            active = _target_active(item)
            if active is None:
                fail(pid, "sasaran_tidak_ada")
            elif not active:
                fail(pid, "sasaran_tidak_aktif")
        fixes_identity = "nik" in changes or "no_kk" in changes
        if (
            item["person_padan"] == Padan.TIDAK_PADAN
            and item["kind"] != Kind.NONAKTIF
            and not fixes_identity
        ):
            fail(pid, "tidak_padan")
        missing = [f for f in REQUIRED_PERSON_FIELDS if f in changes and _blank(changes[f])]
        if missing:
            fail(pid, "data_tidak_lengkap", ", ".join(missing))
        if changes.get("nik"):
            corrected_nik.append((pid, str(changes["nik"])))

    # Person attributes and NIK syntax, in memory.
    seen: dict[str, list[_NewPerson]] = defaultdict(list)
    for person in new_people:
        values = person.values
        missing = [f for f in REQUIRED_PERSON_FIELDS if _blank(values.get(f))]
        if missing:
            fail(person.proposal_id, "data_tidak_lengkap", f"{person.index}: {', '.join(missing)}")
        nik = str(values.get("nik") or "").strip()
        if not nik:
            continue  # persons without NIK are allowed (design.md §1a); Dukcapil resolves them
        if not check_nik(nik).ok:
            fail(person.proposal_id, "nik_tidak_valid", nik)
        seen[nik].append(person)
    for pid, nik in corrected_nik:
        if not check_nik(nik).ok:
            fail(pid, "nik_tidak_valid", nik)
        seen[nik].append(_NewPerson(pid, f"C{pid}", "", {}))

    # Within the batch: the same NIK twice.
    for nik, people in seen.items():
        if len(people) < 2:
            continue
        families = {p.family_key for p in people}
        code = "anggota_dua_keluarga" if len(families) > 1 else "nik_ganda_paket"
        for p in people:
            fail(p.proposal_id, code, nik)

    # Against the registry: one query for every NIK of the batch.
    if seen:
        registered = set(
            Person.objects.filter(nik__in=list(seen), status__in=list(ACTIVE)).values_list(
                "nik", flat=True
            )
        )
        for nik in registered:
            for p in seen[nik]:
                fail(p.proposal_id, "nik_terdaftar", nik)
    return dict(failures)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def run_integrity(batch: Batch, *, by: User | None = None) -> IntegrityResult:
    """Check the batch, return the failing items to the kab/kota with reasons, accept the rest,
    mark the batch SELESAI. One transaction; a re-run finds nothing left to do.

    `by` defaults to the pusat user who received the batch (the run acts in their name).
    """
    result = IntegrityResult(batch_id=batch.pk)
    with transaction.atomic():
        # Lock the batch row so two workers cannot process the same batch at once.
        locked = Batch.objects.select_for_update().get(pk=batch.pk)
        if locked.status not in (BatchStatus.DIPROSES_PUSAT, BatchStatus.SELESAI):
            return result
        by = by or _receiver(locked)
        items = _load_items(locked)
        failures = check_items(items)
        if failures:
            ids = list(failures)
            moved = bulk_transition(
                ids,
                "return_to_kabkota",
                by=by,
                note="Gagal uji integritas pusat.",
                via="proposal",
            )
            result.returned = moved.moved
            Proposal.objects.bulk_update(
                [Proposal(pk=pid, return_reasons=reasons) for pid, reasons in failures.items()],
                ["return_reasons"],
                batch_size=1000,
            )
            result.reasons = failures
        accepted = bulk_transition(
            Proposal.objects.filter(batch=locked, status=Status.PROSES_PUSAT),
            "accept",
            by=by,
            via="integrity",
        )
        result.accepted = accepted.moved
        if accepted.moved:  # reasons of an earlier return are history now (events keep them)
            Proposal.objects.filter(batch=locked, status=Status.DITERIMA_PUSAT).update(
                return_reasons=[]
            )
        if locked.status == BatchStatus.DIPROSES_PUSAT:
            now = timezone.now()
            Batch.objects.filter(pk=locked.pk).update(status=BatchStatus.SELESAI, processed_at=now)
            BatchEvent.objects.create(
                batch=locked,
                action="integrity",
                from_status=BatchStatus.DIPROSES_PUSAT,
                to_status=BatchStatus.SELESAI,
                actor=by,
                actor_role=by.role,
                note=f"{result.accepted} diterima, {result.returned} dikembalikan",
            )
            if result.returned:
                _notify_kabkota(locked, result.returned)
            batch.status, batch.processed_at = BatchStatus.SELESAI, now
    return result


def _receiver(batch: Batch) -> User:
    event = BatchEvent.objects.filter(batch=batch, action="receive").select_related("actor").last()
    if event is None:
        raise ValueError(f"batch {batch.pk} was never received at pusat")
    return event.actor


def _notify_kabkota(batch: Batch, returned: int) -> None:
    from terpadu.accounts.models import User
    from terpadu.core.models import Notification
    from terpadu.proposals.transitions import KABKOTA_ROLES

    users = User.objects.filter(
        role__in=list(KABKOTA_ROLES), scope=batch.region_code, is_active=True
    ).values_list("pk", flat=True)
    Notification.objects.bulk_create(
        Notification(
            user_id=pk,
            message_id=f"{returned} usulan paket {batch} dikembalikan pusat "
            "(gagal uji integritas).",
            message_en=f"{returned} proposals of batch {batch} were returned by the ministry "
            "(integrity test failed).",
            link="/usulan/periksa/?tab=dikembalikan",
        )
        for pk in users
    )
