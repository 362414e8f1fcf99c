"""Export → edit in Excel (openpyxl) → upload → dry run → apply: a correction round trip.

Everything goes through HTTP as a user would: the BNBA download, the upload form, the mapping
page (the export's headers need no manual mapping), the result page and the apply button.
"""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from terpadu.imports import layout
from terpadu.imports.models import ImportJob, JobStatus
from terpadu.imports.tests.ui_helpers import body, seed_households
from terpadu.proposals.models import Kind, Proposal
from terpadu.registry import records
from terpadu.registry.models import Person

pytestmark = pytest.mark.django_db

DESA = "1371011001"
HEADERS = [layout.column(k).header for k in layout.PERSON_LIST_LAYOUT]


@pytest.fixture(autouse=True)
def _immediate_tasks(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # Uploads and the engine's live/cancel marker files stay inside the test.
    settings.MEDIA_ROOT = tmp_path


def _export_and_edit(client, new_name: str) -> tuple[bytes, int]:  # type: ignore[no-untyped-def]
    """Download the BNBA of the desa as xlsx and rename the person on the second data row."""
    resp = client.get(reverse("imports:export_bnba"), {"wilayah": DESA, "format": "xlsx"})
    wb = load_workbook(io.BytesIO(body(resp)))
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]] == HEADERS
    name_col = HEADERS.index("NAMA") + 1
    person_id = int(ws.cell(row=3, column=HEADERS.index("ID_ART") + 1).value)
    ws.cell(row=3, column=name_col).value = new_name
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), person_id


def _upload_and_check(client, content: bytes, commits) -> ImportJob:  # type: ignore[no-untyped-def]
    resp = client.post(
        reverse("imports:home"),
        {"file": SimpleUploadedFile("bnba-diperbaiki.xlsx", content), "region": DESA},
    )
    assert resp.status_code == 302, resp.context["form"].errors if resp.context else resp
    job = ImportJob.objects.latest("pk")
    page = client.get(reverse("imports:mapping", args=[job.pk]))
    form = page.context["form"]
    # Every export header is recognised: the mapping page comes pre-filled.
    assert all(form[f"col_{i}"].initial for i in range(len(HEADERS)))
    data = {f"col_{i}": form[f"col_{i}"].initial for i in range(len(HEADERS))}
    with commits(execute=True):
        resp = client.post(reverse("imports:mapping", args=[job.pk]), data)
    assert resp.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.VALIDATED, (job.status, job.error_id)
    return job


def test_round_trip_turns_an_edited_cell_into_a_correction(
    client, cast, regions, django_capture_on_commit_callbacks
) -> None:
    seed_households(regions[DESA], 3, surname="Tanjung")
    client.force_login(cast["admin_kabkota"])
    content, person_id = _export_and_edit(client, "Ani Tanjung Putri")

    job = _upload_and_check(client, content, django_capture_on_commit_callbacks)
    assert job.rows_total == 6
    assert job.rows_invalid == 0
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "Terapkan semua" in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("imports:apply", args=[job.pk]), {"choice": "all"})
    job.refresh_from_db()
    assert job.status == JobStatus.APPLIED, (job.status, job.error_id)
    # Only the edited row becomes a proposal (perbaikan) of that person; the rest is unchanged.
    proposals = list(Proposal.objects.filter(kind=Kind.PERBAIKAN))
    assert len(proposals) == 1
    assert proposals[0].person_id == person_id
    assert proposals[0].payload["changes"]["name"] == "Ani Tanjung Putri"
    assert job.proposals_created == 1


def test_round_trip_flags_a_record_changed_since_the_export(
    client, cast, regions, django_capture_on_commit_callbacks
) -> None:
    seed_households(regions[DESA], 2, surname="Tanjung")
    client.force_login(cast["admin_kabkota"])
    content, person_id = _export_and_edit(client, "Ani Tanjung Putri")
    # Someone corrects the same person after the export.
    records.update_person(
        Person.objects.get(pk=person_id),
        by=cast["admin_kabkota"],
        changes={"birth_place": "Solok"},
        reason="Perbaikan langsung",
    )
    job = _upload_and_check(client, content, django_capture_on_commit_callbacks)
    assert job.rows_invalid == 1
    page = client.get(reverse("imports:job", args=[job.pk]))
    codes = [rule["code"] for rule in page.context["rules"]]
    assert "versi_berubah" in codes
    assert 'data-rule="versi_berubah"' in page.content.decode()
