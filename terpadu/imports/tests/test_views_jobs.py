"""Import pages end to end over HTTP: upload, mapping (+ templates), dry run, result, error
report, apply / quarantine, duplicate notice, progress fragment, cancel, scope."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from terpadu.imports import services
from terpadu.imports.models import ImportJob, JobStatus, MappingTemplate, QuarantinedRow
from terpadu.imports.tests.ui_helpers import body
from terpadu.lib.nik import compose_nik, compose_no_kk

pytestmark = pytest.mark.django_db

DESA = "1371011001"
HEADER = ["NIK", "No KK", "Nama Lengkap", "JK", "Tgl Lahir", "Hub KK", "Kode Wilayah", "Alamat"]


@pytest.fixture(autouse=True)
def _immediate_tasks(settings, tmp_path, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """Tasks run at once, and the on-commit hooks that enqueue them run (the test's
    transaction never commits)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # Uploads and the engine's live/cancel marker files stay inside the test.
    settings.MEDIA_ROOT = tmp_path
    global _commits
    _commits = django_capture_on_commit_callbacks


_commits = None


def commits():  # type: ignore[no-untyped-def]
    """Run the on-commit callbacks (task enqueues) of the block as if it had committed."""
    assert _commits is not None
    return _commits(execute=True)


def _row(serial: int, *, name: str = "", nik: str | None = None) -> list[str]:
    import datetime as dt

    born = dt.date(1980, 1, 1 + serial % 27)
    return [
        nik if nik is not None else compose_nik("137101", born, 1, serial),
        compose_no_kk("137101", dt.date(2016, 2, 2), serial),
        name or f"Rahmat Piliang {serial}",
        "1",
        born.isoformat(),
        "1",
        DESA,
        f"Jl. Impor {serial}",
    ]


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    lines = [",".join(header)] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


GOOD = [_row(n) for n in range(1, 4)]
# Excel mangled the NIK of row 3 (file row 4): refused by the NIK-as-text rule.
WITH_ERROR = [_row(1), _row(2), _row(3, nik="3.71011E+15")]


def _upload(client, user, content: bytes, name: str = "data.csv", **extra):  # type: ignore[no-untyped-def]
    client.force_login(user)
    data = {"file": SimpleUploadedFile(name, content, content_type="text/csv"), "region": DESA}
    data.update(extra)
    return client.post(reverse("imports:home"), data)


def _job(user, content: bytes, name: str = "data.csv", region: str = DESA) -> ImportJob:  # type: ignore[no-untyped-def]
    from terpadu.regions.models import Region

    return services.create_job(
        by=user,
        fileobj=io.BytesIO(content),
        original_name=name,
        region=Region.objects.get(digits=region),
        mode="proposal",
    )


def _validated(user, content: bytes) -> ImportJob:  # type: ignore[no-untyped-def]
    job = _job(user, content)
    job = services.save_mapping(job, services.suggest_mapping(job), by=user)
    with commits():
        services.start_validation(job, by=user)
    job.refresh_from_db()
    assert job.status == JobStatus.VALIDATED, (job.status, job.error_id)
    return job


# --- list + upload --------------------------------------------------------------------------


def test_upload_as_operator_goes_to_mapping_in_proposal_mode(client, cast) -> None:
    resp = _upload(client, cast["operator_desa"], csv_bytes(GOOD))
    job = ImportJob.objects.get()
    assert resp.status_code == 302
    assert resp["Location"] == reverse("imports:mapping", args=[job.pk])
    assert job.mode == "proposal"
    assert job.region_code == DESA
    assert job.created_by == cast["operator_desa"]


def test_direct_mode_is_offered_to_admin_kabkota_only(client, cast) -> None:
    client.force_login(cast["operator_desa"])
    page = client.get(reverse("imports:home")).content.decode()
    assert 'type="hidden" name="mode"' in page
    resp = _upload(client, cast["operator_desa"], csv_bytes(GOOD), mode="direct")
    assert resp.status_code == 422
    assert not ImportJob.objects.exists()
    client.force_login(cast["admin_kabkota"])
    page = client.get(reverse("imports:home")).content.decode()
    assert 'value="direct"' in page


def test_upload_outside_scope_is_refused(client, cast) -> None:
    resp = _upload(client, cast["operator_desa"], csv_bytes(GOOD))
    assert resp.status_code == 302
    client.force_login(cast["operator_desa"])
    resp = client.post(
        reverse("imports:home"),
        {"file": SimpleUploadedFile("a.csv", csv_bytes(GOOD)), "region": "1372011001"},
    )
    assert resp.status_code == 422
    assert ImportJob.objects.count() == 1


def test_jobs_list_is_scoped_with_constant_queries(client, cast, django_assert_num_queries) -> None:
    _job(cast["operator_desa"], csv_bytes(GOOD), name="mine.csv")
    _job(cast["outsider_desa"], csv_bytes(GOOD), name="theirs.csv", region="1372011001")
    client.force_login(cast["operator_kecamatan"])
    url = reverse("imports:home")
    client.get(url)  # warm per-process caches
    one = _count_queries(client, url)
    for n in range(4):
        _job(cast["operator_desa"], csv_bytes(GOOD) + f"#{n}\n".encode(), name=f"f{n}.csv")
    with django_assert_num_queries(one):
        resp = client.get(url)
    html = resp.content.decode()
    assert "mine.csv" in html
    assert "f3.csv" in html
    assert "theirs.csv" not in html


def _count_queries(client, url: str) -> int:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    return len(ctx.captured_queries)


def test_outsider_gets_404_everywhere(client, cast) -> None:
    job = _validated(cast["operator_desa"], csv_bytes(WITH_ERROR))
    client.force_login(cast["outsider_desa"])
    for name in ("job", "mapping", "progress", "error_report", "quarantine"):
        assert client.get(reverse(f"imports:{name}", args=[job.pk])).status_code == 404, name
    for name in ("apply", "cancel", "validate", "use_template"):
        assert client.post(reverse(f"imports:{name}", args=[job.pk])).status_code == 404, name
    assert client.get(reverse("imports:home")).content.decode().count(job.original_name) == 0


def test_actions_need_post(client, cast) -> None:
    job = _validated(cast["operator_desa"], csv_bytes(GOOD))
    client.force_login(cast["operator_desa"])
    for name in ("apply", "cancel", "validate"):
        assert client.get(reverse(f"imports:{name}", args=[job.pk])).status_code == 405


def test_enumerator_cannot_import(client, cast) -> None:
    client.force_login(cast["enumerator"])
    assert client.get(reverse("imports:home")).status_code == 403


# --- mapping --------------------------------------------------------------------------------


def test_mapping_page_suggests_columns_and_shows_samples(client, cast) -> None:
    job = _job(cast["operator_desa"], csv_bytes(GOOD))
    client.force_login(cast["operator_desa"])
    resp = client.get(reverse("imports:mapping", args=[job.pk]))
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "Nama Lengkap" in html
    assert "Rahmat Piliang 1" in html  # sample value
    form = resp.context["form"]
    assert form["col_0"].initial == "nik"
    assert form["col_2"].initial == "name"


def test_mapping_saved_as_template_then_dry_run(client, cast) -> None:
    user = cast["operator_desa"]
    job = _job(user, csv_bytes(WITH_ERROR))
    client.force_login(user)
    data = {f"col_{i}": key for i, key in enumerate(_suggested(job))}
    data["template_name"] = "Berkas desa"
    with commits():
        resp = client.post(reverse("imports:mapping", args=[job.pk]), data)
    assert resp.status_code == 302
    assert resp["Location"] == reverse("imports:job", args=[job.pk])
    job.refresh_from_db()
    assert job.status == JobStatus.VALIDATED
    assert MappingTemplate.objects.filter(name="Berkas desa").exists()

    # A later upload of a differently headed file can use the template.
    other = _job(user, csv_bytes(GOOD).replace(b"Nama Lengkap", b"Nama Lengkap"))
    template = MappingTemplate.objects.get(name="Berkas desa")
    resp = client.get(reverse("imports:mapping", args=[other.pk]))
    assert "Berkas desa" in resp.content.decode()
    resp = client.post(reverse("imports:use_template", args=[other.pk]), {"template": template.pk})
    assert resp.status_code == 302
    other.refresh_from_db()
    assert other.template_id == template.pk


def _suggested(job: ImportJob) -> list[str]:
    suggestion = services.suggest_mapping(job)
    return [suggestion.get(h) or "" for h in job.headers]


def test_mapping_without_a_required_column_is_refused(client, cast) -> None:
    job = _job(cast["operator_desa"], csv_bytes(GOOD))
    client.force_login(cast["operator_desa"])
    data = {f"col_{i}": key for i, key in enumerate(_suggested(job))}
    data["col_2"] = ""  # NAMA ignored
    resp = client.post(reverse("imports:mapping", args=[job.pk]), data)
    assert resp.status_code == 422
    assert resp.context["form"].non_field_errors()
    job.refresh_from_db()
    assert job.status in (JobStatus.UPLOADED, JobStatus.MAPPED)


# --- result, error report, apply ------------------------------------------------------------


def test_result_page_shows_rules_with_first_rows_and_error_report(client, cast) -> None:
    job = _validated(cast["operator_desa"], csv_bytes(WITH_ERROR))
    client.force_login(cast["operator_desa"])
    resp = client.get(reverse("imports:job", args=[job.pk]))
    html = resp.content.decode()
    rules = resp.context["rules"]
    assert rules, "the mangled NIK is reported"
    first = rules[0]
    assert first["severity"] == "error"
    assert any(r["row_no"] == 4 for r in first["first_rows"])
    assert first["message_id"] in html
    assert "3.71011E+15" in html
    assert reverse("imports:error_report", args=[job.pk]) in html
    # Apply-all is disabled while errors remain; the quarantine choice is offered.
    assert "disabled" in html.split("Terapkan semua")[0].rsplit("<button", 1)[1]
    assert 'name="confirm"' in html

    report = client.get(reverse("imports:error_report", args=[job.pk]))
    assert report.status_code == 200
    wb = load_workbook(io.BytesIO(body(report)))
    headers = [c.value for c in next(wb.worksheets[0].iter_rows())]
    assert "KESALAHAN" in headers
    assert "ERROR" in headers


def test_result_in_english_uses_message_en(client, cast) -> None:
    job = _validated(cast["operator_desa"], csv_bytes(WITH_ERROR))
    client.force_login(cast["operator_desa"])
    resp = client.get(reverse("imports:job", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en")
    rule = resp.context["rules"][0]
    assert rule["message"] == rule["message_en"]


def test_apply_all_is_refused_while_errors_remain(client, cast) -> None:
    job = _validated(cast["operator_desa"], csv_bytes(WITH_ERROR))
    client.force_login(cast["operator_desa"])
    resp = client.post(reverse("imports:apply", args=[job.pk]), {"choice": "all"})
    assert resp.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.VALIDATED


def test_quarantine_needs_explicit_confirmation(client, cast) -> None:
    job = _validated(cast["operator_desa"], csv_bytes(WITH_ERROR))
    client.force_login(cast["operator_desa"])
    resp = client.post(reverse("imports:apply", args=[job.pk]), {"choice": "quarantine"})
    assert resp.status_code == 422
    job.refresh_from_db()
    assert job.status == JobStatus.VALIDATED


def test_apply_valid_rows_and_quarantine_the_rest(client, cast) -> None:
    job = _validated(cast["operator_desa"], csv_bytes(WITH_ERROR))
    client.force_login(cast["operator_desa"])
    with commits():
        resp = client.post(
            reverse("imports:apply", args=[job.pk]), {"choice": "quarantine", "confirm": "on"}
        )
    assert resp.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.APPLIED, (job.status, job.error_id)
    assert job.quarantine
    assert QuarantinedRow.objects.filter(job=job).count() == 1
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert reverse("imports:quarantine", args=[job.pk]) in page
    assert reverse("proposals:list") in page

    listing = client.get(reverse("imports:quarantine", args=[job.pk]))
    assert "3.71011E+15" in listing.content.decode()
    download = client.get(reverse("imports:quarantine_download", args=[job.pk]))
    wb = load_workbook(io.BytesIO(body(download)))
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert rows[0][: len(HEADER)] == tuple(HEADER)
    assert rows[1][0] == "3.71011E+15"
    assert rows[1][-1] == 4


def test_apply_all_of_a_clean_file_and_duplicate_reupload(client, cast) -> None:
    user = cast["operator_desa"]
    job = _validated(user, csv_bytes(GOOD))
    client.force_login(user)
    with commits():
        resp = client.post(reverse("imports:apply", args=[job.pk]), {"choice": "all"})
    assert resp.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.APPLIED, (job.status, job.error_id)
    assert job.rows_applied == 3

    resp = _upload(client, user, csv_bytes(GOOD), name="again.csv")
    again = ImportJob.objects.exclude(pk=job.pk).get()
    assert again.status == JobStatus.DUPLICATE
    assert resp["Location"] == reverse("imports:job", args=[again.pk])
    page = client.get(resp["Location"]).content.decode()
    assert 'data-testid="duplicate-notice"' in page
    assert reverse("imports:job", args=[job.pk]) in page


# --- progress and cancel --------------------------------------------------------------------


def test_progress_fragment_polls_while_running_and_reloads_when_done(client, cast) -> None:
    user = cast["operator_desa"]
    job = _job(user, csv_bytes(GOOD))
    job = services.save_mapping(job, services.suggest_mapping(job), by=user)
    # A task in flight (the worker has not picked it up yet): the state lives in the row.
    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.VALIDATING, rows_total=3)
    client.force_login(user)
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert 'hx-get="' + reverse("imports:progress", args=[job.pk]) in page
    assert "<progress" in page
    fragment = client.get(reverse("imports:progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in fragment
    assert b"hx-trigger" in fragment.content

    resp = client.post(reverse("imports:cancel", args=[job.pk]))
    assert resp.status_code == 302
    job.refresh_from_db()
    assert job.cancel_requested or job.status == JobStatus.CANCELLED

    ImportJob.objects.filter(pk=job.pk).update(status=JobStatus.VALIDATED)
    done = client.get(reverse("imports:progress", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"


def test_a_cancelled_job_can_be_remapped_and_checked_again(client, cast) -> None:
    user = cast["operator_desa"]
    job = _job(user, csv_bytes(GOOD))
    job = services.save_mapping(job, services.suggest_mapping(job), by=user)
    client.force_login(user)
    client.post(reverse("imports:cancel", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    page = client.get(reverse("imports:job", args=[job.pk])).content.decode()
    assert "tidak ada data yang diterapkan" in page
    assert client.get(reverse("imports:mapping", args=[job.pk])).status_code == 200
    with commits():
        resp = client.post(reverse("imports:validate", args=[job.pk]))
    assert resp.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.VALIDATED


def test_home_links_to_the_bnba_export(client, cast) -> None:
    client.force_login(cast["operator_desa"])
    html = client.get(reverse("imports:home")).content.decode()
    assert reverse("imports:export_bnba") in html
