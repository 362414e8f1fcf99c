"""Registry search journey: an operator finds a person by name (htmx, under the CSP), opens the
record, and does not see a household of another city."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

import pytest

from terpadu.browser_tests.helpers import log_in
from terpadu.lib.nik import compose_nik, compose_no_kk
from terpadu.registry import records

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def _household(*, by, region, surname: str, serial: int):  # type: ignore[no-untyped-def]
    region6 = region.digits[:6]
    born = dt.date(1984, 5, 17)
    head = {
        "name": f"Budi {surname}",
        "sex": 1,
        "birth_date": born,
        "relation_kk": 1,
        "relation_ruta": 1,
        "nik": compose_nik(region6, born, 1, serial),
    }
    return records.create_household(
        by=by,
        region=region,
        household_fields={"address": "Jl. Uji 1"},
        families=[
            {"no_kk": compose_no_kk(region6, dt.date(2015, 6, 1), serial), "members": [head]}
        ],
        reason="Data uji",
    )


def test_operator_finds_a_person_in_scope_only(
    page: Page,
    make_user,
    regions,
    screenshot,  # type: ignore[no-untyped-def]
) -> None:
    from playwright.sync_api import expect

    operator = make_user("admin_kabkota", username="andi")  # Kota Padang
    outsider = make_user("admin_kabkota", "1372", username="other")  # Kota Solok
    _household(by=operator, region=regions["1371011001"], surname="Chaniago", serial=11)
    _household(by=outsider, region=regions["1372011001"], surname="Chaniago", serial=12)

    log_in(page, "andi", "rahasia-uji-123")  # make_user's default password
    page.locator(".quicklinks a", has_text="Cari registri").click()
    expect(page).to_have_url(re.compile(r"/registri/"))

    page.fill("input[name=q]", "chaniago")
    page.locator("main form [type=submit]").first.click()

    rows = page.locator("#results table.data tbody tr")
    expect(rows).to_have_count(1)  # the Solok household is out of scope
    expect(rows.first).to_contain_text("Budi Chaniago")
    expect(rows.first).to_contain_text("Bungus Barat")
    expect(rows.first.locator(".nik")).to_contain_text("*")  # NIK masked in lists
    screenshot("results")

    rows.first.get_by_role("link", name="Budi Chaniago").click()
    expect(page).to_have_url(re.compile(r"/registri/individu/\d+/"))
    expect(page.locator("h1")).to_contain_text("Budi Chaniago")
    screenshot("person")
