# ruff: noqa: S608 — table names come from model meta; every value is a query parameter
"""NIK ganda: the same NIK on two active persons, and one person in two KKs (issue 7 §1).

Detection is set-based SQL, one statement per kind, over a scratch table of the active
persons whose NIK occurs more than once (one GROUP BY … HAVING over the registry):

- ``dalam_kk``        the same NIK twice in one KK (window count per NIK + family);
- ``antar_keluarga``  the same NIK in two KKs of one desa;
- ``antar_wilayah``   the same NIK in two desa (possibly two kab/kota or provinces);
- ``antar_program``   the same NIK on two persons who both receive a programme;
- ``dua_kk``          one person with two open family memberships.

The result is a worklist (`NikDuplicateGroup` + members) per kab/kota, refreshed by the
quality job: new groups open, groups that vanished close by themselves ("gone"), and a human
decision holds until the group's membership changes (`fingerprint`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from terpadu.quality.models import (
    DuplicateKind,
    GroupResolution,
    NikDuplicateGroup,
    NikDuplicateMember,
    WorkStatus,
)
from terpadu.quality.sql import active_sql, range_sql
from terpadu.regions.models import prefix_q
from terpadu.registry import records
from terpadu.registry.models import Family, FamilyMembership, Person, ProgramMembership

SCRATCH = "quality_nik_dup"
DUP_NIK = "quality_dup_nik"
DUP_PERSON = "quality_dup_person"
CHUNK = 2000


@dataclass(frozen=True)
class Row:
    """One record in a duplicate group."""

    kind: str
    nik: str
    person_id: int
    family_id: int
    household_id: int
    region_code: str


@dataclass
class RefreshCounts:
    found: dict[str, int] = field(default_factory=dict)
    created: int = 0
    changed: int = 0
    reopened: int = 0
    gone: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "groups": self.found,
            "created": self.created,
            "changed": self.changed,
            "reopened": self.reopened,
            "gone": self.gone,
        }


def kabkota_scope(region_code: str) -> str:
    """The worklist scope for a region: groups live per kab/kota, so a desa or kecamatan
    refresh covers its whole kab/kota."""
    return region_code[:4]


def _analyze(cursor, table: str) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor == "postgresql":
        cursor.execute(f"ANALYZE {table}")


def _build_scratch(cursor, scope: str) -> None:  # type: ignore[no-untyped-def]
    """Fill the scratch tables.

    ``quality_dup_nik``: NIKs held by more than one person row, restricted to NIKs present in
    `scope` (the other holder may live anywhere). Counted over every row, active or not, so
    PostgreSQL reads only the NIK index (index-only scan, already in NIK order: a streaming
    GROUP BY, no hash table); the kinds below keep only active persons and need two of them.
    ``quality_nik_dup``: the active persons holding those NIKs (an index lookup per NIK).
    """
    person = Person._meta.db_table
    active, a_params = active_sql("p.status")
    for table in (DUP_NIK, SCRATCH):
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
    in_scope, s_params = "", []
    if scope:
        rng, r_params = range_sql("region_code", scope)
        in_scope = f" AND nik IN (SELECT nik FROM {person} WHERE {rng})"
        s_params = r_params
    cursor.execute(
        f"CREATE TEMP TABLE {DUP_NIK} AS SELECT nik FROM {person}"
        f" WHERE nik IS NOT NULL AND nik <> ''{in_scope} GROUP BY nik HAVING COUNT(*) > 1",
        s_params,
    )
    _analyze(cursor, DUP_NIK)
    cursor.execute(
        f"CREATE TEMP TABLE {SCRATCH} AS"
        f" SELECT p.id, p.nik, p.family_id, p.household_id, p.region_code"
        f" FROM {DUP_NIK} d JOIN {person} p ON p.nik = d.nik WHERE {active}",
        a_params,
    )
    _analyze(cursor, SCRATCH)


def _build_person_scratch(cursor) -> None:  # type: ignore[no-untyped-def]
    """``quality_dup_person``: persons with two or more open memberships, counted from the
    (person, valid_to) index alone (an index-only scan in person order)."""
    fm = FamilyMembership._meta.db_table
    cursor.execute(f"DROP TABLE IF EXISTS {DUP_PERSON}")
    cursor.execute(
        f"CREATE TEMP TABLE {DUP_PERSON} AS SELECT person_id FROM {fm}"
        f" WHERE valid_to IS NULL GROUP BY person_id HAVING COUNT(*) > 1"
    )
    _analyze(cursor, DUP_PERSON)


_COLS = "d.nik, d.id, d.family_id, d.household_id, d.region_code"


def _kind_statements(scope: str, today: dt.date) -> list[tuple[str, str, list[object]]]:
    """(kind, SQL, params) — one statement per kind, each returning member rows."""
    pm = ProgramMembership._meta.db_table
    fm = FamilyMembership._meta.db_table
    person = Person._meta.db_table
    family = Family._meta.db_table
    active, a_params = active_sql("p.status")
    rng, r_params = range_sql("region_code", scope)
    recipient = (
        f"EXISTS (SELECT 1 FROM {pm} pm WHERE pm.status = 'aktif'"
        f" AND (pm.period_to IS NULL OR pm.period_to >= %s)"
        f" AND (pm.person_id = d.id OR pm.family_id = d.family_id))"
    )
    return [
        (
            DuplicateKind.DALAM_KK,
            f"SELECT nik, id, family_id, household_id, region_code FROM ("
            f" SELECT d.*, COUNT(*) OVER (PARTITION BY d.nik, d.family_id) AS n"
            f" FROM {SCRATCH} d) x WHERE n > 1",
            [],
        ),
        (
            DuplicateKind.ANTAR_KELUARGA,
            f"SELECT {_COLS} FROM {SCRATCH} d JOIN (SELECT nik FROM {SCRATCH} GROUP BY nik"
            f" HAVING COUNT(DISTINCT family_id) > 1 AND COUNT(DISTINCT region_code) = 1) g"
            f" ON g.nik = d.nik",
            [],
        ),
        (
            DuplicateKind.ANTAR_WILAYAH,
            f"SELECT {_COLS} FROM {SCRATCH} d JOIN (SELECT nik FROM {SCRATCH} GROUP BY nik"
            f" HAVING COUNT(DISTINCT region_code) > 1) g ON g.nik = d.nik",
            [],
        ),
        (
            DuplicateKind.ANTAR_PROGRAM,
            f"SELECT nik, id, family_id, household_id, region_code FROM ("
            f" SELECT d.*, COUNT(*) OVER (PARTITION BY d.nik) AS n FROM {SCRATCH} d"
            f" WHERE {recipient}) x WHERE n > 1",
            [today],
        ),
        (
            DuplicateKind.DUA_KK,
            # Two open memberships in two different families; at least one in scope.
            f"SELECT nik, id, family_id, household_id, region_code FROM ("
            f" SELECT COALESCE(p.nik, '') AS nik, p.id, m.family_id, f.household_id,"
            f" f.region_code, MIN(m.family_id) OVER (PARTITION BY p.id) AS lo,"
            f" MAX(m.family_id) OVER (PARTITION BY p.id) AS hi"
            f" FROM {DUP_PERSON} x JOIN {fm} m ON m.person_id = x.person_id"
            f" AND m.valid_to IS NULL JOIN {person} p ON p.id = x.person_id"
            f" JOIN {family} f ON f.id = m.family_id WHERE {active}"
            f" AND x.person_id IN (SELECT person_id FROM {fm} WHERE valid_to IS NULL"
            f" AND {rng} AND person_id IN (SELECT person_id FROM {DUP_PERSON}))) y"
            f" WHERE lo <> hi",
            a_params + r_params,
        ),
    ]


def detect(
    scope: str = "", *, today: dt.date | None = None, timings: dict[str, float] | None = None
) -> list[Row]:
    """Every duplicate row touching `scope` (a digits prefix; "" = national). `timings`, if
    given, receives seconds per step (for the benchmark)."""
    today = today or timezone.localdate()
    rows: list[Row] = []
    timings = timings if timings is not None else {}
    with connection.cursor() as cursor:
        started = time.perf_counter()
        _build_scratch(cursor, scope)
        timings["scratch_nik"] = time.perf_counter() - started
        started = time.perf_counter()
        _build_person_scratch(cursor)
        timings["scratch_memberships"] = time.perf_counter() - started
        try:
            for kind, sql, params in _kind_statements(scope, today):
                started = time.perf_counter()
                cursor.execute(sql, params)
                rows += [Row(str(kind), r[0] or "", *r[1:]) for r in cursor.fetchall()]
                timings[str(kind)] = time.perf_counter() - started
        finally:
            for table in (DUP_NIK, SCRATCH, DUP_PERSON):
                cursor.execute(f"DROP TABLE IF EXISTS {table}")
    return rows


def _group_key(row: Row) -> str:
    return f"p{row.person_id}" if row.kind == DuplicateKind.DUA_KK else row.nik


def _fingerprint(rows: Iterable[Row]) -> str:
    text = ",".join(sorted(f"{r.person_id}:{r.family_id}" for r in rows))
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def refresh(scope: str = "", *, today: dt.date | None = None) -> RefreshCounts:
    """Bring the worklist of `scope` (cut to kab/kota) in line with the registry."""
    scope = kabkota_scope(scope)
    found: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for row in detect(scope, today=today):
        found[(row.kind, _group_key(row))].append(row)
    # One group per kab/kota holding a member, each listing every member.
    groups: dict[tuple[str, str, str], list[Row]] = {}
    for (kind, key), rows in found.items():
        for kab in {r.region_code[:4] for r in rows}:
            groups[(kind, key, kab)] = rows
    counts = RefreshCounts()
    for kind, _key, _kab in groups:
        counts.found[kind] = counts.found.get(kind, 0) + 1
    with transaction.atomic():
        _reconcile(scope, groups, counts)
    return counts


def _existing(scope: str, groups: dict) -> dict[tuple[str, str, str], tuple]:
    """(pk, fingerprint, status) of existing groups in scope plus those elsewhere that share
    a found key, as tuples (a national refresh reads tens of thousands)."""
    cols = ("kind", "key", "region_code", "pk", "fingerprint", "status")
    rows = list(
        NikDuplicateGroup.objects.filter(prefix_q("region_code", scope[:4])).values_list(*cols)
    )
    outside = sorted({key for (_, key, kab) in groups if not kab.startswith(scope)})
    for start in range(0, len(outside), CHUNK):
        chunk = outside[start : start + CHUNK]
        rows += NikDuplicateGroup.objects.filter(key__in=chunk).values_list(*cols)
    return {(kind, key, kab): (pk, fp, status) for kind, key, kab, pk, fp, status in rows}


def _insert(model, columns: list[str], rows: list[tuple]) -> list[int]:  # type: ignore[no-untyped-def]
    """Insert plain tuples, returning the new ids in order: on PostgreSQL ids from the
    sequence and one COPY (no model instances: a national refresh writes ~200 k rows);
    elsewhere bulk_create."""
    if not rows:
        return []
    table = model._meta.db_table
    if connection.vendor != "postgresql":
        objs = model.objects.bulk_create(
            [model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=CHUNK
        )
        return [o.pk for o in objs]
    ids = records.reserve_ids(model, len(rows))
    with connection.cursor() as cursor:
        sql = f"COPY {table} (id, {', '.join(columns)}) FROM STDIN"
        debug = getattr(cursor, "debug_sql", None)  # log COPY like a query (query counts)
        with (
            debug(sql) if debug else contextlib.nullcontext(),
            cursor.cursor.copy(sql) as copy,
        ):
            for pk, row in zip(ids, rows, strict=True):
                copy.write_row((pk, *row))
    return ids


def _reconcile(scope: str, groups: dict, counts: RefreshCounts) -> None:
    now = timezone.now()
    existing = _existing(scope, groups)
    new_groups: list[tuple] = []
    new_rows: list[list[Row]] = []
    changed: list[NikDuplicateGroup] = []
    changed_rows: list[list[Row]] = []
    for (kind, key, kab), rows in groups.items():
        fp = _fingerprint(rows)
        found = existing.get((kind, key, kab))
        if found is None:
            new_groups.append(
                (kind, key, rows[0].nik, kab, fp, len(rows), WorkStatus.OPEN, "", "", now, now)
            )
            new_rows.append(rows)
        elif found[1] != fp:
            group = NikDuplicateGroup(
                pk=found[0], fingerprint=fp, member_count=len(rows), last_seen=now
            )
            group.status, group.resolution, group.proposal_id = WorkStatus.OPEN, "", None
            group.resolved_by_id, group.resolved_at, group.resolved_note = None, None, ""
            if found[2] == WorkStatus.RESOLVED:
                counts.reopened += 1  # membership changed: the earlier decision no longer holds
            changed.append(group)
            changed_rows.append(rows)
    gone = [
        found[0]
        for k, found in existing.items()
        if k not in groups and found[2] == WorkStatus.OPEN and k[2].startswith(scope)
    ]
    group_ids = _insert(
        NikDuplicateGroup,
        [
            "kind",
            "key",
            "nik",
            "region_code",
            "fingerprint",
            "member_count",
            "status",
            "resolution",
            "resolved_note",
            "first_seen",
            "last_seen",
        ],
        new_groups,
    )
    if changed:
        NikDuplicateGroup.objects.bulk_update(
            changed,
            [
                "fingerprint",
                "member_count",
                "status",
                "resolution",
                "resolved_by",
                "resolved_at",
                "resolved_note",
                "proposal",
                "last_seen",
            ],
            batch_size=CHUNK,
        )
        ids = [g.pk for g in changed]
        for start in range(0, len(ids), CHUNK):
            NikDuplicateMember.objects.filter(group_id__in=ids[start : start + CHUNK]).delete()
    pairs = [
        *zip(group_ids, new_rows, strict=True),
        *((g.pk, rows) for g, rows in zip(changed, changed_rows, strict=True)),
    ]
    _insert(
        NikDuplicateMember,
        ["group_id", "person_id", "family_id", "household_id", "region_code"],
        [
            (gid, r.person_id, r.family_id, r.household_id, r.region_code)
            for gid, rows in pairs
            for r in rows
        ],
    )
    for start in range(0, len(gone), CHUNK):
        NikDuplicateGroup.objects.filter(pk__in=gone[start : start + CHUNK]).update(
            status=WorkStatus.RESOLVED, resolution=GroupResolution.GONE, resolved_at=now
        )
    counts.created, counts.changed, counts.gone = len(new_groups), len(changed), len(gone)
