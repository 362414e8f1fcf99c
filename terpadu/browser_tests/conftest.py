"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Playwright cannot download its own browsers here, so we launch /usr/bin/chromium (installed by
scripts/ensure-chromium; override with TERPADU_CHROMIUM). Without it the browser tests are
skipped, unless REQUIRE_BROWSER=1 (CI), which turns the skip into a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root in CI containers
    "--disable-gpu",
    # The machine's network is closed: without these Chromium keeps trying to reach Google.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _chromium_path() -> str:
    return os.environ.get("TERPADU_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = _chromium_path()
    if not os.access(executable, os.X_OK):
        message = f"Chromium not found at {executable} (run scripts/ensure-chromium)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message + " and REQUIRE_BROWSER=1")
        pytest.skip(message)

    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an asyncio loop in this thread; Django refuses ORM calls from a
    # thread with a running loop unless told that this (test-only) use is fine.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Browser, live_server, transactional_db: None) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    """A fresh browser context (no cookies) whose relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server.url, locale="id-ID")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest, page: Page):  # type: ignore[no-untyped-def]
    """screenshot("step") saves test-results/<test name>-<step>.png."""
    out = Path(request.config.rootpath) / "test-results"
    out.mkdir(exist_ok=True)

    def take(step: str) -> Path:
        path = out / f"{request.node.name}-{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
