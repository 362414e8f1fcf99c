"""Derived fields for reports (issue 7 §6), computed set-based on demand, never stored in the
registry: age category at the edition's reference date, formal/informal work, completeness.

Age buckets are turned into birth-date ranges in Python (age ≥ a at the reference date ⇔
born on or before ref − a years), so one portable, index-friendly query counts every bucket
of a scheme per kab/kota — overlapping buckets (programme schemes) included. Informal work is
the registry's own derived `informal_work` (codelists.is_informal, BPS 1,2,6,7,8).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Case, Count, FloatField, IntegerField, Q, QuerySet, Value, When
from django.db.models.functions import Substr
from django.utils import timezone

from terpadu.proposals.integrity import ACTIVE
from terpadu.quality.models import AgeScheme
from terpadu.regions.models import prefix_q
from terpadu.registry.models import Person

# The attributes every person record should carry ("kelengkapan atribut", domain.md §11.36).
MANDATORY_PERSON_FIELDS: tuple[str, ...] = (
    "nik",
    "name",
    "birth_place",
    "birth_date",
    "relation_kk",
    "mother_name",
    "marital_status",
    "education_level",
    "id_cards",
    "worked_last_week",
)
_TEXT_FIELDS = frozenset({"nik", "name", "birth_place", "mother_name"})


@dataclass(frozen=True)
class Bucket:
    label: str
    min: int
    max: int | None

    def birth_range(self, ref: dt.date) -> Q:
        """Q on birth_date for "age in [min, max] at `ref`"."""
        q = Q(birth_date__lte=years_before(ref, self.min))
        if self.max is not None:
            q &= Q(birth_date__gt=years_before(ref, self.max + 1))
        return q


def years_before(ref: dt.date, years: int) -> dt.date:
    """`ref` minus whole years (29 Feb → 28 Feb)."""
    try:
        return ref.replace(year=ref.year - years)
    except ValueError:
        return ref.replace(year=ref.year - years, day=28)


def reference_date() -> dt.date:
    """The latest edition's decree date (penetapan reference), else today."""
    from terpadu.editions.models import Edition

    found = Edition.objects.order_by("-period").values_list("decree_date", flat=True).first()
    return found or timezone.localdate()


def buckets(scheme: AgeScheme) -> list[Bucket]:
    return [Bucket(b["label"], int(b["min"]), b.get("max")) for b in scheme.buckets]


def active_persons(scope: str) -> QuerySet[Person]:
    return Person.objects.filter(prefix_q("region_code", scope), status__in=list(ACTIVE))


def completeness_expr() -> Any:
    """Share (0–1) of MANDATORY_PERSON_FIELDS filled, as one SQL expression."""
    parts = []
    for name in MANDATORY_PERSON_FIELDS:
        filled = Q(**{f"{name}__isnull": False})
        if name in _TEXT_FIELDS:
            filled &= ~Q(**{name: ""})
        parts.append(
            Case(When(filled, then=Value(1)), default=Value(0), output_field=IntegerField())
        )
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total * Value(1.0, output_field=FloatField()) / Value(float(len(parts)))


def person_summary(
    scope: str, scheme: AgeScheme, ref: dt.date, *, by_kabkota: bool = True
) -> dict[str, dict[str, Any]]:
    """Per kab/kota (or one "" key): persons, per-bucket counts, unknown age, informal workers
    and persons with a known work status, mean completeness. One query."""
    bs = buckets(scheme)
    aggregates: dict[str, Any] = {
        "persons": Count("id"),
        "age_unknown": Count("id", filter=Q(birth_date__isnull=True)),
        "informal": Count("id", filter=Q(informal_work=True)),
        "work_known": Count("id", filter=Q(informal_work__isnull=False)),
        "completeness": Avg(completeness_expr()),
    }
    for i, b in enumerate(bs):
        aggregates[f"b{i}"] = Count("id", filter=b.birth_range(ref))
    qs = active_persons(scope)
    if by_kabkota:
        rows = qs.annotate(kab=Substr("region_code", 1, 4)).values("kab").annotate(**aggregates)
    else:
        rows = [dict(kab="", **qs.aggregate(**aggregates))]
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        kab = row["kab"]
        out[kab] = {
            "persons": row["persons"],
            "age_unknown": row["age_unknown"],
            "ages": [(b.label, row[f"b{i}"]) for i, b in enumerate(bs)],
            "informal": row["informal"],
            "work_known": row["work_known"],
            "informal_share": (row["informal"] / row["work_known"]) if row["work_known"] else None,
            "completeness": row["completeness"],
        }
    return out
