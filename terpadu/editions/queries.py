"""Reads behind the edition pages (selectors): summaries, per-region counts, the diff preview
and what determination would apply.

Each costs a fixed number of queries, never one per row. None checks access: the views
authorize and pass a region prefix already within the user's scope.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import connection
from django.db.models import Count
from django.utils.translation import gettext_lazy as _lazy

from terpadu.editions import exports
from terpadu.editions.asof import (
    NONAKTIF,
    DiffKind,
    DiffRow,
    diff_editions,
    diff_rows,
    persons_as_of,
)
from terpadu.editions.determination import accepted_proposals
from terpadu.editions.forms import PERIOD_RE
from terpadu.editions.models import Edition, ProcessingRun
from terpadu.lib.nik import mask_nik
from terpadu.proposals.models import Kind
from terpadu.regions.models import Region
from terpadu.registry.models import NonaktifReason

SUMMARY_LABELS = {
    "proposals": _lazy("Usulan diterapkan"),
    "added": _lazy("Ditambahkan"),
    "deactivated": _lazy("Dinonaktifkan"),
    "reactivated": _lazy("Diaktifkan kembali"),
    "corrected": _lazy("Diperbaiki (kolom)"),
    "moved": _lazy("Dipindahkan"),
}
SUMMARY_ORDER = ("proposals", "added", "deactivated", "reactivated", "corrected", "moved")
# Internal bookkeeping in Edition.counts, not a change users read.
SUMMARY_HIDDEN = frozenset({"versions"})
UNIT_LABELS = {
    "households": _lazy("rumah tangga"),
    "families": _lazy("keluarga"),
    "persons": _lazy("individu"),
    "household": _lazy("rumah tangga"),
    "family": _lazy("keluarga"),
    "person": _lazy("individu"),
}
# Drill-down: the level shown under a prefix of each length (national → kab/kota, as the
# province pages of SIKS-NG do; a desa is the last level).
NEXT_LEVEL = {0: 4, 2: 4, 4: 6, 6: 10, 10: 10}


# --- summaries ------------------------------------------------------------------------------


def _sub_label(key: str, sub: str) -> str:
    if key == "deactivated" and sub in NonaktifReason.values:
        return str(NonaktifReason(sub).label)
    if key == "proposals" and sub in Kind.values:
        return str(Kind(sub).label)
    if key == "corrected":
        return exports.field_label(sub)
    return str(UNIT_LABELS.get(sub, sub))


def _flatten(key: str, value: Mapping[str, Any]) -> list[tuple[str, int]]:
    """(label, n) leaves; a nested {entity: {field: n}} reads "individu: nama"."""
    out: list[tuple[str, int]] = []
    for sub, n in value.items():
        if isinstance(n, Mapping):
            out += [(f"{_sub_label('', sub)}: {lbl}", m) for lbl, m in _flatten(key, n)]
        elif isinstance(n, int) and n:
            out.append((_sub_label(key, str(sub)), n))
    return out


def summary_rows(counts: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """Rows {key, label, total, breakdown} from an edition's counts or a diff's summary.

    Both shapes are read: a category is a number, a {sub-key: number} mapping (by reason, by
    field, by kind) or, in an edition, {entity: {field: number}}; counts per unit
    (households/families/persons) total their persons. Unknown keys show as they are.
    No query: it only reads the mapping it is given.
    """
    counts = counts or {}
    keys = [k for k in SUMMARY_ORDER if k in counts] + sorted(
        k for k in counts if k not in SUMMARY_ORDER and k not in SUMMARY_HIDDEN
    )
    rows = []
    for key in keys:
        value = counts[key]
        if isinstance(value, Mapping):
            breakdown = sorted(_flatten(key, value), key=lambda item: -item[1])
            persons = value.get("persons")
            total = persons if isinstance(persons, int) else sum(n for _l, n in breakdown)
        elif isinstance(value, int):
            breakdown, total = [], value
        else:
            continue
        label = SUMMARY_LABELS.get(key, key)
        rows.append({"key": key, "label": label, "total": total, "breakdown": breakdown})
    return rows


def edition_summary(edition: Edition, *, prefix: str, previous: str | None) -> list[dict[str, Any]]:
    """National: the counts stored at determination. Within a region: the diff against the
    previous edition (or against the state before every edition), computed in one query."""
    if not prefix:
        return summary_rows(edition.counts)
    diff = diff_editions(previous or "", edition.period, region_prefix=prefix)
    return summary_rows(diff.summary())


# --- editions and regions -------------------------------------------------------------------


def previous_edition_period(period: str) -> str | None:
    """The period of the latest edition before `period`, or None for the first edition."""
    return (
        Edition.objects.filter(period__lt=period)
        .order_by("-period")
        .values_list("period", flat=True)
        .first()
    )


def region_for_prefix(prefix: str) -> Region | None:
    """The region whose code is `prefix` (None for national, or for an unknown code)."""
    if not prefix:
        return None
    return Region.objects.filter(digits=prefix).order_by("valid_to").first()


def region_drilldown(period: str, *, prefix: str) -> dict[str, Any]:
    """Active and nonaktif persons of edition `period` per region one level below `prefix`:
    ONE ``GROUP BY`` over the as-of union (asof.persons_as_of), plus one query for names."""
    width = NEXT_LEVEL.get(len(prefix), 10)
    inner, params = persons_as_of(
        period, region_prefix=prefix, active_only=False
    ).query.sql_with_params()
    q = connection.ops.quote_name
    code = f"SUBSTR(p.{q('region_code')}, 1, {width})"
    sql = (
        f"SELECT {code}, "  # noqa: S608 - identifiers from model meta, values as parameters
        f"SUM(CASE WHEN p.{q('status')} = %s THEN 0 ELSE 1 END), "
        f"SUM(CASE WHEN p.{q('status')} = %s THEN 1 ELSE 0 END) "
        f"FROM ({inner}) p GROUP BY {code} ORDER BY {code}"
    )
    with exports.without_jit(), connection.cursor() as cursor:
        cursor.execute(sql, [NONAKTIF, NONAKTIF, *params])
        counts = cursor.fetchall()
    names = dict(
        Region.objects.filter(
            digits__in=[c for c, *_ in counts], valid_to__isnull=True
        ).values_list("digits", "name")
    )
    rows = [
        {
            "code": c,
            "name": names.get(c, c),
            "active": int(a or 0),
            "inactive": int(i or 0),
            "drill": width < 10,
        }
        for c, a, i in counts
    ]
    return {
        "rows": rows,
        "active": sum(r["active"] for r in rows),
        "inactive": sum(r["inactive"] for r in rows),
    }


# --- determination --------------------------------------------------------------------------


def accepted_proposals_by_kind(period: str, *, run: ProcessingRun | None) -> dict[str, Any]:
    """Proposals determination will apply (determination.accepted_proposals), per kind, in
    one GROUP BY. A malformed period (a half-typed form) reads as none, without a query."""
    qs = accepted_proposals(period, run) if PERIOD_RE.match(period) else None
    counts = dict(qs.values_list("kind").annotate(n=Count("id")).order_by()) if qs else {}
    rows = [(label, counts[value]) for value, label in Kind.choices if counts.get(value)]
    return {"rows": rows, "total": sum(counts.values())}


# --- diff -----------------------------------------------------------------------------------


def diff_preview(a: str, b: str, *, prefix: str, limit: int) -> dict[str, Any]:
    """Counts (one aggregate) and the first `limit` rows of each category (one pass over the
    differing persons, which stops once every category is full). NIK and No KK come masked."""
    diff = diff_editions(a, b, region_prefix=prefix)
    totals = {
        DiffKind.ADDED: diff.added,
        DiffKind.DEACTIVATED: sum(diff.deactivated.values()),
        DiffKind.REACTIVATED: diff.reactivated,
        DiffKind.CORRECTED: sum(diff.corrected.values()),
        DiffKind.MOVED: diff.moved,
    }
    firsts: dict[str, list[DiffRow]] = {kind: [] for kind, _t in exports.DIFF_KINDS}
    if any(totals.values()):
        for row in diff_rows(a, b, region_prefix=prefix):
            for kind in row.kinds:
                if len(firsts[kind]) < limit:
                    firsts[kind].append(row)
            if all(len(v) >= min(limit, totals[k]) for k, v in firsts.items()):
                break
    codes = {r.after["region_code"] for rows in firsts.values() for r in rows}
    codes |= {r.before["region_code"] for rows in firsts.values() for r in rows if r.before}
    names = dict(
        Region.objects.filter(digits__in=codes, valid_to__isnull=True).values_list("digits", "name")
    )
    sections = []
    for kind, title in exports.DIFF_KINDS:
        columns = exports.DIFF_COLUMNS[kind]
        lines = exports.diff_lines(firsts[kind], kind, desa_names=names, unmask=False)
        table = [[_cell(c, line.get(c.key)) for c in columns] for line in lines][:limit]
        sections.append(
            {
                "key": kind,
                "label": title,
                "total": totals[kind],
                "columns": columns,
                "rows": table,
                "nik_cols": [i for i, c in enumerate(columns) if c.nik],
            }
        )
    return {"summary": summary_rows(diff.summary()), "sections": sections}


def _cell(column: exports.Column, value: Any) -> Any:
    """Pages always mask NIK/No KK, whoever looks (UU PDP: lists show masked values)."""
    if column.nik:
        return mask_nik(value)
    return value
