"""Cross-matching a month's proposals against each other and the registry (national run).

What pusat's integrity test (proposals/integrity.py) already checks is not repeated here:
a new member's NIK already active in the registry (``nik_terdaftar``, which also covers new
members joining an existing family), the same NIK twice within one batch
(``nik_ganda_paket`` / ``anggota_dua_keluarga``), invalid NIKs, missing heads, inactive
targets. The national run calls `integrity.check_items` per batch for those, then this module
for what only the whole month shows:

- ``nik_ganda_usulan``      the same NIK proposed (new member or NIK correction) by items of two
                            different batches — two kab/kota (or two packages) claim one person;
- ``sasaran_ganda``         two items of the month change the same registry record (their
                            changes would overwrite each other at determination);
- ``aktif_di_wilayah_lain`` a household being moved has a member whose NIK is also active in
                            another household (already registered elsewhere);
- ``dikecualikan``          an exclusion flag (ASN/TNI/Polri, ...) on a person of the item.

Exclusion flags belong to the quality app (issue 7: rules engine). `exclusion_flags` is the
hook: it reads ``quality.ExclusionFlag`` rows that are still ``active`` — open, or already
turned into a deactivation proposal; a flag a person dismissed with a reason, or one whose
evidence lapsed, no longer counts.

Every function is set-based: a fixed number of queries per call (IN lists chunked).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from django.apps import apps
from django.db.models import Q

from terpadu.proposals.integrity import ACTIVE, load_items, proposed_people
from terpadu.proposals.models import Kind, Proposal, Status
from terpadu.registry.models import Person

CHUNK = 2000
PUSAT_STATUSES = (Status.PROSES_PUSAT, Status.DITERIMA_PUSAT)

REASONS: dict[str, tuple[str, str]] = {
    "nik_ganda_usulan": (
        "NIK {detail} juga diusulkan dalam paket lain bulan ini.",
        "NIK {detail} is also proposed in another batch this month.",
    ),
    "sasaran_ganda": (
        "Data registri yang sama ({detail}) diubah oleh lebih dari satu usulan bulan ini.",
        "The same registry record ({detail}) is changed by more than one proposal this month.",
    ),
    "aktif_di_wilayah_lain": (
        "NIK {detail} juga aktif di rumah tangga/wilayah lain.",
        "NIK {detail} is also active in another household/region.",
    ),
    "dikecualikan": (
        "Individu ber-NIK {detail} memiliki tanda pengecualian.",
        "The person with NIK {detail} carries an exclusion flag.",
    ),
}


def reason(code: str, detail: str = "") -> dict[str, str]:
    """A reason in the shape of Proposal.return_reasons."""
    message_id, message_en = REASONS[code]
    return {
        "code": code,
        "message_id": message_id.format(detail=detail),
        "message_en": message_en.format(detail=detail),
    }


def period_items(period: str) -> list[dict[str, Any]]:
    """The period's items at pusat (received batches, accepted or still in process), loaded
    as `integrity.check_items` reads them (one query)."""
    return load_items(Proposal.objects.filter(period=period, status__in=list(PUSAT_STATUSES)))


def proposed_niks(item: dict[str, Any]) -> list[str]:
    """NIKs an item brings into the registry: new members' and a corrected NIK."""
    out = []
    if item["kind"] == Kind.BARU:
        out += [str(p.values.get("nik") or "").strip() for p in proposed_people(item)]
    changes = (item["payload"] or {}).get("changes") or {}
    if changes.get("nik"):
        out.append(str(changes["nik"]).strip())
    return [n for n in out if n]


def proposal_niks(period: str, region_code: str = "") -> Iterator[tuple[str, int | None, str]]:
    """(nik, None, desa) for every NIK the period's items at pusat bring (for Dukcapil)."""
    qs = Proposal.objects.filter(period=period, status__in=list(PUSAT_STATUSES))
    if region_code:
        qs = qs.filter(region_code__startswith=region_code)
    for item in load_items(qs):
        for nik in proposed_niks(item):
            yield nik, None, item["region_code"]


def _target_key(item: dict[str, Any]) -> str | None:
    for name in ("person", "family", "household"):
        if item["target_type"] in ("", name) and item[f"{name}_id"]:
            return f"{name} #{item[f'{name}_id']}"
    return None


def crossmatch(items: list[dict[str, Any]]) -> dict[int, list[dict[str, str]]]:
    """Reasons per item id for the month-wide rules above (items from `period_items`)."""
    failures: dict[int, list[dict[str, str]]] = defaultdict(list)

    def fail(pid: int, code: str, detail: str) -> None:
        r = reason(code, detail)
        if r not in failures[pid]:
            failures[pid].append(r)

    # The same NIK from two batches (within one batch integrity already reports it).
    batches_of: dict[str, set[Any]] = defaultdict(set)
    items_of: dict[str, set[int]] = defaultdict(set)
    for item in items:
        for nik in proposed_niks(item):
            batches_of[nik].add(item["batch_id"] or f"p{item['id']}")
            items_of[nik].add(item["id"])
    for nik, batch_ids in batches_of.items():
        if len(batch_ids) > 1:
            for pid in items_of[nik]:
                fail(pid, "nik_ganda_usulan", nik)

    # Two items changing the same registry record.
    by_target: dict[str, list[int]] = defaultdict(list)
    for item in items:
        if item["kind"] != Kind.BARU and (key := _target_key(item)):
            by_target[key].append(item["id"])
    for key, pids in by_target.items():
        if len(pids) > 1:
            for pid in pids:
                fail(pid, "sasaran_ganda", key)

    # A moved household's members active elsewhere too.
    moving = {i["household_id"]: i["id"] for i in items if i["kind"] == Kind.PEMINDAHAN}
    for nik, pid in _members_active_elsewhere(moving):
        fail(pid, "aktif_di_wilayah_lain", nik)

    # Exclusion flags (quality app, issue 7) on new members and target persons.
    person_niks: dict[str, set[int]] = defaultdict(set)
    for nik, pids in items_of.items():
        person_niks[nik] |= pids
    for nik, pid in _target_person_niks(items):
        person_niks[nik].add(pid)
    for nik, flags in exclusion_flags(person_niks).items():
        for pid in person_niks[nik]:
            for _code, label in flags:
                fail(pid, "dikecualikan", f"{nik} ({label})")
    return dict(failures)


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _members_active_elsewhere(moving: dict[int, int]) -> Iterator[tuple[str, int]]:
    """(nik, item id) for members of moving households whose NIK is active in another
    household: one query for the members, one per chunk of NIKs for the others."""
    if not moving:
        return
    members: dict[str, set[int]] = defaultdict(set)  # nik -> household ids
    for ids in _chunks(list(moving)):
        rows = Person.objects.filter(
            household_id__in=ids, status__in=list(ACTIVE), nik__isnull=False
        ).values_list("nik", "household_id")
        for nik, hh in rows:
            if nik:
                members[nik].add(hh)
    for niks in _chunks(list(members)):
        rows = Person.objects.filter(nik__in=niks, status__in=list(ACTIVE)).values_list(
            "nik", "household_id"
        )
        for nik, hh in rows:
            if hh not in members[nik]:
                for own in members[nik]:
                    yield nik, moving[own]


def _target_person_niks(items: list[dict[str, Any]]) -> Iterator[tuple[str, int]]:
    person_items = {i["person_id"]: i["id"] for i in items if i["person_id"]}
    for ids in _chunks(list(person_items)):
        for pk, nik in Person.objects.filter(pk__in=ids, nik__isnull=False).values_list(
            "pk", "nik"
        ):
            if nik:
                yield nik, person_items[pk]


def exclusion_flags(niks: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """Active exclusion flags per NIK as (code, label) — the quality app's hook (issue 7).

    One query per chunk of NIKs; empty if the quality app is not installed.
    """
    try:
        model = apps.get_model("quality", "ExclusionFlag")
    except LookupError:
        return {}
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for chunk in _chunks(list(niks)):
        # Two flags of one rule (two lists, two values) are one reason for the month.
        rows = (
            model.objects.filter(Q(nik__in=chunk), active=True)
            .values_list("nik", "code", "label")
            .order_by("nik", "code")
            .distinct()
        )
        for nik, code, label in rows:
            out[nik].append((code, label))
    return dict(out)
