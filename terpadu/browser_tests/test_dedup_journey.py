"""Duplicate detection journeys (terpadu.dedup), clicked through in Chromium.

1. The kab/kota verifikator starts a dedup run for Kota Padang (run in-process by the
   ImmediateBackend), opens the top pair of the review queue, reads why the model thinks the
   two records match, decides "orang yang sama" choosing the duplicate: a deactivation proposal
   with reason *ganda* appears and the registry is unchanged. Another pair is decided "orang
   berbeda" and stays out of the queue after a re-run.
2. An operator desa entering a new household types a member who is already in the registry
   and sees the likely-match panel before sending.

The registry is seeded through records (a few dozen distinct persons plus planted pairs); the
model is trained once on synthetic data like the dedup tests do and saved as a DedupModel.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import pytest
from django.urls import reverse

from terpadu.browser_tests.proposal_steps import switch_user
from terpadu.dedup import synthetic
from terpadu.dedup.models import CandidatePair, DedupModel, DedupRun, PairStatus
from terpadu.dedup.tests.conftest import (
    PADANG_DESA,
    bundle,
    trained_params,  # noqa: F401 (session fixture)
)
from terpadu.proposals.models import Kind, Proposal
from terpadu.registry import records
from terpadu.registry.models import Change, ChangeSet, NonaktifReason, Person, RecordStatus
from terpadu.registry.tests.conftest import family, member

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

SITI_BORN = dt.date(1980, 7, 3)
TWINS_BORN = dt.date(1992, 11, 20)
# A dedup run (Splink in DuckDB) takes a few seconds on a busy 2-core machine.
RUN_TIMEOUT_MS = 120_000


@pytest.fixture
def dedup_registry(
    regions: dict[str, Any],
    make_user,  # type: ignore[no-untyped-def]
    trained_params: dict[str, Any],  # noqa: F811 (the imported session fixture)
) -> dict[str, Any]:
    """Users, a saved model, and Kota Padang's registry: distinct synthetic persons, Siti
    Nurhayati entered twice (two desa, the second without NIK and title) and twin brothers
    whose records look alike."""
    users = {
        "desa": make_user("operator_desa", username="sari", first_name="Sari"),
        "verif": make_user("verifikator_kabkota", username="vera", first_name="Vera"),
        "admin": make_user("admin_kabkota", username="andi", first_name="Andi"),
    }
    DedupModel.objects.create(version=1, params=trained_params, scope="")
    recs = synthetic.generate(
        60, seed=21, codes=PADANG_DESA, options=synthetic.Options(duplicate_share=0.0)
    )
    changeset = ChangeSet.objects.create(reason="data uji", source=ChangeSet.Source.PROPOSAL)
    records.create_households_bulk(
        changeset, [bundle(f"r{r['unique_id']}", regions[r["region_code"]], r) for r in recs]
    )
    siti = {
        "sex": 2,
        "born": SITI_BORN,
        "relation": 1,
        "birth_place": "Padang",
        "mother_name": "Rosmaniar",
    }
    records.create_household(
        by=users["admin"],
        region=regions["1371011001"],
        household_fields={"address": "Jl. Bungus Raya No. 5"},
        families=[family(member("Hj. Siti Nurhayati", **siti))],
        reason="data uji",
    )
    copy = member("Siti Nurhayati", **siti)
    copy.pop("nik")
    records.create_household(
        by=users["admin"],
        region=regions["1371011001"],
        household_fields={"address": "Jl. Bungus Raya No. 5"},
        families=[{"members": [copy]}],
        reason="data uji",
    )
    # Twin brothers: one still at his parents' house, the other with his own household in
    # the next desa.
    twins = {"born": TWINS_BORN, "birth_place": "Padang", "mother_name": "Yusnidar"}
    for name, desa, address in (
        ("Rahmat Hidayat", "1371011001", "Jl. Teluk Kabung No. 9"),
        ("Rahmad Hidayat", "1371011002", "Jl. Sungai Pisang No. 2"),
    ):
        records.create_household(
            by=users["admin"],
            region=regions[desa],
            household_fields={"address": address},
            families=[family(member(name, relation=1, **twins))],
            reason="data uji",
        )
    return users


def _registry_snapshot() -> tuple[int, list[dict[str, Any]]]:
    return Change.objects.count(), list(Person.objects.order_by("pk").values())


def _start_run(page: Page) -> None:
    """Start a run for Kota Padang from the dedup home page and wait for its summary."""
    from playwright.sync_api import expect

    page.goto(reverse("dedup:home"))
    form = page.locator("form", has=page.get_by_role("heading", name="Jalankan deteksi duplikat"))
    expect(form.locator("select[name=region]")).to_have_value(re.compile(r"\d+"))
    form.get_by_role("button", name="Mulai").click()
    page.wait_for_url(re.compile(r"/kualitas/duplikat/proses/\d+/$"), timeout=RUN_TIMEOUT_MS)
    expect(page.locator("#progress .badge")).to_have_text("Selesai", timeout=RUN_TIMEOUT_MS)


def _queue_rows(page: Page):  # type: ignore[no-untyped-def]
    return page.locator("table.data tbody tr")


def test_verifikator_reviews_the_duplicate_queue(
    page: Page,
    dedup_registry: dict[str, Any],
    settings,  # type: ignore[no-untyped-def]
    screenshot,  # type: ignore[no-untyped-def]
) -> None:
    from playwright.sync_api import expect

    # The run is a django-tasks job: run it in-process (the live server reads these settings).
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    siti_a, siti_b = Person.objects.filter(name__contains="Siti Nurhayati").order_by("pk")
    twin_a, twin_b = Person.objects.filter(name__endswith="Hidayat").order_by("pk")

    # 1. Start a run for Kota Padang ------------------------------------------------------------
    switch_user(page, "vera")
    _start_run(page)
    assert DedupRun.objects.get().state == DedupRun.State.SELESAI
    screenshot("01-run")
    page.get_by_role("link", name="Tinjau pasangan").click()

    # 2. The queue, most probable first: Siti entered twice, then the twin brothers -------------
    expect(page.locator("h1")).to_have_text("Antrean tinjauan duplikat")
    rows = _queue_rows(page)
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Hj. Siti Nurhayati")
    expect(rows.nth(1)).to_contain_text("Rahmad Hidayat")
    # NIKs are masked in the queue.
    assert siti_a.nik and siti_a.nik not in page.locator("main").inner_text()
    screenshot("02-queue")

    # 3. Open the top pair: both records side by side and the weights behind the score ---------
    rows.nth(0).get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text("probabilitas")
    weights = page.locator("section[aria-labelledby=w-h] table")
    expect(weights).to_be_visible()
    expect(weights.locator("tbody tr").first).to_contain_text("Bobot awal (prior)")
    for comparison in ("Nama", "Tanggal lahir", "Nama ibu kandung", "Wilayah", "Alamat"):
        expect(weights.get_by_role("rowheader", name=comparison, exact=True)).to_have_count(1)
    expect(weights).to_contain_text("Total bobot kecocokan")
    screenshot("03-pair")

    # 4. "Orang yang sama": the copy without NIK is the duplicate -------------------------------
    changes_before, persons_before = _registry_snapshot()
    same = page.locator("form[action$='/sama/']")
    same.get_by_label(re.compile(rf"Individu B #{siti_b.pk}")).check()
    same.locator("textarea[name=note]").fill("Terdaftar dua kali di alamat yang sama.")
    same.get_by_role("button", name="Usulkan nonaktif (ganda)").click()
    expect(page.locator("ul.messages")).to_contain_text("Usulan penonaktifan")
    expect(page.locator("main .badge").first).to_have_text("Orang yang sama")
    proposal = Proposal.objects.get(kind=Kind.NONAKTIF, person=siti_b)
    assert proposal.reason_code == NonaktifReason.GANDA
    assert f"#{siti_a.pk}" in proposal.reason
    expect(page.get_by_role("link", name=f"Usulan penonaktifan #{proposal.pk}")).to_be_visible()
    expect(page.locator("form[action$='/sama/']")).to_have_count(0)  # decided: no more buttons
    # Nothing in the registry changed: the proposal still has its own way to go.
    assert _registry_snapshot() == (changes_before, persons_before)
    assert Person.objects.get(pk=siti_b.pk).status == RecordStatus.AKTIF
    screenshot("04-same")

    # 5. "Orang berbeda" for the twins, from the queue -----------------------------------------
    page.get_by_role("navigation", name="Jejak").get_by_role("link", name="Antrean").click()
    rows = _queue_rows(page)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Rahmat Hidayat")
    rows.first.get_by_role("link").click()
    different = page.locator("form[action$='/berbeda/']")
    different.locator("textarea[name=note]").fill("Saudara kembar, KK berbeda.")
    different.get_by_role("button", name="Tandai orang berbeda").click()
    expect(page.locator("ul.messages")).to_contain_text("orang berbeda")
    twins = CandidatePair.objects.get(person_a=twin_a, person_b=twin_b)
    assert twins.status == PairStatus.DIFFERENT

    # 6. A re-run finds the twins again but does not bring them back to the queue -------------
    _start_run(page)
    expect(page.locator(".facts")).to_contain_text("Sudah diputuskan sebelumnya")
    assert DedupRun.objects.order_by("-pk").first().counts["skipped_decided"] == 2
    page.get_by_role("link", name="Tinjau pasangan").click()
    expect(_queue_rows(page)).to_have_count(1)
    expect(_queue_rows(page).first).to_contain_text("Tidak ada pasangan")
    page.goto(reverse("dedup:queue") + "?status=different")
    expect(_queue_rows(page)).to_have_count(1)
    expect(_queue_rows(page).first).to_contain_text("Rahmad Hidayat")
    assert CandidatePair.objects.get(pk=twins.pk).status == PairStatus.DIFFERENT
    assert Proposal.objects.filter(kind=Kind.NONAKTIF).count() == 1
    screenshot("05-after-rerun")


def test_operator_desa_sees_a_likely_match_while_entering_a_member(
    page: Page,
    dedup_registry: dict[str, Any],
    screenshot,  # type: ignore[no-untyped-def]
) -> None:
    from playwright.sync_api import expect

    siti = Person.objects.get(name="Hj. Siti Nurhayati")
    switch_user(page, "sari")
    page.goto(reverse("proposals:new_household"))
    expect(page.locator("h1")).to_have_text("Usulan baru: rumah tangga")
    member_set = page.locator("fieldset.member").first
    panel = member_set.locator(".dedup-matches")
    expect(panel).to_be_empty()

    page.fill("#id_address", "Jalan Bungus Raya No 5")
    page.fill("#id_art-0-name", "SITI NUR HAYATI")
    page.select_option("#id_art-0-sex", "2")
    page.fill("#id_art-0-birth_place", "Kota Padang")
    page.fill("#id_art-0-birth_date", dt.date(1980, 3, 7).isoformat())  # day and month swapped
    page.fill("#id_art-0-mother_name", "Rosmaniar")
    member_set.get_by_role("button", name="Periksa kemungkinan duplikat").click()

    panel = member_set.locator(".dedup-matches")
    expect(panel).to_contain_text("Kemungkinan sudah terdaftar")
    expect(panel).to_contain_text(siti.name)
    expect(panel).to_contain_text("probabilitas")
    assert siti.nik and siti.nik not in panel.inner_text()  # masked
    screenshot("likely-match")
