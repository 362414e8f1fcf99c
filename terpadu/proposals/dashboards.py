"""Reads for the inbox, the review queue and the province's lateness dashboard.

"Overdue" follows the monthly calendar (domain.md §3.5): an item still at desa level that
has been waiting since on or before the last *passed* input deadline (day 20 by default), or
an item still at kab/kota level since on or before the last passed ratification deadline
(day 25), missed its month. Every figure here is one GROUP BY / conditional-count query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import Substr

from terpadu.proposals import calendar
from terpadu.proposals.models import (
    DESA_STATUSES,
    KABKOTA_STATUSES,
    Batch,
    BatchStatus,
    Proposal,
)
from terpadu.proposals.queries import (
    WAITING_FOR,
    open_assignments,
    proposals_for_user,
    status_counts,
)
from terpadu.regions.models import Level, Region, prefix_q

if TYPE_CHECKING:
    from terpadu.accounts.models import User


def _previous_period(period: str) -> str:
    year, month = (int(p) for p in period.split("-"))
    return f"{year - 1}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def last_passed(deadline: str, today: dt.date) -> dt.date:
    """The most recent `deadline` ("input_end" or "ratification") strictly before `today`."""
    this = calendar.deadlines(calendar.period_of(today))
    day: dt.date = getattr(this, deadline)
    if day < today:
        return day
    return getattr(calendar.deadlines(_previous_period(this.period)), deadline)


def overdue_q(today: dt.date) -> tuple[Q, Q]:
    """(desa-level overdue, kab-level overdue) conditions on Proposal."""
    desa_cut = last_passed("input_end", today)
    kab_cut = last_passed("ratification", today)
    desa = Q(status__in=list(DESA_STATUSES), status_changed_at__date__lte=desa_cut)
    kab = Q(status__in=list(KABKOTA_STATUSES), status_changed_at__date__lte=kab_cut)
    return desa, kab


def ratification_late_q(today: dt.date) -> Q:
    """Batches still waiting for the signed letter after their period's ratification day."""
    this = calendar.deadlines(calendar.period_of(today))
    earlier = Q(period__lt=this.period)
    if today > this.ratification:
        earlier |= Q(period=this.period)
    return Q(status=BatchStatus.FINAL) & earlier


# --- review queue ---------------------------------------------------------------------------


def review_queue(
    user: User,
    *,
    status: str,
    kind: str = "",
    region_code: str = "",
    min_age_days: int = 0,
    overdue: bool = False,
    today: dt.date | None = None,
) -> QuerySet[Proposal]:
    """The kab/kota review queue: proposals in `status` whose desa lies in the user's scope
    (and in `region_code`, a kecamatan or desa, if given), oldest first."""
    today = today or calendar.today()
    qs = _within(_within(Proposal.objects.filter(status=status), user.scope), region_code)
    if kind:
        qs = qs.filter(kind=kind)
    if min_age_days:
        qs = qs.filter(status_changed_at__date__lte=today - dt.timedelta(days=min_age_days))
    if overdue:
        qs = qs.filter(overdue_q(today)[1])
    return qs.select_related("region").order_by("status_changed_at", "id")


# --- inbox --------------------------------------------------------------------------------


@dataclass
class Inbox:
    waiting: list[tuple[str, str, int]]  # status, label, count
    counts: dict[str, int]
    deadlines: calendar.MonthDeadlines
    phase: str
    days_to_input_end: int
    days_to_ratification: int
    overdue_desa: int
    overdue_kab: int
    open_assignments: int | None
    notifications: list[Any] = field(default_factory=list)

    @property
    def waiting_total(self) -> int:
        return sum(n for _, _, n in self.waiting)


def inbox_for(user: User, today: dt.date | None = None) -> Inbox:
    """What waits for `user`: counts per waiting status (one GROUP BY), overdue counts (one
    conditional count), deadlines, open assignments (enumerators) and unread notifications."""
    from terpadu.proposals.models import Status

    today = today or calendar.today()
    visible = proposals_for_user(user)
    counts = status_counts(user)
    wanted = WAITING_FOR.get(user.role, ()) if user.role else tuple(Status)
    waiting = [(s, Status(s).label, counts.get(s, 0)) for s in wanted]
    desa_q, kab_q = overdue_q(today)
    overdue = visible.aggregate(desa=Count("id", filter=desa_q), kab=Count("id", filter=kab_q))
    month = calendar.deadlines(calendar.period_of(today))
    notes = list(user.notifications.filter(read_at__isnull=True)[:20])
    return Inbox(
        waiting=waiting,
        counts=counts,
        deadlines=month,
        phase=month.phase(today),
        days_to_input_end=(month.input_end - today).days,
        days_to_ratification=(month.ratification - today).days,
        overdue_desa=overdue["desa"] or 0,
        overdue_kab=overdue["kab"] or 0,
        open_assignments=(open_assignments(user).count() if user.role == "enumerator" else None),
        notifications=notes,
    )


# --- province lateness ----------------------------------------------------------------------


def _within(qs: QuerySet[Any], prefix: str) -> QuerySet[Any]:
    return qs.filter(prefix_q("region_code", prefix))


@dataclass
class LatenessRow:
    region: Region
    waiting: int = 0
    overdue: int = 0
    unratified_late: int = 0
    last_sent: dt.datetime | None = None

    @property
    def late(self) -> bool:
        return bool(self.overdue or self.unratified_late)


def lateness_by_kabkota(province_code: str, today: dt.date | None = None) -> list[LatenessRow]:
    """Per kab/kota of the province (or of the nation for ""): proposals waiting at kab level
    (and how many are overdue), batches not ratified by the ratification day, the last batch
    sent to the province. Three queries whatever the number of kab/kota."""
    today = today or calendar.today()
    kabs = Region.objects.current().within(province_code).filter(level=Level.KABKOTA)
    rows = {r.digits: LatenessRow(region=r) for r in kabs.order_by("digits")}
    _, kab_q = overdue_q(today)
    items = _within(Proposal.objects.filter(status__in=list(KABKOTA_STATUSES)), province_code)
    for row in (
        items.annotate(kab=Substr("region_code", 1, 4))
        .values("kab")
        .annotate(n=Count("id"), late=Count("id", filter=kab_q))
        .order_by()
    ):
        if row["kab"] in rows:
            rows[row["kab"]].waiting = row["n"]
            rows[row["kab"]].overdue = row["late"]
    batches = _within(Batch.objects.all(), province_code)
    for row in (
        batches.values("region_code")
        .annotate(
            last_sent=Max("sent_at"), unratified=Count("id", filter=ratification_late_q(today))
        )
        .order_by()
    ):
        if row["region_code"] in rows:
            rows[row["region_code"]].last_sent = row["last_sent"]
            rows[row["region_code"]].unratified_late = row["unratified"]
    return list(rows.values())
