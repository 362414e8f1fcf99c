"""Province review pack on a hand-built province: the numbers, the xlsx, the task lists and
their closure, permissions."""

from __future__ import annotations

import datetime as dt
import tempfile

import pytest
from django.urls import reverse

from terpadu.core.models import Notification
from terpadu.quality import derived, nikganda, pack, rules
from terpadu.quality.models import (
    AgeScheme,
    ExclusionFlag,
    QualityDecision,
    ReviewTask,
    ReviewTaskItem,
    TaskItemState,
)
from terpadu.quality.tests.conftest import copy_nik, enrol, member, persons
from terpadu.quality.tests.test_rules import load
from terpadu.registry.templatetags.registry_tags import age

pytestmark = pytest.mark.django_db
REF = dt.date(2026, 12, 1)


@pytest.fixture
def province(cast, household, regions):  # type: ignore[no-untyped-def]
    """Kota Padang: a KPM family (grandfather ASN, informal; grandchild), a formal worker
    whose NIK is also used in Kota Solok by an informal KPM."""
    old, child = persons(
        household(
            member("Kakek", 1, birth_date=dt.date(1950, 5, 6), employment_status=6),
            member("Cucu", 5, birth_date=dt.date(2020, 5, 6)),
        )
    )
    (worker,) = persons(
        household(
            member("Karyawan", 1, birth_date=dt.date(1990, 5, 6), employment_status=4),
            desa="1371021001",
        )
    )
    (solok,) = persons(
        household(
            member("Pedagang", 1, birth_date=dt.date(1985, 5, 6), employment_status=7),
            desa="1372011001",
        )
    )
    copy_nik(worker, solok)
    enrol(old, "PKH")
    enrol(solok, "BPNT")
    load(cast["admin_provinsi"], "asn_tni_polri", [(old.nik, None)])
    nikganda.refresh("13")
    rules.evaluate("13")
    return {"old": old, "child": child, "worker": worker, "solok": solok, "region": regions["13"]}


def test_pack_numbers(province):
    scheme = AgeScheme.objects.get(code="p3ke")
    data = pack.build(province["region"], scheme, ref=REF)
    rows = {r.code: r for r in data.rows}
    padang, solok = rows["1371"], rows["1372"]
    assert padang.persons == 3
    assert dict(padang.ages) == {
        "< 7": 1,
        "7–12": 0,
        "13–15": 0,
        "16–18": 0,
        "19–21": 0,
        "22–59": 1,
        "≥ 60": 1,
    }
    assert padang.informal_share == 0.5  # informal 6 vs formal 4; the child has no work status
    assert padang.flags == {"asn_tni_polri": 1, "asn_tni_polri_kk": 1}
    assert (padang.nik_ganda, padang.kpm, padang.kpm_flagged) == (1, 1, 1)
    assert (solok.persons, solok.informal_share, solok.nik_ganda) == (1, 1.0, 1)
    assert (solok.kpm, solok.kpm_flagged, solok.flags_total) == (1, 0, 0)
    assert [c for c, _n in data.rules] == ["asn_tni_polri", "asn_tni_polri_kk"]


def test_programme_scheme_counts_overlapping_buckets(province):
    scheme = AgeScheme.objects.get(code="program")
    summary = derived.person_summary("1371", scheme, REF)["1371"]
    ages = dict(summary["ages"])
    assert ages["Balita 0–4"] == 0 and ages["Usia dini 0–6"] == 1
    assert ages["Produktif 15–59"] == 1 and ages["Lansia ≥ 60"] == 1


def test_age_boundaries_at_reference_date():
    ref = dt.date(2026, 12, 1)
    bucket = derived.Bucket("7–12", 7, 12)
    assert derived.years_before(ref, 7) == dt.date(2019, 12, 1)
    # The registry's own age (registry_tags.age) agrees with the bucket bounds.
    assert age(dt.date(2019, 12, 1), ref) == 7
    assert age(dt.date(2019, 12, 2), ref) == 6
    assert derived.years_before(dt.date(2024, 2, 29), 1) == dt.date(2023, 2, 28)
    assert bucket.birth_range(ref)  # a Q on birth_date


def test_pack_page_and_xlsx(client, cast, province):
    from python_calamine import CalamineWorkbook

    client.force_login(cast["operator_provinsi"])
    page = client.get(reverse("quality:pack"))
    assert page.status_code == 200 and b'data-testid="pack"' in page.content
    response = client.get(reverse("quality:pack_xlsx"), {"provinsi": "13", "skema": "p3ke"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
        tmp.write(response.content)
        tmp.flush()
        rows = CalamineWorkbook.from_path(tmp.name).get_sheet_by_index(0).to_python()
    header = rows[1]
    padang = next(r for r in rows[2:] if r[0] == "1371")
    by_name = dict(zip(header, padang, strict=True))
    assert by_name["Individu aktif"] == 3 and by_name["Umur ≥ 60"] == 1
    assert by_name["Pekerja informal (%)"] == 50.0
    assert by_name["NIK ganda (terbuka)"] == 1 and by_name["KPM bertanda"] == 1


@pytest.mark.parametrize(
    ("role", "status"),
    [("admin_kabkota", 403), ("verifikator_kabkota", 403), ("admin_provinsi", 200), ("pusat", 200)],
)
def test_pack_permissions(client, cast, role, status):
    AgeScheme.objects.get(code="p3ke")
    client.force_login(cast[role])
    assert client.get(reverse("quality:pack"), {"provinsi": "13"}).status_code == status


def test_province_cannot_open_another_province(client, cast):
    client.force_login(cast["admin_provinsi"])
    assert client.get(reverse("quality:pack"), {"provinsi": "14"}).status_code == 404


def test_task_list_sent_acted_dismissed_and_tracked(client, cast, province):
    client.force_login(cast["admin_provinsi"])
    client.post(reverse("quality:pack_send"), {"provinsi": "13", "note": "Mohon ditindaklanjuti"})
    task = ReviewTask.objects.get()
    assert (task.region_code, task.item_count) == ("1371", 2)
    notified = set(Notification.objects.values_list("user__username", flat=True))
    assert notified == {cast["verifikator_kabkota"].username, cast["admin_kabkota"].username}
    # Sending again adds nothing: the flags are already on an open task.
    client.post(reverse("quality:pack_send"), {"provinsi": "13"})
    assert ReviewTask.objects.count() == 1

    client.force_login(cast["verifikator_kabkota"])
    assert client.get(reverse("quality:task", args=[task.pk])).status_code == 200
    child_flag = ExclusionFlag.objects.get(person=province["child"])
    old_flag = ExclusionFlag.objects.get(person=province["old"])
    client.post(
        reverse("quality:flag", args=[child_flag.pk]),
        {"action": "dismiss", "reason": "Cucu tinggal terpisah dari KK"},
    )
    client.post(
        reverse("quality:flag", args=[old_flag.pk]),
        {"action": "propose", "reason": "ASN aktif menurut BKN"},
    )
    items = {i.person_id: i for i in ReviewTaskItem.objects.all()}
    assert items[province["child"].pk].state == TaskItemState.DISMISSED
    acted = items[province["old"].pk]
    assert acted.state == TaskItemState.ACTED and acted.proposal.reason_code == "tidak_layak"
    closed = QualityDecision.objects.filter(subject=QualityDecision.Subject.TASK_ITEM)
    assert set(closed.values_list("subject_id", "action", "proposal_id")) == {
        (items[province["child"].pk].pk, TaskItemState.DISMISSED, None),
        (acted.pk, TaskItemState.ACTED, acted.proposal_id),
    }
    data = pack.build(province["region"], AgeScheme.objects.get(code="p3ke"), ref=REF)
    padang = next(r for r in data.rows if r.code == "1371")
    assert (padang.tasks_total, padang.tasks_closed, padang.closure) == (2, 2, 1.0)
    # Solok's users do not see Padang's task.
    client.force_login(cast["outsider_kab"])
    assert client.get(reverse("quality:task", args=[task.pk])).status_code == 404


def test_pack_query_count_does_not_grow_with_kabkota(province, django_assert_max_num_queries):
    scheme = AgeScheme.objects.get(code="p3ke")
    with django_assert_max_num_queries(8):
        pack.build(province["region"], scheme, ref=REF)


def test_task_detail_query_count_is_pinned(client, cast, province, django_assert_num_queries):
    client.force_login(cast["admin_provinsi"])
    client.post(reverse("quality:pack_send"), {"provinsi": "13"})
    task = ReviewTask.objects.get()
    client.force_login(cast["verifikator_kabkota"])
    url = reverse("quality:task", args=[task.pk])
    # session, user, task (with closed count), item count, item rows; nav: 2
    with django_assert_num_queries(7):
        page = client.get(url)
    assert page.content.count(b"Periksa dan putuskan") == 2
