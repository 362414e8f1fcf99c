"""Template helpers of the quality app: percentages and open-flag badges on registry pages."""

from __future__ import annotations

from typing import Any

from django import template

from terpadu.quality.models import ExclusionFlag, FlagStatus, NikDuplicateMember, WorkStatus

register = template.Library()


@register.filter
def pct(share: float | None) -> str:
    """0.123 → "12,3 %"; None → "–"."""
    if share is None:
        return "–"
    return f"{share * 100:.1f} %".replace(".", ",")


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    return (mapping or {}).get(key, 0)


@register.inclusion_tag("quality/_badges.html")
def quality_badges(person: Any = None, household: Any = None) -> dict[str, Any]:
    """Open tidak-layak flags and NIK ganda groups of a person (or a household's members):
    two queries, shown as badges linking to the quality pages."""
    flags = ExclusionFlag.objects.filter(status=FlagStatus.OPEN)
    members = NikDuplicateMember.objects.filter(group__status=WorkStatus.OPEN)
    if person:
        flags, members = flags.filter(person=person), members.filter(person=person)
    elif household:
        flags, members = flags.filter(household=household), members.filter(household=household)
    else:
        return {"flags": [], "groups": []}
    return {
        "flags": list(flags.values("pk", "label").order_by("code")[:20]),
        "groups": list(
            members.values("group_id", "group__kind").order_by("group_id").distinct()[:20]
        ),
    }
