"""Quality pages: permissions, scope, pinned query counts, decisions through the pages, the
job with progress, reference-list upload refusals."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.urls import reverse

from terpadu.accounts.models import AccessLog
from terpadu.core.signals import registry_bulk_changed
from terpadu.quality import nikganda, rules
from terpadu.quality.models import (
    ExclusionFlag,
    FlagStatus,
    NikDuplicateGroup,
    QualityRun,
    ReferenceList,
    WorkStatus,
)
from terpadu.quality.tests.conftest import copy_nik, csv_upload, member, persons, xlsx_upload
from terpadu.quality.tests.test_rules import load
from terpadu.registry.models import Person

pytestmark = pytest.mark.django_db
FLAG_LINK = re.compile(rb'href="/kualitas/tanda/[0-9]+/"')


def nik_pairs(household: Any, n: int) -> list[tuple[Person, Person]]:
    out = []
    for i in range(n):
        (a,) = persons(household(member(f"A{i}", 1)))
        (b,) = persons(household(member(f"B{i}", 1), desa="1371021001"))
        copy_nik(a, b)
        out.append((a, b))
    return out


@pytest.mark.parametrize("role", ["operator_desa", "enumerator"])
def test_desa_roles_have_no_quality_pages(client, cast, role):
    client.force_login(cast[role])
    assert client.get(reverse("quality:home")).status_code == 403


def test_home_shows_counts_in_scope(client, cast, household):
    nik_pairs(household, 1)
    nikganda.refresh("1371")
    client.force_login(cast["verifikator_kabkota"])
    page = client.get(reverse("quality:home"))
    assert page.status_code == 200
    assert b'data-testid="groups-open">1<' in page.content
    client.force_login(cast["outsider_kab"])
    assert b'data-testid="groups-open">0<' in client.get(reverse("quality:home")).content


def test_group_list_query_count_is_pinned(client, cast, household, django_assert_num_queries):
    nik_pairs(household, 2)
    nikganda.refresh("1371")
    client.force_login(cast["verifikator_kabkota"])
    url = reverse("quality:groups")
    # session, user, count, page rows; the nav: unread notifications, the user's region
    with django_assert_num_queries(6):
        first = client.get(url)
    nik_pairs(household, 3)
    nikganda.refresh("1371")
    with django_assert_num_queries(6):
        second = client.get(url)
    assert second.content.count(b"nik-ganda/") > first.content.count(b"nik-ganda/")
    a, _b = nik_pairs(household, 1)[0]
    assert a.nik.encode() not in second.content  # masked in the list


def test_group_detail_logs_and_proposes_ganda(client, cast, household):
    ((_a, b),) = nik_pairs(household, 1)
    nikganda.refresh("1371")
    group = NikDuplicateGroup.objects.get()
    client.force_login(cast["verifikator_kabkota"])
    url = reverse("quality:group", args=[group.pk])
    page = client.get(url)
    assert page.status_code == 200 and b"A0" in page.content and b"B0" in page.content
    assert AccessLog.objects.filter(action="view_nik_group", entity_id=str(group.pk)).exists()
    # No reason: refused, nothing proposed.
    refused = client.post(url, {"action": "propose", "person": b.pk, "reason": ""})
    assert refused.status_code == 422
    done = client.post(url, {"action": "propose", "person": b.pk, "reason": "Data lama"})
    assert done.status_code == 302
    group.refresh_from_db()
    assert group.status == WorkStatus.RESOLVED and group.proposal.reason_code == "ganda"
    assert group.proposal.person_id == b.pk
    b.refresh_from_db()
    assert b.status == "aktif"  # a proposal, not a change


def test_group_outside_scope_is_404_and_province_cannot_decide(client, cast, household):
    nik_pairs(household, 1)
    nikganda.refresh("1371")
    group = NikDuplicateGroup.objects.get()
    url = reverse("quality:group", args=[group.pk])
    client.force_login(cast["outsider_kab"])
    assert client.get(url).status_code == 404
    client.force_login(cast["admin_provinsi"])
    page = client.get(url)
    assert page.status_code == 200 and b'name="action" value="dismiss"' not in page.content
    client.post(url, {"action": "dismiss", "reason": "x"})
    group.refresh_from_db()
    assert group.status == WorkStatus.OPEN


def test_flag_list_query_count_is_pinned_and_filters(
    client, cast, household, django_assert_num_queries
):
    people = [persons(household(member(f"P{i}", 1)))[0] for i in range(2)]
    load(cast["admin_kabkota"], "kendaraan_roda4", [(p.nik, None) for p in people])
    rules.evaluate("1371")
    client.force_login(cast["admin_kabkota"])
    url = reverse("quality:flags")
    # session, user, rule choices, count, page rows (person joined); nav: 2
    with django_assert_num_queries(7):
        client.get(url)
    more = [persons(household(member(f"Q{i}", 1)))[0] for i in range(4)]
    load(cast["admin_kabkota"], "kendaraan_roda4", [(p.nik, None) for p in more])
    rules.evaluate("1371")
    with django_assert_num_queries(7):
        page = client.get(url, {"rule": "kendaraan_roda4", "status": "open", "wilayah": "1371"})
    assert len(FLAG_LINK.findall(page.content)) == 6
    none = client.get(url, {"rule": "meninggal", "status": "open"})
    assert FLAG_LINK.findall(none.content) == []


def test_flag_detail_dismiss_and_death_needs_evidence(client, cast, household):
    (p,) = persons(household(member("Almarhum", 1)))
    load(cast["admin_kabkota"], "kematian", [(p.nik, None)])
    rules.evaluate("1371")
    flag = ExclusionFlag.objects.get(code="meninggal")
    client.force_login(cast["verifikator_kabkota"])
    url = reverse("quality:flag", args=[flag.pk])
    assert client.get(url).status_code == 200
    refused = client.post(url, {"action": "propose", "reason": "Akta kematian"})
    assert refused.status_code == 422  # meninggal needs evidence (proposals rule)
    flag.refresh_from_db()
    assert flag.status == FlagStatus.OPEN
    assert (
        client.post(url, {"action": "dismiss", "reason": "Masih hidup, dicek"}).status_code == 302
    )
    flag.refresh_from_db()
    assert flag.status == FlagStatus.DISMISSED and not flag.active
    assert b"Masih hidup, dicek" in client.get(url).content  # in the decision history
    client.force_login(cast["outsider_kab"])
    assert client.get(url).status_code == 404


def test_upload_refuses_mangled_nik_precisely(client, cast, household):
    (p,) = persons(household(member("Guru", 1)))
    client.force_login(cast["admin_kabkota"])
    url = reverse("quality:reflists")
    data = {
        "kind": "guru_sertifikasi",
        "name": "Guru 2026",
        "source": "Dinas Pendidikan",
        "valid_as_of": "2026-10-01",
    }
    bad = csv_upload(
        [["NIK", "keterangan"], [p.nik, "ok"], ["3.20101E+15", "excel"], ["12345", ""]]
    )
    page = client.post(url, {**data, "file": bad})
    assert page.status_code == 422
    assert b"Baris 3:" in page.content and b"notasi ilmiah" in page.content
    assert b"Baris 4:" in page.content and b"16 angka" in page.content
    assert not ReferenceList.objects.exists()
    # xlsx with the NIK typed as a number (Excel drops the 16th digit): refused too.
    number = xlsx_upload([["NIK"], [float(p.nik)]])
    page = client.post(url, {**data, "file": number})
    assert page.status_code == 422 and b"Baris 2:" in page.content
    good = xlsx_upload([["NIK", "nilai", "keterangan"], [p.nik, None, "NUPTK 1"]])
    assert client.post(url, {**data, "file": good}).status_code == 302
    reflist = ReferenceList.objects.get()
    assert (reflist.entry_count, reflist.region_code) == (1, "1371")
    assert len(reflist.sha256) == 64
    assert list(reflist.entries.values_list("nik", "note")) == [(p.nik, "NUPTK 1")]


def test_upload_only_for_admins(client, cast):
    client.force_login(cast["verifikator_kabkota"])
    page = client.get(reverse("quality:reflists"))
    assert page.status_code == 200 and b'enctype="multipart/form-data"' not in page.content
    assert client.post(reverse("quality:reflists"), {}).status_code == 403


def test_run_button_progress_and_signal(
    client, cast, household, django_capture_on_commit_callbacks
):
    nik_pairs(household, 1)
    client.force_login(cast["verifikator_kabkota"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("quality:run_start"))
    run = QualityRun.objects.get()
    assert run.state == QualityRun.State.SELESAI and run.region_code == "1371"
    assert run.counts["nik_ganda"]["created"] == 1
    partial = client.get(reverse("quality:run", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert partial["HX-Refresh"] == "true" and b"hx-trigger" not in partial.content
    assert b"quality-progress" in client.get(reverse("quality:home")).content
    # After a bulk import the receiver queues a run for the changed region.
    with django_capture_on_commit_callbacks(execute=True):
        registry_bulk_changed.send(sender=None, source="import", ref="42", region_code="1371011001")
    latest = QualityRun.objects.order_by("-pk").first()
    assert (latest.source, latest.source_ref, latest.region_code) == ("import", "42", "1371")
    assert latest.state == QualityRun.State.SELESAI


def test_running_run_polls(client, cast):
    run = QualityRun.objects.create(region_code="1371", state=QualityRun.State.BERJALAN)
    client.force_login(cast["verifikator_kabkota"])
    partial = client.get(reverse("quality:run", args=[run.pk]), HTTP_HX_REQUEST="true")
    assert b'hx-trigger="every 2s"' in partial.content and "HX-Refresh" not in partial
    client.force_login(cast["outsider_kab"])
    assert client.get(reverse("quality:run", args=[run.pk])).status_code == 404


def test_summary_page(client, cast, household):
    household(
        member("Kakek", 1, birth_date=dt.date(1940, 1, 1)),
        member("Cucu", birth_date=dt.date(2020, 1, 1)),
    )
    client.force_login(cast["admin_provinsi"])
    page = client.get(reverse("quality:summary"), {"skema": "program"})
    assert page.status_code == 200 and b"Lansia" in page.content


def test_registry_pages_show_open_flags_and_nik_ganda(client, cast, household):
    ((a, b),) = nik_pairs(household, 1)
    load(cast["admin_kabkota"], "bantuan_lain", [(a.nik, None)])
    nikganda.refresh("1371")
    rules.evaluate("1371")
    client.force_login(cast["verifikator_kabkota"])
    person_page = client.get(reverse("registry:person", args=[a.pk])).content
    assert b"Menerima bantuan dari sumber lain" in person_page and b"NIK ganda" in person_page
    house_page = client.get(reverse("registry:household", args=[b.household_id])).content
    assert b"NIK ganda" in house_page


def test_cli_runs_the_job(household):
    from io import StringIO

    from django.core.management import call_command

    nik_pairs(household, 1)
    out = StringIO()
    call_command("quality_run", "--region", "1371", stdout=out)
    assert out.getvalue().startswith("selesai")
    assert NikDuplicateGroup.objects.filter(status=WorkStatus.OPEN).count() == 1
