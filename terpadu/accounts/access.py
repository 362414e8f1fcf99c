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
from django.http import Http404, HttpRequest

from terpadu.accounts.models import ROLE_LEVELS, AccessLog, Role, User
from terpadu.regions.models import prefix_q

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from terpadu.regions.models import Region


class Action(StrEnum):
    LIST = "list"  # see a record in lists/search results (NIK masked)
    VIEW = "view"  # open one full record (logged)
    EDIT = "edit"  # propose new entries, corrections, deactivations
    EXPORT_NIK = "export_nik"  # export lists with unmasked NIK (logged)
    MANAGE_USERS = "manage_users"  # create/edit accounts below one's own level
    QUALITY = "quality"  # see the data-quality worklists of one's scope
    QUALITY_RUN = "quality_run"  # start a quality run (NIK ganda, flags) for one's scope
    REFERENCE_UPLOAD = "reference_upload"  # upload reference lists (PNS, pensiunan, upah …)
    REVIEW_PACK = "review_pack"  # the province review pack and its task lists


R = Role
# Which roles may do what, before the region check. Enumerators see only what is assigned
# to them (verivali assignments, proposals issue), never the open registry.
A = Action
ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    R.OPERATOR_DESA: frozenset({A.LIST, A.VIEW, A.EDIT}),
    R.ENUMERATOR: frozenset(),
    R.OPERATOR_KECAMATAN: frozenset({A.LIST, A.VIEW, A.EDIT, A.QUALITY}),
    R.VERIFIKATOR_KABKOTA: frozenset(
        {A.LIST, A.VIEW, A.EDIT, A.EXPORT_NIK, A.QUALITY, A.QUALITY_RUN}
    ),
    R.ADMIN_KABKOTA: frozenset(
        {A.LIST, A.VIEW, A.EDIT, A.EXPORT_NIK, A.MANAGE_USERS, A.QUALITY, A.QUALITY_RUN}
        | {A.REFERENCE_UPLOAD}
    ),
    R.OPERATOR_PROVINSI: frozenset({A.LIST, A.VIEW, A.QUALITY, A.QUALITY_RUN, A.REVIEW_PACK}),
    R.ADMIN_PROVINSI: frozenset(
        {A.LIST, A.VIEW, A.MANAGE_USERS, A.QUALITY, A.QUALITY_RUN, A.REFERENCE_UPLOAD}
        | {A.REVIEW_PACK}
    ),
    R.PUSAT: frozenset(
        {A.LIST, A.VIEW, A.EXPORT_NIK, A.MANAGE_USERS, A.QUALITY, A.QUALITY_RUN}
        | {A.REFERENCE_UPLOAD, A.REVIEW_PACK}
    ),
    R.AUDITOR: frozenset({A.LIST, A.VIEW, A.QUALITY}),
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
    qs: QuerySet[Any],
    user: User | AnonymousUser,
    action: Action = Action.LIST,
    field: str = "region_code",
) -> QuerySet[Any]:
    """Filter `qs` in SQL to the rows `user` may `action` on (a prefix range on `field`)."""
    if not role_allows(user, action):
        return qs.none()
    return qs.filter(prefix_q(field, user.scope))  # type: ignore[union-attr]


# Who creates whose account (domain.md §3.9 "manage users of level below"). Each admin hands
# out only roles at or below its own level, inside its own subtree; a role is never listed
# for a level above the actor, so nobody can manage an account into a higher role.
MANAGED_ROLES: dict[str, tuple[Role, ...]] = {
    R.ADMIN_KABKOTA: (
        R.OPERATOR_DESA,
        R.ENUMERATOR,
        R.OPERATOR_KECAMATAN,
        R.VERIFIKATOR_KABKOTA,
    ),
    R.ADMIN_PROVINSI: (R.ADMIN_KABKOTA, R.VERIFIKATOR_KABKOTA, R.OPERATOR_PROVINSI),
    R.PUSAT: (R.ADMIN_PROVINSI, R.OPERATOR_PROVINSI, R.AUDITOR, R.PUSAT),
}


def manageable_roles(actor: User | AnonymousUser) -> list[Role]:
    """Roles `actor` may give to accounts it creates or edits (in `Role` order)."""
    if not role_allows(actor, Action.MANAGE_USERS):
        return []
    if actor.is_superuser:
        return list(Role)
    allowed = MANAGED_ROLES.get(actor.role, ())  # type: ignore[union-attr]
    return [role for role in Role if role in allowed]


def region_fits_role(role: str, region: Region | None) -> bool:
    """Whether `region` sits at a level `role` is bound to (None = national, ROLE_LEVELS)."""
    levels = ROLE_LEVELS.get(role)
    if levels is None:
        return False
    if region is None:
        return None in levels
    # A retired region (split/merged/re-coded) takes no new accounts.
    return region.level in levels and region.valid_to is None


def can_manage_user(
    actor: User | AnonymousUser, target_role: str, target_region: Region | None
) -> bool:
    """May `actor` create (or edit into) an account with `target_role` bound to `target_region`?

    True only when the role is one the actor hands out, the region is at that role's level,
    and the region lies inside the actor's own subtree. Superusers may give any role, but the
    role/level pairing still holds for them (it is a data rule, not a permission).
    """
    if not region_fits_role(target_role, target_region):
        return False
    if target_role not in manageable_roles(actor):
        return False
    if actor.is_superuser and not actor.scope:  # type: ignore[union-attr]
        return True
    if target_region is None:
        return actor.scope == ""  # type: ignore[union-attr]
    return covers(actor, target_region.digits)  # type: ignore[arg-type]


def can_edit_user(actor: User | AnonymousUser, target: User) -> bool:
    """May `actor` edit, deactivate or reset the password of `target`?

    Never one's own account (no self-promotion, no locking oneself out), never a superuser
    unless the actor is one, and otherwise only accounts whose current role the actor hands
    out and whose region lies in the actor's subtree. Where the account may move to is asked
    separately with `can_manage_user`.
    """
    if not actor.is_authenticated or actor.pk == target.pk:
        return False
    if not role_allows(actor, Action.MANAGE_USERS):
        return False
    if actor.is_superuser and not actor.scope:  # type: ignore[union-attr]
        return True
    if target.is_superuser:
        return False
    if target.role not in manageable_roles(actor):
        return False
    return covers(actor, target.scope)  # type: ignore[arg-type]


def users_in_scope(actor: User | AnonymousUser) -> QuerySet[User]:
    """Accounts `actor` may list: those bound inside its subtree (national accounts only for
    national actors). Superusers' accounts are hidden from everyone but superusers."""
    qs = User.objects.all()
    if not role_allows(actor, Action.MANAGE_USERS):
        return qs.none()
    if actor.is_superuser and not actor.scope:  # type: ignore[union-attr]
        return qs
    if not actor.is_superuser:
        qs = qs.filter(is_superuser=False)
    return qs.filter(prefix_q("scope", actor.scope))  # type: ignore[union-attr]


def client_ip(request: HttpRequest) -> str | None:
    """The peer address. X-Forwarded-For is ignored on purpose: it is client-controlled unless
    a trusted proxy rewrites REMOTE_ADDR (configure that in the proxy, not here)."""
    return request.META.get("REMOTE_ADDR") or None


def log_access(
    request_or_user: HttpRequest | User,
    *,
    action: str,
    entity: str,
    entity_id: str | int = "",
    region_code: str = "",
    purpose: str = "",
) -> AccessLog:
    """Record one read/export of personal data (UU PDP: reads of full records with NIK are
    logged). Call it where the data is served, after the permission check passed."""
    if isinstance(request_or_user, HttpRequest):
        user = request_or_user.user if request_or_user.user.is_authenticated else None
        ip = client_ip(request_or_user)
    else:
        user, ip = request_or_user, None
    return AccessLog.objects.create(
        user=user,
        action=action,
        entity=entity,
        entity_id=str(entity_id),
        region_code=region_code,
        purpose=purpose,
        ip=ip,
    )
