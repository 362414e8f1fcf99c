"""Reading past editions: the registry as of an edition, and the diff between two editions.

As of edition P (see versions.py) a row's state is its current row when
``penetapan_period <= P`` (its state took effect at or before P; '' sorts first) or else its
version with ``valid_from <= P < valid_to``; exactly one of the two holds for a row that
existed at P, none for a row created later. Both halves are plain range filters on indexed
columns, scoped by region prefix with `digits_range`, so a kab/kota reads only its rows.

Rule to know: changes made outside a determination (superuser corrections in the admin, demo
loads, imports) are not versioned and so show in past editions too — only determinations
write history that editions can rewind.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, models

from terpadu.editions.versions import VERSION_OF
from terpadu.regions.models import digits_range, prefix_q
from terpadu.registry.models import Family, Household, NonaktifReason, Person, RecordStatus

NONAKTIF = RecordStatus.NONAKTIF.value


def _fields(model: type[models.Model]) -> list[str]:
    """The columns shared by a registry row and its version, as ``values()`` names."""
    version = VERSION_OF[model]
    shared = {f.attname for f in version._meta.concrete_fields}
    return [f.attname for f in model._meta.concrete_fields if f.attname in shared]


def _scoped(qs: models.QuerySet, region_prefix: str) -> models.QuerySet:
    return qs.filter(prefix_q("region_code", region_prefix))


def rows_as_of(
    model: type[models.Model],
    period: str,
    *,
    region_prefix: str = "",
    active_only: bool = True,
) -> models.QuerySet:
    """Rows of `model` as they were in edition `period`, as ``values()`` dicts keyed like the
    registry row (``id`` is the registry id). A UNION ALL of two querysets: count it, order
    it by column names, slice it; further filters go in before (use the arguments)."""
    names = [n for n in _fields(model) if n != "id"]
    current = _scoped(model.objects.filter(penetapan_period__lte=period), region_prefix)
    past = _scoped(
        VERSION_OF[model].objects.filter(valid_from__lte=period, valid_to__gt=period),
        region_prefix,
    )
    if active_only:
        current = current.exclude(status=NONAKTIF)
        past = past.exclude(status=NONAKTIF)
    return current.values("id", *names).union(past.values("record_id", *names), all=True)


def persons_as_of(period: str, *, region_prefix: str = "", active_only: bool = True) -> Any:
    """Persons as in edition `period` ("who was active in DTKS penetapan Maret 2026?"),
    with their household, family and region as they were then; same columns as today."""
    return rows_as_of(Person, period, region_prefix=region_prefix, active_only=active_only)


def households_as_of(period: str, *, region_prefix: str = "", active_only: bool = True) -> Any:
    """Households as in edition `period` (see `rows_as_of`)."""
    return rows_as_of(Household, period, region_prefix=region_prefix, active_only=active_only)


def families_as_of(period: str, *, region_prefix: str = "", active_only: bool = True) -> Any:
    """Families as in edition `period` (see `rows_as_of`)."""
    return rows_as_of(Family, period, region_prefix=region_prefix, active_only=active_only)


# --- diff -----------------------------------------------------------------------------------

# Person fields whose change counts as a correction (status and region are their own kinds).
TRACKED_FIELDS = (
    "nik",
    "name",
    "sex",
    "birth_place",
    "birth_date",
    "relation_ruta",
    "relation_kk",
    "mother_name",
    "marital_status",
    "disability",
    "education_level",
    "employment_status",
    "occupation",
    "desil",
    "family_id",
    "household_id",
)
_STATE = ("id", "region_code", "status", "nonaktif_reason", *TRACKED_FIELDS)


class DiffKind:
    ADDED = "added"
    DEACTIVATED = "deactivated"
    REACTIVATED = "reactivated"
    CORRECTED = "corrected"
    MOVED = "moved"


@dataclass
class DiffRow:
    """One person that differs between the editions (`before` is None when added)."""

    person_id: int
    kinds: list[str]
    before: dict[str, Any] | None
    after: dict[str, Any]
    changed_fields: list[str]


@dataclass
class EditionDiff:
    """What changed between editions `a` and `b` (a < b), optionally within a region."""

    a: str
    b: str
    region_prefix: str
    added: int
    deactivated: dict[str, int]
    reactivated: int
    corrected: dict[str, int]
    moved: int

    def summary(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "deactivated": self.deactivated,
            "reactivated": self.reactivated,
            "corrected": self.corrected,
            "moved": self.moved,
        }

    def rows(self) -> Iterator[DiffRow]:
        """Every differing person, streamed (for the xlsx export)."""
        return diff_rows(self.a, self.b, region_prefix=self.region_prefix)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _state_sql(period: str, since: str, until: str) -> tuple[str, list[Any]]:
    """SQL for the persons' state as of `period`, limited to persons an edition in
    (since, until] touched — the only ones that can differ — so the cost follows the changes."""
    person, version = _q(Person._meta.db_table), _q(VERSION_OF[Person]._meta.db_table)
    cols = ", ".join(_q(c) for c in _STATE[1:])
    pp = _q("penetapan_period")
    touched = (
        f"SELECT id FROM {person} WHERE {pp} > %s AND {pp} <= %s "  # noqa: S608
        f"UNION SELECT record_id FROM {version} WHERE "
        f"(valid_to > %s AND valid_to <= %s) OR (valid_from > %s AND valid_from <= %s)"
    )
    sql = (
        f"SELECT id, {cols} FROM {person} WHERE {pp} <= %s AND id IN ({touched}) "  # noqa: S608
        f"UNION ALL SELECT record_id, {cols} FROM {version} "
        f"WHERE valid_from <= %s AND valid_to > %s AND record_id IN ({touched})"
    )
    window = [since, until] * 3
    return sql, [period, *window, period, period, *window]


def _is_distinct(a: str, b: str) -> str:
    if connection.vendor == "postgresql":
        return f"{a} IS DISTINCT FROM {b}"
    return f"{a} IS NOT {b}"  # SQLite's null-safe inequality


def _joined(a: str, b: str, region_prefix: str) -> tuple[str, list[Any]]:
    """``FROM (state at b) b LEFT JOIN (state at a) a`` over the persons touched in (a, b]."""
    sa, pa = _state_sql(a, a, b)
    sb, pb = _state_sql(b, a, b)
    sql = f"FROM ({sb}) sb LEFT JOIN ({sa}) sa ON sa.id = sb.id"
    params = [*pb, *pa]
    lo, hi = digits_range(region_prefix)
    if lo:
        # A move counts in both regions: the one it left and the one it reached.
        inside = "({c} >= %s" + (" AND {c} < %s)" if hi else ")")
        sql += (
            " WHERE ("
            + inside.format(c="sb.region_code")
            + " OR "
            + inside.format(c="sa.region_code")
            + ")"
        )
        bounds = [lo, hi] if hi else [lo]
        params += bounds * 2
    return sql, params


def diff_editions(a_period: str, b_period: str, *, region_prefix: str = "") -> EditionDiff:
    """Counts of what changed from edition `a_period` to `b_period` (one SQL aggregate):
    persons added (active in b, absent in a), deactivated by reason (active in a, nonaktif
    in b), reactivated, corrected per tracked field (present in both), moved (region
    changed). Only persons some edition in (a, b] touched are read."""
    if a_period > b_period:
        a_period, b_period = b_period, a_period
    base, params = _joined(a_period, b_period, region_prefix)
    off = f"'{NONAKTIF}'"
    parts = [
        f"SUM(CASE WHEN sa.id IS NULL AND sb.status <> {off} THEN 1 ELSE 0 END)",
        f"SUM(CASE WHEN sa.status = {off} AND sb.status <> {off} THEN 1 ELSE 0 END)",
        "SUM(CASE WHEN sa.id IS NOT NULL AND sa.region_code <> sb.region_code THEN 1 ELSE 0 END)",
    ]
    reasons = list(NonaktifReason.values)
    parts += [
        f"SUM(CASE WHEN sa.status <> {off} AND sb.status = {off} "
        f"AND sb.nonaktif_reason = '{r}' THEN 1 ELSE 0 END)"
        for r in reasons
    ]
    parts += [
        f"SUM(CASE WHEN sa.id IS NOT NULL AND "
        f"{_is_distinct('sa.' + _q(f), 'sb.' + _q(f))} THEN 1 ELSE 0 END)"
        for f in TRACKED_FIELDS
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)} {base}", params)
        row = [int(v or 0) for v in cursor.fetchone()]
    added, reactivated, moved = row[:3]
    by_reason = dict(zip(reasons, row[3 : 3 + len(reasons)], strict=True))
    by_field = dict(zip(TRACKED_FIELDS, row[3 + len(reasons) :], strict=True))
    return EditionDiff(
        a=a_period,
        b=b_period,
        region_prefix=region_prefix,
        added=added,
        deactivated={k: v for k, v in by_reason.items() if v},
        reactivated=reactivated,
        corrected={k: v for k, v in by_field.items() if v},
        moved=moved,
    )


def diff_rows(a_period: str, b_period: str, *, region_prefix: str = "") -> Iterator[DiffRow]:
    """The differing persons one by one (server-side cursor on PostgreSQL), classified as in
    `diff_editions`; persons whose tracked state is unchanged are skipped."""
    if a_period > b_period:
        a_period, b_period = b_period, a_period
    base, params = _joined(a_period, b_period, region_prefix)
    cols = (
        ", ".join(f"sb.{_q(c)}" for c in _STATE) + ", " + ", ".join(f"sa.{_q(c)}" for c in _STATE)
    )
    n = len(_STATE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {cols} {base} ORDER BY sb.id", params)
        while chunk := cursor.fetchmany(2000):
            for raw in chunk:
                after = dict(zip(_STATE, raw[:n], strict=True))
                before = dict(zip(_STATE, raw[n:], strict=True)) if raw[n] is not None else None
                row = _classify(after, before)
                if row is not None:
                    yield row


def _classify(after: dict[str, Any], before: dict[str, Any] | None) -> DiffRow | None:
    kinds: list[str] = []
    changed: list[str] = []
    if before is None:
        if after["status"] == NONAKTIF:
            return None
        kinds.append(DiffKind.ADDED)
    else:
        if before["status"] != NONAKTIF and after["status"] == NONAKTIF:
            kinds.append(DiffKind.DEACTIVATED)
        elif before["status"] == NONAKTIF and after["status"] != NONAKTIF:
            kinds.append(DiffKind.REACTIVATED)
        if before["region_code"] != after["region_code"]:
            kinds.append(DiffKind.MOVED)
        changed = [f for f in TRACKED_FIELDS if before[f] != after[f]]
        if changed:
            kinds.append(DiffKind.CORRECTED)
    if not kinds:
        return None
    return DiffRow(after["id"], kinds, before, after, changed)
