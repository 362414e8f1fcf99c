"""HTTP round-trips: login/lockout, language, profile, user management, admin scoping."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from terpadu.accounts.models import AccessLog, LoginAttempt, User, UserEvent
from terpadu.accounts.throttle import MAX_FAILURES
from terpadu.registry.models import Household

PASSWORD = "rahasia-uji-123"


def login(client: Client, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_login_and_logout(client, cast) -> None:
    response = login(client, cast["operator_desa"].username)
    assert response.status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 200
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 302


def test_lockout_after_repeated_failures(client, cast) -> None:
    username = cast["operator_desa"].username
    for _ in range(MAX_FAILURES):
        assert login(client, username, "salah").status_code == 200
    # Now even the right password is refused, with a clear message.
    response = login(client, username)
    assert response.status_code == 200
    assert "Terlalu banyak percobaan" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address is not locked (username + IP).
    other = Client(REMOTE_ADDR="10.9.9.9")
    assert login(other, username).status_code == 302


def test_lock_lifts_after_the_window(client, cast) -> None:
    import datetime as dt

    import time_machine
    from django.utils import timezone

    username = cast["operator_desa"].username
    for _ in range(MAX_FAILURES):
        login(client, username, "salah")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        assert login(client, username).status_code == 302


def test_success_resets_the_failure_count(client, cast) -> None:
    username = cast["operator_desa"].username
    for _ in range(MAX_FAILURES - 1):
        login(client, username, "salah")
    assert login(client, username).status_code == 302
    client.post(reverse("accounts:logout"))
    for _ in range(MAX_FAILURES - 1):
        login(client, username, "salah")
    assert login(client, username).status_code == 302
    assert LoginAttempt.objects.filter(succeeded=False).count() == 2 * (MAX_FAILURES - 1)


def test_admin_login_is_throttled_too(client, cast) -> None:
    username = cast["admin_kabkota"].username
    url = reverse("admin:login")
    for _ in range(MAX_FAILURES):
        client.post(url, {"username": username, "password": "salah"})
    response = client.post(url, {"username": username, "password": PASSWORD})
    assert "Terlalu banyak percobaan" in response.content.decode()


def test_language_switch_sets_english(client, cast) -> None:
    page = client.get(reverse("accounts:login"))
    assert '<html lang="id">' in page.content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/akun/masuk/"})
    page = client.get(reverse("accounts:login"))
    assert '<html lang="en">' in page.content.decode()


def test_profile_shows_role_region_and_scope(client, cast) -> None:
    client.force_login(cast["operator_kecamatan"])
    html = client.get(reverse("accounts:profile")).content.decode()
    assert "Operator kecamatan" in html
    assert "Bungus Teluk Kabung" in html and "Kota Padang" in html
    assert "13.71.01" in html


def test_password_change_is_logged(client, cast) -> None:
    user = cast["operator_desa"]
    client.force_login(user)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Kopi-Solok-2026!",
            "new_password2": "Kopi-Solok-2026!",
        },
    )
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200
    assert UserEvent.objects.filter(user=user, kind="password_changed").exists()


def test_nav_shows_users_link_only_to_managers(client, cast) -> None:
    client.force_login(cast["admin_kabkota"])
    assert reverse("accounts:user_list") in client.get(reverse("core:home")).content.decode()
    client.force_login(cast["operator_desa"])
    assert reverse("accounts:user_list") not in client.get(reverse("core:home")).content.decode()


# --- user management -------------------------------------------------------------------


def create_payload(**overrides: str) -> dict[str, str]:
    data = {
        "username": "siti",
        "full_name": "Siti Aminah",
        "email": "",
        "phone": "",
        "role": "operator_desa",
        "region": "13.71.01.1002",
        "psks_number": "",
    }
    return data | overrides


def test_admin_kabkota_creates_operator_desa_in_its_kab(client, cast) -> None:
    client.force_login(cast["admin_kabkota"])
    response = client.post(reverse("accounts:user_create"), create_payload())
    assert response.status_code == 200
    html = response.content.decode()
    user = User.objects.get(username="siti")
    assert (user.role, user.scope, user.created_by) == (
        "operator_desa",
        "1371011002",
        cast["admin_kabkota"],
    )
    assert "hanya ditampilkan sekali" in html
    assert "no-store" in response["Cache-Control"]


def test_admin_kabkota_cannot_create_in_another_kab(client, cast) -> None:
    client.force_login(cast["admin_kabkota"])
    response = client.post(reverse("accounts:user_create"), create_payload(region="1372011001"))
    assert response.status_code == 200
    assert "tidak berwenang" in response.content.decode()
    assert not User.objects.filter(username="siti").exists()


def test_create_rejects_unknown_region_code_and_foreign_role(client, cast) -> None:
    client.force_login(cast["admin_kabkota"])
    response = client.post(reverse("accounts:user_create"), create_payload(region="99.99"))
    assert "tidak ditemukan" in response.content.decode()
    response = client.post(
        reverse("accounts:user_create"), create_payload(role="admin_provinsi", region="13")
    )
    assert "role" in response.context["form"].errors
    assert not User.objects.filter(username="siti").exists()


@pytest.mark.parametrize("who", ["operator_desa", "enumerator", "verifikator_kabkota", "auditor"])
def test_non_managers_are_forbidden(client, cast, who) -> None:
    client.force_login(cast[who])
    assert client.get(reverse("accounts:user_list")).status_code == 403
    assert client.get(reverse("accounts:user_create")).status_code == 403
    pk = cast["operator_desa"].pk
    assert client.get(reverse("accounts:user_detail", args=[pk])).status_code == 403


def test_account_outside_scope_is_404(client, cast) -> None:
    client.force_login(cast["admin_kabkota"])
    pk = cast["outsider_desa"].pk
    assert client.get(reverse("accounts:user_detail", args=[pk])).status_code == 404
    response = client.post(reverse("accounts:user_set_active", args=[pk]), {"active": "0"})
    assert response.status_code == 404
    assert User.objects.get(pk=pk).is_active


def test_user_list_search_filter_and_query_count(
    client, cast, make_user, django_assert_num_queries
) -> None:
    client.force_login(cast["admin_kabkota"])
    url = reverse("accounts:user_list")
    # session, user, the user's own region (page header), unread notifications (nav), count,
    # page with regions joined: fixed, no matter how many rows.
    with django_assert_num_queries(6):
        response = client.get(url)
    assert response.status_code == 200
    for i in range(30):
        make_user("operator_desa", "1371021001", username=f"bandar{i}")
    with django_assert_num_queries(6):
        page = client.get(url).context["page"]
    assert page.paginator.count == 35 and len(page.object_list) == 25
    assert cast["outsider_desa"] not in page.paginator.object_list

    found = client.get(url, {"q": "bandar1"}).context["page"].paginator.object_list
    assert {u.username for u in found} == {"bandar1", *(f"bandar1{i}" for i in range(10))}
    by_code = client.get(url, {"q": "13.71.01"}).context["page"].paginator.object_list
    assert {u.username for u in by_code} == {
        cast[r].username for r in ("operator_desa", "enumerator", "operator_kecamatan")
    }
    by_role = client.get(url, {"role": "verifikator_kabkota"}).context["page"].paginator
    assert [u.pk for u in by_role.object_list] == [cast["verifikator_kabkota"].pk]
    by_region_name = client.get(url, {"q": "Bungus Timur"}).context["page"].paginator
    assert by_region_name.count == 0


def test_edit_deactivate_reset_round_trip(client, cast) -> None:
    client.force_login(cast["admin_kabkota"])
    op = cast["operator_desa"]
    response = client.post(
        reverse("accounts:user_edit", args=[op.pk]),
        {
            "full_name": "Rina",
            "email": "rina@example.org",
            "phone": "0812",
            "role": "operator_desa",
            "region": "1371011002",
            "psks_number": "",
        },
    )
    assert response.status_code == 302
    op.refresh_from_db()
    assert (op.first_name, op.scope) == ("Rina", "1371011002")

    client.post(reverse("accounts:user_set_active", args=[op.pk]), {"active": "0", "note": "cuti"})
    op.refresh_from_db()
    assert not op.is_active
    response = client.post(reverse("accounts:user_reset_password", args=[op.pk]))
    assert response.status_code == 200
    detail = client.get(reverse("accounts:user_detail", args=[op.pk])).content.decode()
    assert "cuti" in detail
    kinds = set(UserEvent.objects.filter(user=op).values_list("kind", flat=True))
    assert kinds == {"updated", "deactivated", "password_reset"}


# --- admin -----------------------------------------------------------------------------


def test_admin_user_list_is_scoped(client, cast) -> None:
    client.force_login(cast["admin_kabkota"])
    User.objects.filter(pk=cast["admin_kabkota"].pk).update(is_staff=True)
    response = client.get(reverse("admin:accounts_user_changelist"))
    assert response.status_code == 200
    shown = {u.username for u in response.context["cl"].result_list}
    assert cast["operator_desa"].username in shown
    assert cast["outsider_desa"].username not in shown
    outsider = reverse("admin:accounts_user_change", args=[cast["outsider_desa"].pk])
    assert client.get(outsider).status_code == 302  # admin redirects a missing object


def test_admin_refuses_role_outside_scope(client, cast, regions) -> None:
    User.objects.filter(pk=cast["admin_kabkota"].pk).update(is_staff=True)
    client.force_login(cast["admin_kabkota"])
    op = cast["operator_desa"]
    url = reverse("admin:accounts_user_change", args=[op.pk])
    data = {
        "username": op.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "phone": "",
        "role": "operator_desa",
        "region": regions["1372011001"].pk,
        "psks_number": "",
        "is_active": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "tidak berwenang" in response.content.decode()
    data["region"] = regions["1371011002"].pk
    assert client.post(url, data).status_code == 302
    op.refresh_from_db()
    assert op.scope == "1371011002" and not op.is_superuser
    assert UserEvent.objects.get(user=op).changes["region"] == ["13.71.01.1001", "13.71.01.1002"]


def test_scoped_admin_mixin(rf, cast, regions) -> None:
    from django.contrib import admin

    from terpadu.accounts.admin_scope import ScopedAdminMixin

    class HouseholdAdmin(ScopedAdminMixin, admin.ModelAdmin):
        pass

    inside = Household.objects.create(region=regions["1371011001"], region_code="1371011001")
    outside = Household.objects.create(region=regions["1372011001"], region_code="1372011001")
    model_admin = HouseholdAdmin(Household, admin.AdminSite())
    request = rf.get("/")
    request.user = cast["operator_desa"]
    assert list(model_admin.get_queryset(request)) == [inside]
    assert model_admin.has_change_permission(request, inside)
    assert not model_admin.has_change_permission(request, outside)
    assert not model_admin.has_delete_permission(request, inside)
    request.user = cast["operator_provinsi"]
    assert model_admin.has_view_permission(request, inside)
    assert not model_admin.has_change_permission(request, inside)
    assert not model_admin.has_add_permission(request)


def test_access_log_written_by_scoped_admin_change_view(client, cast, regions) -> None:
    from django.contrib import admin

    from terpadu.accounts.admin_scope import ScopedAdminMixin

    class HouseholdAdmin(ScopedAdminMixin, admin.ModelAdmin):
        pass

    hh = Household.objects.create(region=regions["1371011001"], region_code="1371011001")
    site = admin.AdminSite()
    model_admin = HouseholdAdmin(Household, site)
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = cast["admin_kabkota"]
    request.user.is_staff = True
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore

    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    response = model_admin.change_view(request, str(hh.pk))
    assert response.status_code == 200
    log = AccessLog.objects.get()
    assert (log.user, log.action, log.entity, log.entity_id, log.region_code) == (
        cast["admin_kabkota"],
        "admin_view",
        "registry.Household",
        str(hh.pk),
        "1371011001",
    )


def test_pages_render_for_an_admin(client, cast) -> None:
    admin = cast["admin_kabkota"]
    User.objects.filter(pk=admin.pk).update(is_staff=True)
    client.force_login(admin)
    op = cast["operator_desa"].pk
    for url in (
        reverse("accounts:password_change"),
        reverse("accounts:user_create"),
        reverse("accounts:user_edit", args=[op]),
        reverse("accounts:user_detail", args=[op]),
        reverse("admin:index"),
        reverse("admin:accounts_user_add"),
        reverse("admin:accounts_user_change", args=[op]),
    ):
        assert client.get(url).status_code == 200, url
