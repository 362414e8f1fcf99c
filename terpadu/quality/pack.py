"""Province review pack (issue 7 §7): per kab/kota of a province, the age distribution,
open tidak-layak flags by rule, open NIK ganda groups, informal-work share and programme
recipients (KPM) with flags — a page, an xlsx, and task lists sent to each kab/kota.

A KPM (keluarga penerima manfaat) is an active family with an active programme membership,
its own or one of its members'. Every figure is one grouped query over the province; the
pack costs a fixed number of queries whatever the number of kab/kota.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from terpadu.accounts.access import Action, can
from terpadu.accounts.models import User
from terpadu.core.models import Notification
from terpadu.proposals.integrity import ACTIVE
from terpadu.proposals.transitions import KABKOTA_ROLES
from terpadu.quality import derived
from terpadu.quality.models import (
    AgeScheme,
    EligibilityRule,
    ExclusionFlag,
    FlagStatus,
    NikDuplicateGroup,
    ReviewTask,
    ReviewTaskItem,
    TaskItemState,
    WorkStatus,
)
from terpadu.regions.models import Level, Region, prefix_q
from terpadu.registry.models import Family, ProgramMembership


def can_see_pack(user: Any, province: str) -> bool:
    """Province roles for their own province; pusat for any."""
    return can(user, Action.REVIEW_PACK, province)


def ensure_pack(user: Any, province: str) -> None:
    if not can_see_pack(user, province):
        raise PermissionDenied


@dataclass
class KabRow:
    code: str
    name: str
    persons: int = 0
    ages: list[tuple[str, int]] = field(default_factory=list)
    age_unknown: int = 0
    informal_share: float | None = None
    completeness: float | None = None
    flags: dict[str, int] = field(default_factory=dict)
    flags_total: int = 0
    nik_ganda: int = 0
    kpm: int = 0
    kpm_flagged: int = 0
    tasks_total: int = 0
    tasks_closed: int = 0

    @property
    def closure(self) -> float | None:
        return (self.tasks_closed / self.tasks_total) if self.tasks_total else None


@dataclass
class Pack:
    province: Region
    scheme: AgeScheme
    reference_date: dt.date
    rows: list[KabRow]
    rules: list[tuple[str, str]]  # (code, name) of rules with flags, for columns
    buckets: list[str]


def recipient_exists(today: dt.date) -> tuple[Any, Any]:
    """Exists() of an active programme membership of the family, and of one of its members."""
    live = Q(status=ProgramMembership.Status.AKTIF) & (
        Q(period_to__isnull=True) | Q(period_to__gte=today)
    )
    own = ProgramMembership.objects.filter(live, family_id=OuterRef("pk"))
    member = ProgramMembership.objects.filter(live, person__family_id=OuterRef("pk"))
    return Exists(own), Exists(member)


def kpm_families(scope: str, today: dt.date) -> QuerySet[Family]:
    own, member = recipient_exists(today)
    return Family.objects.filter(prefix_q("region_code", scope), status__in=list(ACTIVE)).filter(
        own | member
    )


def build(province: Region, scheme: AgeScheme, *, ref: dt.date | None = None) -> Pack:
    """Every figure of the pack for `province` (fixed number of queries)."""
    ref = ref or derived.reference_date()
    today = timezone.localdate()
    code = province.digits
    kabs = list(
        Region.objects.current()
        .filter(prefix_q("digits", code), level=Level.KABKOTA)
        .values_list("digits", "name")
    )
    rows = {k: KabRow(k, name) for k, name in kabs}
    bucket_labels = [b.label for b in derived.buckets(scheme)]
    for kab, s in derived.person_summary(code, scheme, ref).items():
        row = rows.get(kab)
        if row:
            row.persons, row.ages, row.age_unknown = s["persons"], s["ages"], s["age_unknown"]
            row.informal_share, row.completeness = s["informal_share"], s["completeness"]
    flag_rows = (
        ExclusionFlag.objects.filter(prefix_q("region_code", code), status=FlagStatus.OPEN)
        .annotate(kab=Substr("region_code", 1, 4))
        .values("kab", "code")
        .annotate(n=Count("id"))
    )
    used_rules: set[str] = set()
    for r in flag_rows:
        if row := rows.get(r["kab"]):
            row.flags[r["code"]] = r["n"]
            row.flags_total += r["n"]
            used_rules.add(r["code"])
    for r in (
        NikDuplicateGroup.objects.filter(prefix_q("region_code", code), status=WorkStatus.OPEN)
        .values("region_code")
        .annotate(n=Count("id"))
    ):
        if row := rows.get(r["region_code"]):
            row.nik_ganda = r["n"]
    flagged = ExclusionFlag.objects.filter(family_id=OuterRef("pk"), status=FlagStatus.OPEN)
    for r in (
        kpm_families(code, today)
        .annotate(kab=Substr("region_code", 1, 4), flagged=Exists(flagged))
        .values("kab")
        .annotate(n=Count("id"), f=Count("id", filter=Q(flagged=True)))
    ):
        if row := rows.get(r["kab"]):
            row.kpm, row.kpm_flagged = r["n"], r["f"]
    for r in (
        ReviewTaskItem.objects.filter(task__province_code=code[:2], task__region_code__in=rows)
        .values("task__region_code")
        .annotate(n=Count("id"), closed=Count("id", filter=~Q(state=TaskItemState.OPEN)))
    ):
        if row := rows.get(r["task__region_code"]):
            row.tasks_total, row.tasks_closed = r["n"], r["closed"]
    names = dict(
        EligibilityRule.objects.filter(code__in=used_rules)
        .order_by("code", "-version")
        .values_list("code", "name")
    )
    rule_cols = sorted((c, names.get(c, c)) for c in used_rules)
    return Pack(province, scheme, ref, list(rows.values()), rule_cols, bucket_labels)


def xlsx(pack: Pack) -> bytes:
    """The pack as an xlsx workbook: one sheet, one row per kab/kota (write-only mode)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Paket provinsi")
    sheet.append([f"Paket tinjauan provinsi {pack.province.name}", str(pack.reference_date)])
    header = [
        "Kode kab/kota",
        "Kab/kota",
        "Individu aktif",
        *[f"Umur {label}" for label in pack.buckets],
        "Umur tidak diketahui",
        "Pekerja informal (%)",
        "Kelengkapan (%)",
        "NIK ganda (terbuka)",
        "Tanda tidak layak (terbuka)",
        *[f"Tanda: {name}" for _code, name in pack.rules],
        "KPM",
        "KPM bertanda",
        "Butir tugas",
        "Butir selesai (%)",
    ]
    sheet.append(header)
    for r in pack.rows:
        sheet.append(
            [
                r.code,
                r.name,
                r.persons,
                *([n for _label, n in r.ages] or [0] * len(pack.buckets)),
                r.age_unknown,
                _pct(r.informal_share),
                _pct(r.completeness),
                r.nik_ganda,
                r.flags_total,
                *[r.flags.get(code, 0) for code, _name in pack.rules],
                r.kpm,
                r.kpm_flagged,
                r.tasks_total,
                _pct(r.closure),
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _pct(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


# --- task lists -----------------------------------------------------------------------------


def flagged_kpm_flags(code: str, today: dt.date) -> QuerySet[ExclusionFlag]:
    """Open flags on members of KPM families in `code`, not already on an open task item."""
    own, member = recipient_exists(today)
    kpm = Family.objects.filter(status__in=list(ACTIVE)).filter(own | member)
    on_task = ReviewTaskItem.objects.filter(flag_id=OuterRef("pk"), state=TaskItemState.OPEN)
    return (
        ExclusionFlag.objects.filter(prefix_q("region_code", code), status=FlagStatus.OPEN)
        .filter(family__in=kpm)
        .exclude(Exists(on_task))
    )


def send_tasks(*, by: User, province: Region, note: str = "") -> list[ReviewTask]:
    """One task list per kab/kota with flagged KPM; notifies its kab/kota users."""
    ensure_pack(by, province.digits)
    today = timezone.localdate()
    rows = list(
        flagged_kpm_flags(province.digits, today).values_list("pk", "person_id", "region_code")
    )
    per_kab: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for flag_id, person_id, region in rows:
        per_kab[region[:4]].append((flag_id, person_id, region))
    if not per_kab:
        return []
    title = f"Tindak lanjut KPM bertanda {today:%d-%m-%Y}"
    with transaction.atomic():
        tasks = ReviewTask.objects.bulk_create(
            [
                ReviewTask(
                    region_code=kab,
                    province_code=province.digits[:2],
                    title=title,
                    note=note,
                    created_by=by,
                    item_count=len(items),
                )
                for kab, items in sorted(per_kab.items())
            ]
        )
        ReviewTaskItem.objects.bulk_create(
            [
                ReviewTaskItem(task=task, flag_id=f, person_id=p, region_code=region)
                for task in tasks
                for f, p, region in per_kab[task.region_code]
            ],
            batch_size=2000,
        )
        users = User.objects.filter(
            is_active=True, role__in=list(KABKOTA_ROLES), scope__in=list(per_kab)
        ).values_list("pk", "scope")
        task_of = {t.region_code: t for t in tasks}
        Notification.objects.bulk_create(
            [
                Notification(
                    user_id=pk,
                    message_id=(
                        f"Provinsi mengirim daftar tugas: {task_of[scope].item_count} KPM "
                        "bertanda tidak layak untuk ditindaklanjuti."
                    ),
                    message_en=(
                        f"The province sent a task list: {task_of[scope].item_count} flagged "
                        "recipients to act on."
                    ),
                    link=reverse("quality:task", args=[task_of[scope].pk]),
                )
                for pk, scope in users
            ]
        )
    return tasks


def tasks_for(user: Any) -> QuerySet[ReviewTask]:
    """Task lists in the user's scope (kab/kota users: their own; province: its kab/kota)."""
    return ReviewTask.objects.filter(prefix_q("region_code", user.scope[:4])).annotate(
        closed=Count("items", filter=~Q(items__state=TaskItemState.OPEN))
    )
