"""The permission matrix and scope filters (access.py), written out as explicit tables."""

from __future__ import annotations

import pytest

from terpadu.accounts.access import (
    Action,
    can,
    can_edit_user,
    can_manage_user,
    in_scope,
    log_access,
    manageable_roles,
    users_in_scope,
)
from terpadu.accounts.models import AccessLog, Role
from terpadu.registry.models import Household

L, V, E, X = Action.LIST, Action.VIEW, Action.EDIT, Action.EXPORT_NIK
MATRIX_ACTIONS = (L, V, E, X)

# role → (own, sibling, parent) region codes. "" stands for a national-level object.
PLACES = {
    "operator_desa": ("1371011001", "1371011002", "137101"),
    "enumerator": ("1371011001", "1371011002", "137101"),
    "operator_kecamatan": ("137101", "137102", "1371"),
    "verifikator_kabkota": ("1371", "1372", "13"),
    "admin_kabkota": ("1371", "1372", "13"),
    "operator_provinsi": ("13", "14", ""),
    "admin_provinsi": ("13", "14", ""),
    # National roles: "own" is any desa, "sibling" another province, "parent" the nation.
    "pusat": ("1371011001", "1471", ""),
    "auditor": ("1371011001", "1471", ""),
}

# The expected answers of can(), role by role: own, sibling, parent.
NONE: frozenset[Action] = frozenset()
EXPECTED: dict[str, tuple[frozenset[Action], ...]] = {
    "operator_desa": (frozenset({L, V, E}), NONE, NONE),
    "enumerator": (NONE, NONE, NONE),  # works only on what is assigned to them
    "operator_kecamatan": (frozenset({L, V, E}), NONE, NONE),
    "verifikator_kabkota": (frozenset({L, V, E, X}), NONE, NONE),
    "admin_kabkota": (frozenset({L, V, E, X}), NONE, NONE),
    "operator_provinsi": (frozenset({L, V}), NONE, NONE),
    "admin_provinsi": (frozenset({L, V}), NONE, NONE),
    "pusat": (frozenset({L, V, X}), frozenset({L, V, X}), frozenset({L, V, X})),
    "auditor": (frozenset({L, V}), frozenset({L, V}), frozenset({L, V})),
}

CASES = [
    pytest.param(role, place, action, action in EXPECTED[role][i], id=f"{role}-{place}-{action}")
    for role in PLACES
    for i, place in enumerate(("own", "sibling", "parent"))
    for action in MATRIX_ACTIONS
]


@pytest.mark.parametrize(("role", "place", "action", "allowed"), CASES)
def test_permission_matrix(cast, role, place, action, allowed) -> None:
    code = PLACES[role][("own", "sibling", "parent").index(place)]
    assert can(cast[role], action, code) is allowed


def test_matrix_covers_every_role() -> None:
    assert set(EXPECTED) == set(Role.values) == set(PLACES)


def test_inactive_and_anonymous_may_do_nothing(cast) -> None:
    from django.contrib.auth.models import AnonymousUser

    user = cast["admin_kabkota"]
    user.is_active = False
    for action in Action:
        assert not can(user, action, "1371011001")
        assert not can(AnonymousUser(), action, "1371011001")


@pytest.fixture
def root(db):  # type: ignore[no-untyped-def]
    from terpadu.accounts.models import User

    return User.objects.create_superuser("root", "root@example.org", "rahasia-uji-123")


def test_superuser_may_do_everything_everywhere(root) -> None:
    for action in Action:
        assert can(root, action, "1471")


@pytest.fixture
def households(regions) -> dict[str, Household]:
    # Edges of the prefix ranges: 1371 vs 1372 (next kab), 137101 vs 137102, 13 vs 14.
    return {
        d: Household.objects.create(region=regions[d], region_code=d)
        for d in ("1371011001", "1371011002", "1371021001", "1372011001")
    } | {"1471": Household.objects.create(region=regions["1471"], region_code="1471000001")}


IN_SCOPE = {
    "operator_desa": {"1371011001"},
    "enumerator": set(),
    "operator_kecamatan": {"1371011001", "1371011002"},
    "verifikator_kabkota": {"1371011001", "1371011002", "1371021001"},
    "admin_kabkota": {"1371011001", "1371011002", "1371021001"},
    "operator_provinsi": {"1371011001", "1371011002", "1371021001", "1372011001"},
    "admin_provinsi": {"1371011001", "1371011002", "1371021001", "1372011001"},
    "pusat": {"1371011001", "1371011002", "1371021001", "1372011001", "1471"},
    "auditor": {"1371011001", "1371011002", "1371021001", "1372011001", "1471"},
    "outsider_desa": {"1372011001"},
    "outsider_kab": {"1372011001"},
}


@pytest.mark.parametrize("who", IN_SCOPE)
def test_in_scope_returns_exactly_the_subtree(cast, households, who) -> None:
    rows = in_scope(Household.objects.all(), cast[who])
    assert {h.pk for h in rows} == {households[k].pk for k in IN_SCOPE[who]}


def test_in_scope_for_an_action_the_role_lacks_is_empty(cast, households) -> None:
    assert not in_scope(Household.objects.all(), cast["operator_provinsi"], Action.EDIT).exists()


# (actor, target role, target region) → allowed.
MANAGE = [
    ("admin_kabkota", "operator_desa", "1371011001", True),
    ("admin_kabkota", "enumerator", "1371011002", True),
    ("admin_kabkota", "enumerator", "137101", True),  # TKSK over a whole kecamatan
    ("admin_kabkota", "operator_kecamatan", "137102", True),
    ("admin_kabkota", "verifikator_kabkota", "1371", True),
    ("admin_kabkota", "operator_desa", "1372011001", False),  # other kab
    ("admin_kabkota", "operator_desa", "137101", False),  # wrong level for the role
    ("admin_kabkota", "admin_kabkota", "1371", False),  # no peers, no promotion
    ("admin_kabkota", "admin_provinsi", "13", False),
    ("admin_kabkota", "pusat", None, False),
    ("admin_provinsi", "admin_kabkota", "1371", True),
    ("admin_provinsi", "admin_kabkota", "1372", True),
    ("admin_provinsi", "verifikator_kabkota", "1372", True),
    ("admin_provinsi", "operator_provinsi", "13", True),
    ("admin_provinsi", "admin_kabkota", "1471", False),  # other province
    ("admin_provinsi", "operator_desa", "1371011001", False),  # kab admins do that
    ("admin_provinsi", "admin_provinsi", "13", False),
    ("admin_provinsi", "pusat", None, False),
    ("pusat", "admin_provinsi", "14", True),
    ("pusat", "operator_provinsi", "13", True),
    ("pusat", "auditor", None, True),
    ("pusat", "auditor", "1371", True),
    ("pusat", "pusat", None, True),
    ("pusat", "admin_provinsi", None, False),  # a provincial role needs a province
    ("pusat", "admin_kabkota", "1371", False),
    ("operator_desa", "operator_desa", "1371011001", False),
    ("verifikator_kabkota", "operator_desa", "1371011001", False),
    ("operator_provinsi", "operator_provinsi", "13", False),
    ("auditor", "auditor", None, False),
    ("outsider_kab", "operator_desa", "1371011001", False),
    ("outsider_kab", "operator_desa", "1372011001", True),
]


@pytest.mark.parametrize(("actor", "role", "region", "allowed"), MANAGE)
def test_can_manage_user(cast, regions, actor, role, region, allowed) -> None:
    target = regions[region] if region else None
    assert can_manage_user(cast[actor], role, target) is allowed


def test_superuser_manages_any_role_but_levels_still_hold(root, regions) -> None:
    assert can_manage_user(root, "admin_kabkota", regions["1471"])
    assert not can_manage_user(root, "admin_kabkota", regions["14"])


def test_manageable_roles(cast) -> None:
    assert manageable_roles(cast["admin_kabkota"]) == [
        Role.OPERATOR_DESA,
        Role.ENUMERATOR,
        Role.OPERATOR_KECAMATAN,
        Role.VERIFIKATOR_KABKOTA,
    ]
    assert manageable_roles(cast["admin_provinsi"]) == [
        Role.VERIFIKATOR_KABKOTA,
        Role.ADMIN_KABKOTA,
        Role.OPERATOR_PROVINSI,
    ]
    assert manageable_roles(cast["pusat"]) == [
        Role.OPERATOR_PROVINSI,
        Role.ADMIN_PROVINSI,
        Role.PUSAT,
        Role.AUDITOR,
    ]
    assert manageable_roles(cast["operator_desa"]) == []


def test_users_in_scope(cast) -> None:
    names = set(users_in_scope(cast["admin_kabkota"]).values_list("username", flat=True))
    assert names == {
        cast[r].username
        for r in (
            "operator_desa",
            "enumerator",
            "operator_kecamatan",
            "verifikator_kabkota",
            "admin_kabkota",
        )
    }
    assert cast["outsider_desa"].username in set(
        users_in_scope(cast["admin_provinsi"]).values_list("username", flat=True)
    )
    assert users_in_scope(cast["pusat"]).count() == len(cast)
    assert not users_in_scope(cast["operator_desa"]).exists()


def test_admin_edits_its_staff_but_not_itself_peers_or_outsiders(cast) -> None:
    admin = cast["admin_kabkota"]
    assert can_edit_user(admin, cast["verifikator_kabkota"])
    assert can_edit_user(admin, cast["operator_desa"])
    assert not can_edit_user(admin, admin)
    assert not can_edit_user(admin, cast["outsider_kab"])
    assert not can_edit_user(admin, cast["outsider_desa"])


def test_log_access_writes_an_append_only_row(cast, rf) -> None:
    request = rf.get("/", REMOTE_ADDR="10.1.2.3")
    request.user = cast["verifikator_kabkota"]
    row = log_access(
        request,
        action="view_record",
        entity="registry.Person",
        entity_id=42,
        region_code="1371011001",
        purpose="verivali",
    )
    saved = AccessLog.objects.get()
    assert (saved.user, saved.action, saved.entity_id, saved.ip, saved.purpose) == (
        cast["verifikator_kabkota"],
        "view_record",
        "42",
        "10.1.2.3",
        "verivali",
    )
    with pytest.raises(ValueError, match="append-only"):
        row.save()
    with pytest.raises(ValueError, match="append-only"):
        row.delete()


# The data-quality rights, role by role (region checks as for the actions above).
Q, QR, RU, RP = Action.QUALITY, Action.QUALITY_RUN, Action.REFERENCE_UPLOAD, Action.REVIEW_PACK
QUALITY_EXPECTED: dict[str, frozenset[Action]] = {
    "operator_desa": NONE,
    "enumerator": NONE,
    "operator_kecamatan": frozenset({Q}),
    "verifikator_kabkota": frozenset({Q, QR}),
    "admin_kabkota": frozenset({Q, QR, RU}),
    "operator_provinsi": frozenset({Q, QR, RP}),
    "admin_provinsi": frozenset({Q, QR, RU, RP}),
    "pusat": frozenset({Q, QR, RU, RP}),
    "auditor": frozenset({Q}),
}


@pytest.mark.parametrize("role", list(QUALITY_EXPECTED))
def test_quality_rights_by_role(cast, role) -> None:
    from terpadu.accounts.access import role_allows

    user = cast[role]
    assert {a for a in (Q, QR, RU, RP) if role_allows(user, a)} == QUALITY_EXPECTED[role]
