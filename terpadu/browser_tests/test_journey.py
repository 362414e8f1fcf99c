"""The first journey: sign in, see the home page, switch language both ways, sign out."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from django.urls import reverse

from terpadu.browser_tests.helpers import log_in

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def test_operator_signs_in_switches_language_and_signs_out(
    page: Page,
    make_user,
    screenshot,  # type: ignore[no-untyped-def]
) -> None:
    from playwright.sync_api import expect

    make_user("operator_desa", username="siti", first_name="Siti")

    log_in(page, "siti", "rahasia-uji-123")  # make_user's default password

    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("html")).to_have_attribute("lang", "id")
    expect(page.locator("h1")).to_contain_text("Siti")
    # The stylesheet is served and applied (brand colour on the top bar).
    expect(page.locator(".topbar")).to_have_css("background-color", "rgb(11, 93, 75)")
    expect(page.locator(".userbox .who")).to_contain_text("Bungus Barat")
    expect(page.get_by_test_id("region")).to_contain_text("13.71.01.1001")
    screenshot("home-id")

    page.locator(".langswitch button[value=en]").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".langswitch button[value=en]")).to_have_attribute("aria-current", "true")
    expect(page).to_have_url(re.compile(r"/$"))
    screenshot("home-en")

    page.locator(".langswitch button[value=id]").click()
    expect(page.locator("html")).to_have_attribute("lang", "id")

    page.locator(".userbox form button[type=submit].link").click()
    expect(page).to_have_url(re.compile(re.escape(reverse("accounts:login"))))
    expect(page.locator(".userbox .who")).to_have_count(0)

    # Signed out for real: the home page sends us back to the login form.
    page.goto("/")
    expect(page).to_have_url(re.compile(re.escape(reverse("accounts:login")) + r"\?next=/"))
    screenshot("signed-out")
