"""Account writes: permission, level rules, audit rows, demo accounts."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from terpadu.accounts import services
from terpadu.accounts.models import User, UserEvent


def test_admin_kabkota_creates_operator_desa_with_event(cast, regions) -> None:
    admin = cast["admin_kabkota"]
    user, password = services.create_user(
        by=admin,
        username="siti",
        role="operator_desa",
        region=regions["1371011002"],
        full_name="Siti Aminah",
    )
    assert user.check_password(password)
    assert (user.scope, user.created_by, user.is_staff) == ("1371011002", admin, False)
    event = UserEvent.objects.get(user=user)
    assert (event.kind, event.actor) == (UserEvent.Kind.CREATED, admin)
    assert event.changes["region"] == [None, "13.71.01.1002"]


def test_create_outside_scope_is_refused(cast, regions) -> None:
    with pytest.raises(ValidationError) as exc:
        services.create_user(
            by=cast["admin_kabkota"],
            username="x",
            role="operator_desa",
            region=regions["1372011001"],
        )
    assert exc.value.code == "not_allowed"
    assert not User.objects.filter(username="x").exists()


def test_create_at_wrong_level_is_refused(cast, regions) -> None:
    with pytest.raises(ValidationError) as exc:
        services.create_user(
            by=cast["admin_kabkota"], username="x", role="operator_desa", region=regions["1371"]
        )
    assert exc.value.code == "region_level"


def test_duplicate_username_is_refused_case_insensitively(cast, regions) -> None:
    with pytest.raises(ValidationError) as exc:
        services.create_user(
            by=cast["admin_kabkota"],
            username=cast["operator_desa"].username.upper(),
            role="operator_desa",
            region=regions["1371011001"],
        )
    assert exc.value.code == "username_taken"


def test_update_records_before_and_after(cast, regions) -> None:
    admin, op = cast["admin_kabkota"], cast["operator_desa"]
    services.update_user(by=admin, user=op, region=regions["1371021001"], phone="0812")
    op.refresh_from_db()
    assert op.scope == "1371021001"
    event = UserEvent.objects.get(user=op)
    assert event.changes == {
        "region": ["13.71.01.1001", "13.71.02.1001"],
        "phone": ["", "0812"],
    }


def test_update_cannot_move_account_out_of_scope_or_promote(cast, regions) -> None:
    admin, op = cast["admin_kabkota"], cast["operator_desa"]
    with pytest.raises(ValidationError):
        services.update_user(by=admin, user=op, region=regions["1372011001"])
    with pytest.raises(ValidationError):
        services.update_user(by=admin, user=op, role="admin_kabkota", region=regions["1371"])
    with pytest.raises(ValidationError) as exc:
        services.update_user(by=admin, user=admin, role="admin_provinsi", region=regions["13"])
    assert exc.value.code == "self"


def test_deactivate_and_reactivate_are_logged_never_deleted(cast) -> None:
    admin, op = cast["admin_kabkota"], cast["operator_desa"]
    services.set_user_active(by=admin, user=op, active=False, note="pindah tugas")
    services.set_user_active(by=admin, user=op, active=True)
    assert User.objects.get(pk=op.pk).is_active
    kinds = list(UserEvent.objects.filter(user=op).order_by("id").values_list("kind", flat=True))
    assert kinds == ["deactivated", "reactivated"]


def test_reset_password(cast) -> None:
    password = services.reset_password(by=cast["admin_kabkota"], user=cast["enumerator"])
    assert User.objects.get(pk=cast["enumerator"].pk).check_password(password)
    assert UserEvent.objects.filter(user=cast["enumerator"], kind="password_reset").exists()


def test_demo_accounts_are_complete_and_idempotent(regions) -> None:
    first = services.create_demo_accounts()
    by_name = {name: (role, region, pw) for name, role, region, pw in first}
    assert by_name["operator_desa"] == ("operator_desa", "13.71.01.1001", "demo-operator_desa-2026")
    assert by_name["enumerator"][1] == "13.71.01.1001"
    assert by_name["operator_kecamatan"][1] == "13.71.01"
    assert by_name["admin_kabkota"][1] == by_name["verifikator_kabkota"][1] == "13.71"
    assert by_name["admin_provinsi"][1] == by_name["operator_provinsi"][1] == "13"
    assert by_name["pusat"][1] == by_name["auditor"][1] == ""
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="enumerator").psks_number == "TKSK-1371-0001"
    assert User.objects.get(username="admin_kabkota").check_password("demo-admin_kabkota-2026")

    User.objects.filter(username="pusat").update(password="changed")
    second = services.create_demo_accounts()
    assert [pw for *_, pw in second] == [None] * len(first)
    assert User.objects.get(username="pusat").password == "changed"
    assert User.objects.count() == len(first)
