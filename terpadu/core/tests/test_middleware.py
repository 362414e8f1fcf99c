from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_every_response_carries_a_content_security_policy(client: Client) -> None:
    response = client.get(reverse("core:healthz"))

    csp = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";") if d.strip())
    assert directives["default-src"] == "'self'"
    # No inline or third-party scripts: htmx and our JS are vendored and served from 'self'.
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"


def test_security_headers_on_pages(client: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    client.force_login(make_user("operator_desa"))

    response = client.get(reverse("core:home"))

    assert "Content-Security-Policy" in response
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "Permissions-Policy" in response


def test_pages_have_no_inline_scripts(client: Client, make_user) -> None:  # type: ignore[no-untyped-def]
    client.force_login(make_user("admin_kabkota"))

    body = client.get(reverse("core:home")).content.decode()

    scripts = re.findall(r"<script\b[^>]*>", body)
    assert scripts, "base.html loads htmx and terpadu.js"
    assert all(" src=" in tag for tag in scripts)
    assert not re.search(r"\son[a-z]+=", body), "inline event handlers are blocked by the CSP"
