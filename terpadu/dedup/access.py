"""Who may see and act on duplicate candidates (on top of terpadu.accounts.access).

Kab/kota verifikator and admin review and decide within their kab/kota and start runs
there; provinsi, pusat and auditors read; desa and kecamatan operators do not see the queue
(they see likely matches at entry instead).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404

from terpadu.accounts.access import Action, can, role_allows
from terpadu.accounts.models import Role
from terpadu.regions.models import prefix_q

DECIDE_ROLES = frozenset({Role.VERIFIKATOR_KABKOTA, Role.ADMIN_KABKOTA})
READ_ROLES = DECIDE_ROLES | {
    Role.OPERATOR_PROVINSI,
    Role.ADMIN_PROVINSI,
    Role.PUSAT,
    Role.AUDITOR,
}


def may_read(user: Any) -> bool:
    """Whether the user sees the dedup pages at all (region scope applies on top)."""
    if not role_allows(user, Action.LIST):
        return False
    return bool(user.is_superuser or user.role in READ_ROLES)


def may_decide(user: Any, region_code: str = "") -> bool:
    """Whether the user may decide pairs and start runs for `region_code` ("" = anywhere in
    the user's scope)."""
    if not (user.is_superuser or getattr(user, "role", "") in DECIDE_ROLES):
        return False
    return can(user, Action.EDIT, region_code or user.scope)


def ensure_read(user: Any) -> None:
    if not may_read(user):
        raise Http404


def pairs_in_scope(qs: QuerySet[Any], user: Any) -> QuerySet[Any]:
    """Pairs whose two persons both lie in the user's scope."""
    if not may_read(user):
        return qs.none()
    return qs.filter(prefix_q("region_code", user.scope)).filter(
        prefix_q("region_code_b", user.scope)
    )
