"""The one place that decides what a user may see and do (design.md §1, domain.md §3.9).

Every view, API, export and task asks `can()` / `ensure_can()` for one record and filters
lists with `in_scope()`. A user's scope is the subtree of their region: a registry row is in
scope when its digits-only `region_code` starts with `user.scope` (empty = national).
Out-of-scope records answer 404, not 403, so their existence does not leak.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.db.models import Model, QuerySet
from django.http import Http404

from terpadu.accounts.models import Role
from terpadu.regions.models import digits_range

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from terpadu.accounts.models import User


class Action(StrEnum):
    LIST = "list"  # see a record in lists/search results (NIK masked)
    VIEW = "view"  # open one full record (logged)
    EDIT = "edit"  # propose new entries, corrections, deactivations
    EXPORT_NIK = "export_nik"  # export lists with unmasked NIK (logged)
    MANAGE_USERS = "manage_users"  # create/edit accounts below one's own level


R = Role
# Which roles may do what, before the region check. Enumerators see only what is assigned
# to them (verivali assignments, proposals issue), never the open registry.
ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    R.OPERATOR_DESA: frozenset({Action.LIST, Action.VIEW, Action.EDIT}),
    R.ENUMERATOR: frozenset(),
    R.OPERATOR_KECAMATAN: frozenset({Action.LIST, Action.VIEW, Action.EDIT}),
    R.VERIFIKATOR_KABKOTA: frozenset({Action.LIST, Action.VIEW, Action.EDIT, Action.EXPORT_NIK}),
    R.ADMIN_KABKOTA: frozenset(
        {Action.LIST, Action.VIEW, Action.EDIT, Action.EXPORT_NIK, Action.MANAGE_USERS}
    ),
    R.OPERATOR_PROVINSI: frozenset({Action.LIST, Action.VIEW}),
    R.ADMIN_PROVINSI: frozenset({Action.LIST, Action.VIEW, Action.MANAGE_USERS}),
    R.PUSAT: frozenset({Action.LIST, Action.VIEW, Action.EXPORT_NIK, Action.MANAGE_USERS}),
    R.AUDITOR: frozenset({Action.LIST, Action.VIEW}),
}


def role_allows(user: User | AnonymousUser, action: Action) -> bool:
    """Whether the user's role permits `action` anywhere (ignoring region)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return action in ROLE_ACTIONS.get(user.role, frozenset())


def covers(user: User, region_code: str) -> bool:
    """Whether `region_code` (digits) lies in the user's region subtree."""
    if user.is_superuser and not user.scope:
        return True
    return region_code.startswith(user.scope)


def can(user: User | AnonymousUser, action: Action, region_code: str) -> bool:
    """May `user` do `action` on a record or region whose digits-only code is `region_code`?"""
    return role_allows(user, action) and covers(user, region_code)  # type: ignore[arg-type]


def ensure_can(user: User | AnonymousUser, action: Action, obj: Model) -> None:
    """Raise Http404 unless `user` may do `action` on `obj` (which has `region_code`)."""
    region_code: str = obj.region_code  # type: ignore[attr-defined]
    if not can(user, action, region_code):
        raise Http404


def in_scope(
    qs: QuerySet[Any], user: User | AnonymousUser, action: Action = Action.LIST,
    field: str = "region_code",
) -> QuerySet[Any]:
    """Filter `qs` in SQL to the rows `user` may `action` on (a prefix range on `field`)."""
    if not role_allows(user, action):
        return qs.none()
    lo, hi = digits_range(user.scope)  # type: ignore[union-attr]
    if lo:
        qs = qs.filter(**{f"{field}__gte": lo})
    if hi:
        qs = qs.filter(**{f"{field}__lt": hi})
    return qs
