from __future__ import annotations

import contextlib

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import NoReverseMatch, reverse

pytestmark = pytest.mark.django_db


def test_healthz_answers_ok_with_the_database_vendor(client: Client) -> None:
    response = client.get(reverse("core:healthz"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": connection.vendor}


def test_healthz_needs_no_login(client: Client) -> None:
    assert client.get("/healthz").status_code == 200


def test_home_redirects_anonymous_visitor_to_login(client: Client) -> None:
    response = client.get(reverse("core:home"))

    assert response.status_code == 302
    assert response["Location"] == f"{reverse(settings.LOGIN_URL)}?next=/"


def test_home_greets_user_with_role_and_region(client: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("operator_desa", first_name="Siti")
    client.force_login(user)

    response = client.get(reverse("core:home"))

    assert response.status_code == 200
    body = response.content.decode()
    assert "Siti" in body
    assert str(user.get_role_display()) in body
    assert "Bungus Barat" in body
    assert "13.71.01.1001" in body


def test_home_shows_national_scope_for_user_without_region(client: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    client.force_login(make_user("pusat"))

    response = client.get(reverse("core:home"))

    assert response.status_code == 200
    assert "Nasional" in response.content.decode()


def test_home_links_to_the_pages_that_exist(client: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    client.force_login(make_user("admin_kabkota"))

    body = client.get(reverse("core:home")).content.decode()

    for name in ("registry:search", "regions:browse"):
        # Quick links appear once their app provides the URL; until then the page still renders.
        with contextlib.suppress(NoReverseMatch):
            assert f'href="{reverse(name)}"' in body
