"""Inbox per role: waiting counts, deadlines and overdue items, notifications, nav badge."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from terpadu.core.models import Notification
from terpadu.proposals import dashboards
from terpadu.proposals.models import (
    Assignment,
    Batch,
    BatchStatus,
    CalendarYear,
    Kind,
    Proposal,
    Status,
)

pytestmark = pytest.mark.django_db

WIB = dt.timezone(dt.timedelta(hours=7))


def _at(p: Proposal, day: dt.date) -> None:
    """Pretend the proposal reached its status on `day` (fixture write, not a move)."""
    Proposal.objects.filter(pk=p.pk).update(
        status_changed_at=dt.datetime.combine(day, dt.time(10), tzinfo=WIB)
    )


@pytest.fixture
def spread(make_proposal):  # type: ignore[no-untyped-def]
    """Items at every level of Kota Padang, plus one in Kota Solok."""
    return {
        "draft": make_proposal(Kind.PERBAIKAN, Status.DRAFT),
        "musdes": make_proposal(Kind.NONAKTIF, Status.MENUNGGU_MUSDES),
        "review": make_proposal(Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS),
        "review2": make_proposal(Kind.BARU, Status.DIPERIKSA_DINSOS, desa="1371021001"),
        "final": make_proposal(Kind.PERBAIKAN, Status.FINAL_KABKOTA),
        "prov": make_proposal(Kind.PERBAIKAN, Status.DIKIRIM_PROVINSI),
        "pusat": make_proposal(Kind.PERBAIKAN, Status.DIKIRIM_PUSAT),
        "solok": make_proposal(Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS, desa="1372011001"),
    }


def _waiting(box: dashboards.Inbox) -> dict[str, int]:
    return {status: n for status, _, n in box.waiting}


def test_counts_per_role(cast, spread):
    assert _waiting(dashboards.inbox_for(cast["operator_desa"])) == {
        Status.DRAFT: 1,
        Status.MENUNGGU_MUSDES: 1,
        Status.DISEPAKATI: 0,
        Status.DIKEMBALIKAN_KE_DESA: 0,
    }
    kab = _waiting(dashboards.inbox_for(cast["admin_kabkota"]))
    assert kab[Status.DIPERIKSA_DINSOS] == 2 and kab[Status.FINAL_KABKOTA] == 1
    assert _waiting(dashboards.inbox_for(cast["outsider_kab"]))[Status.DIPERIKSA_DINSOS] == 1
    assert _waiting(dashboards.inbox_for(cast["operator_provinsi"])) == {Status.DIKIRIM_PROVINSI: 1}
    pusat = _waiting(dashboards.inbox_for(cast["pusat"]))
    assert pusat == {Status.DIKIRIM_PUSAT: 1, Status.PROSES_PUSAT: 0}


def test_enumerator_sees_open_assignments(cast, make_proposal):
    p = make_proposal(Kind.BARU, Status.VERIVALI)
    Assignment.objects.create(
        proposal=p,
        enumerator=cast["enumerator"],
        region_code=p.region_code,
        assigned_by=cast["operator_desa"],
    )
    box = dashboards.inbox_for(cast["enumerator"])
    assert box.open_assignments == 1
    assert dashboards.inbox_for(cast["operator_desa"]).open_assignments is None


def test_deadlines_and_overdue_follow_the_calendar(cast, spread):
    # On 21 Nov 2026 the input deadline (20th) has passed, the ratification (25th) not yet.
    for p in spread.values():
        _at(p, dt.date(2026, 11, 21))
    _at(spread["draft"], dt.date(2026, 11, 19))
    _at(spread["musdes"], dt.date(2026, 11, 21))
    _at(spread["review"], dt.date(2026, 10, 24))
    _at(spread["review2"], dt.date(2026, 10, 27))
    box = dashboards.inbox_for(cast["admin_kabkota"], today=dt.date(2026, 11, 21))
    assert box.phase == "pengesahan"
    assert (box.days_to_input_end, box.days_to_ratification) == (-1, 4)
    assert box.overdue_desa == 1  # the draft waiting since the 19th
    assert box.overdue_kab == 1  # waiting since before 25 Oct
    later = dashboards.inbox_for(cast["admin_kabkota"], today=dt.date(2026, 11, 26))
    assert later.phase == "pusat" and later.overdue_kab == 3  # + review2 and final (21 Nov)


def test_calendar_configured_by_pusat_moves_the_deadlines(cast, spread):
    CalendarYear.objects.create(year=2026, input_end_day=10, ratification_day=15)
    for p in spread.values():
        _at(p, dt.date(2026, 11, 12))
    _at(spread["draft"], dt.date(2026, 11, 9))
    box = dashboards.inbox_for(cast["operator_desa"], today=dt.date(2026, 11, 12))
    assert box.phase == "pengesahan" and box.overdue_desa == 1


def test_inbox_page_with_time_machine(client, cast, spread):
    for p in spread.values():
        _at(p, dt.date(2026, 11, 9))
    _at(spread["review"], dt.date(2026, 10, 1))
    client.force_login(cast["verifikator_kabkota"])
    with time_machine.travel(dt.datetime(2026, 11, 10, 9, tzinfo=WIB), tick=False):
        r = client.get(reverse("proposals:inbox"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "10 hari lagi" in html and "15 hari lagi" in html
    assert 'data-testid="overdue-kab"><span class="badge badge-warn">1<' in html
    assert reverse("proposals:review_queue") in html


def test_inbox_query_count_is_fixed(client, cast, make_proposal):
    client.force_login(cast["admin_kabkota"])
    counts = []
    for n in (2, 20):
        for _ in range(n):
            make_proposal(Kind.PERBAIKAN, Status.DIPERIKSA_DINSOS)
            Notification.objects.create(user=cast["admin_kabkota"], message_id="x", message_en="x")
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("proposals:inbox")).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_home_shows_the_inbox(client, cast, spread):
    client.force_login(cast["verifikator_kabkota"])
    r = client.get(reverse("core:home"))
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="inbox"' in html and f'data-status="{Status.DIPERIKSA_DINSOS}"' in html


def test_notifications_mark_read_and_badge(client, cast):
    user = cast["operator_desa"]
    first = Notification.objects.create(
        user=user, message_id="Usulan dikembalikan", message_en="Returned", link="/usulan/"
    )
    Notification.objects.create(user=user, message_id="Usulan disetujui", message_en="Approved")
    Notification.objects.create(user=cast["pusat"], message_id="Bukan untuk Anda", message_en="x")
    client.force_login(user)
    r = client.get(reverse("proposals:inbox"))
    html = r.content.decode()
    assert "Usulan dikembalikan" in html and "Bukan untuk Anda" not in html
    assert 'data-testid="unread-badge"' in html and ">2</span>" in html
    client.post(reverse("proposals:notifications_read"), {"id": first.pk})
    assert list(user.notifications.filter(read_at__isnull=True)) != []
    first.refresh_from_db()
    assert first.read_at is not None
    client.post(reverse("proposals:notifications_read"))
    assert not user.notifications.filter(read_at__isnull=True).exists()
    assert cast["pusat"].notifications.filter(read_at__isnull=True).count() == 1
    r = client.get(reverse("proposals:inbox"))
    assert b'data-testid="unread-badge"' not in r.content


def test_badge_costs_one_query_per_request(client, cast, rf):
    from django.template import Context, Template

    Notification.objects.create(user=cast["pusat"], message_id="a", message_en="a")
    request = rf.get("/")
    request.user = cast["pusat"]
    tpl = Template(
        "{% load proposals_inbox %}{% unread_count as a %}{% unread_count as b %}{{ a }}{{ b }}"
    )
    with CaptureQueriesContext(connection) as ctx:
        out = tpl.render(Context({"request": request}))
    assert out == "11" and len(ctx.captured_queries) == 1


def test_lateness_marks_unratified_batches(cast, regions):
    Batch.objects.create(
        region=regions["1372"],
        region_code="1372",
        period="2026-11",
        status=BatchStatus.FINAL,
        finalised_by=cast["outsider_kab"],
    )
    before = {
        r.region.digits: r for r in dashboards.lateness_by_kabkota("13", dt.date(2026, 11, 25))
    }
    assert not before["1372"].late
    after = {
        r.region.digits: r for r in dashboards.lateness_by_kabkota("13", dt.date(2026, 11, 26))
    }
    assert after["1372"].late and after["1372"].unratified_late == 1
    assert not after["1371"].late


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, cast):
    from terpadu.core.models import Notification

    user = cast["operator_desa"]
    mine = Notification.objects.create(
        user=user, message_id="x", message_en="x", link="/usulan/?status=draft"
    )
    other = Notification.objects.create(
        user=cast["outsider_desa"], message_id="y", message_en="y", link="/usulan/"
    )
    client.force_login(user)
    response = client.get(reverse("proposals:notification_open", args=[mine.pk]))
    assert response.status_code == 302 and response["Location"] == "/usulan/?status=draft"
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert client.get(reverse("proposals:notification_open", args=[other.pk])).status_code == 404
    evil = Notification.objects.create(
        user=user, message_id="z", message_en="z", link="//evil.example/"
    )
    response = client.get(reverse("proposals:notification_open", args=[evil.pk]))
    assert response["Location"] == reverse("proposals:inbox")
