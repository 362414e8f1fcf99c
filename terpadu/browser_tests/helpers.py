"""Steps shared by browser journeys."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page


def log_in(page: Page, username: str, password: str) -> None:
    """Sign in through the real login form."""
    page.goto("/akun/masuk/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.locator("main form [type=submit]").first.click()
    page.wait_for_load_state()
