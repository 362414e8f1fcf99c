from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.test import Client

# What base.html links to; a page without them is unstyled and loses htmx.
ASSETS = ["terpadu/terpadu.css", "terpadu/terpadu.js", "vendor/htmx-2.0.11.min.js"]


@pytest.mark.parametrize("path", ASSETS)
def test_base_template_assets_are_found(path: str) -> None:
    assert finders.find(path), f"{path} is not on any static files path (STATICFILES_DIRS?)"


@pytest.mark.parametrize("path", ASSETS)
def test_base_template_assets_are_served(client: Client, path: str) -> None:
    # WhiteNoise serves them in `make run` and behind gunicorn, without collectstatic in dev.
    response = client.get(static(path))

    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] in ("text/css", "text/javascript")
