"""Raw-SQL fragments shared by the set-based quality statements (nikganda, rules)."""

from __future__ import annotations

from terpadu.proposals.integrity import ACTIVE
from terpadu.regions.models import digits_range


def range_sql(column: str, prefix: str) -> tuple[str, list[str]]:
    """`column` starts with `prefix`: the raw-SQL twin of regions.prefix_q (same range)."""
    lo, hi = digits_range(prefix)
    sql, params = [], []
    if lo:
        sql.append(f"{column} >= %s")
        params.append(lo)
    if hi:
        sql.append(f"{column} < %s")
        params.append(hi)
    return (" AND ".join(sql) or "1 = 1"), params


def active_sql(column: str) -> tuple[str, list[str]]:
    """`column` (a record status) is one of the active states (proposals.integrity.ACTIVE)."""
    return f"{column} IN ({', '.join(['%s'] * len(ACTIVE))})", [str(s) for s in ACTIVE]
