"""Import journey (issue 6), clicked through in Chromium by a village operator.

Siti uploads her village's csv, fixes the one column the importer did not recognise, saves the
mapping as a template, runs the dry run, sees the rule her mangled NIK broke, downloads the
error report, and applies the valid rows with the bad one kept in quarantine.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from openpyxl import load_workbook

from terpadu.browser_tests.helpers import log_in
from terpadu.lib.nik import compose_nik, compose_no_kk

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

DESA = "1371011001"  # Bungus Barat, Kota Padang


def _village_csv(path: Path) -> Path:
    """Three households; the NIK of the third head went through Excel (3.71011E+15)."""
    header = "NIK;NO_KK;NAMA ANGGOTA KELUARGA;JK;TGL_LAHIR;HUB_KELUARGA;KODE_WILAYAH;ALAMAT"
    lines = [header]
    for n in (1, 2, 3):
        born = dt.date(1979, 4, n)
        nik = compose_nik("137101", born, 1, n) if n != 3 else "3.71011E+15"
        kk = compose_no_kk("137101", dt.date(2014, 9, 9), n)
        lines.append(f"{nik};{kk};Hendra Sikumbang {n};1;{born:%d-%m-%Y};1;{DESA};Jorong {n}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_operator_imports_a_village_file_with_quarantine(
    page: Page,
    make_user,
    settings,
    tmp_path,
    screenshot,  # type: ignore[no-untyped-def]
) -> None:
    from playwright.sync_api import expect

    # The live server runs in this process and reads the same settings object: tasks run
    # right after their transaction commits, and uploads land in the test's folder.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.MEDIA_ROOT = tmp_path / "media"
    make_user("operator_desa", DESA, username="siti", first_name="Siti", last_name="Rahma")
    page.on("dialog", lambda dialog: dialog.accept())  # data-confirm prompts

    log_in(page, "siti", "rahasia-uji-123")
    page.locator(".mainnav a", has_text="Impor").click()
    expect(page).to_have_url(re.compile(r"/impor/$"))

    # 1. Upload (the region is fixed to her village).
    page.set_input_files("input[name=file]", str(_village_csv(tmp_path / "bungus-barat.csv")))
    page.get_by_role("button", name="Unggah dan petakan kolom").click()
    expect(page).to_have_url(re.compile(r"/impor/\d+/pemetaan/$"))
    expect(page.locator("h1")).to_contain_text("bungus-barat.csv")

    # 2. Mapping: NIK is recognised; the name column is not, Siti picks it by hand.
    table = page.locator("#mapping")
    nik_select = table.locator("tr", has_text="NIK").first.locator("select")
    expect(nik_select).to_have_value("nik")
    name_row = table.locator("tr", has_text="NAMA ANGGOTA KELUARGA")
    expect(name_row).to_contain_text("Hendra Sikumbang 1")  # sample values
    name_row.locator("select").select_option("name")
    page.fill("input[name=template_name]", "Berkas Bungus Barat")
    screenshot("mapping")
    page.get_by_role("button", name="Simpan pemetaan dan mulai uji coba").click()

    # 3. The dry run's result: the mangled NIK breaks a rule, on row 4 of the file.
    expect(page).to_have_url(re.compile(r"/impor/\d+/$"))
    expect(page.locator("[data-testid=rows-invalid]")).to_have_text("1")
    expect(page.locator("[data-testid=rows-valid]")).to_have_text("2")
    rule = page.locator("details.rule").first
    expect(rule).to_contain_text("Kesalahan")
    expect(rule.locator("tbody")).to_contain_text("3.71011E+15")
    expect(
        page.get_by_role("button", name="Terapkan semua (hanya jika tidak ada kesalahan)")
    ).to_be_disabled()
    screenshot("result")

    # 4. The error report: the original row with the reason, in Indonesian and English.
    with page.expect_download() as info:
        page.locator("[data-testid=error-report]").click()
    report = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    rows = list(report.worksheets[0].iter_rows(values_only=True))
    assert "KESALAHAN" in rows[0]
    assert "ERROR" in rows[0]
    assert any("3.71011E+15" in [str(v) for v in r] for r in rows[1:])

    # 5. Apply the valid rows, keeping the bad one in quarantine (explicitly confirmed).
    page.check("#apply-confirm")
    page.get_by_role("button", name=re.compile("baris valid, karantina sisanya")).click()
    expect(page.locator(".pagehead [data-status]")).to_have_attribute("data-status", "applied")
    applied = page.locator("[data-testid=applied]")
    expect(applied).to_contain_text("2")
    screenshot("applied")

    page.get_by_role("link", name="Baris karantina").click()
    expect(page.locator("table.data tbody tr")).to_have_count(1)
    expect(page.locator("table.data tbody")).to_contain_text("Hendra Sikumbang 3")

    # The jobs list shows the import with its counts.
    page.locator(".mainnav a", has_text="Impor").click()
    row = page.locator("table.data tbody tr").first
    expect(row).to_contain_text("bungus-barat.csv")
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "applied")
    screenshot("jobs")


def test_progress_bar_polls_and_shows_the_result_when_done(
    page: Page,
    make_user,
    regions,
    settings,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    """The job page of a running dry run polls its progress fragment (htmx, under the CSP)
    and reloads itself into the result once the worker has finished."""
    from playwright.sync_api import expect

    from terpadu.imports import services
    from terpadu.imports.models import ImportJob, JobStatus

    settings.MEDIA_ROOT = tmp_path / "media"
    siti = make_user("operator_desa", DESA, username="siti")
    job = services.create_job(
        by=siti,
        fileobj=io.BytesIO(_village_csv(tmp_path / "desa.csv").read_bytes()),
        original_name="desa.csv",
        region=regions[DESA],
    )
    # The worker is busy with it: 40 of 100 rows checked.
    ImportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.VALIDATING, rows_total=100, rows_read=100, rows_validated=40
    )
    log_in(page, "siti", "rahasia-uji-123")
    page.goto(f"/impor/{job.pk}/")
    expect(page.locator("#import-progress")).to_have_attribute("value", "40")
    ImportJob.objects.filter(pk=job.pk).update(rows_validated=70)
    expect(page.locator("#import-progress")).to_have_attribute("value", "70")
    page.reload()  # the state lives in the job's row
    expect(page.locator("#import-progress")).to_have_attribute("value", "70")
    ImportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.VALIDATED, rows_validated=100, rows_valid=100, summary=[]
    )
    expect(page.locator("#result-h")).to_be_visible()
    expect(page.locator("#import-progress")).to_have_count(0)
