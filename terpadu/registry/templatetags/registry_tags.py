"""Template helpers for registry pages: masked NIK, code labels, age, status badges."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone

from terpadu.lib.nik import mask_nik as _mask_nik
from terpadu.registry.codelists import label_for
from terpadu.registry.models import RecordStatus

register = template.Library()


@register.filter
def mask_nik(value: str | None) -> str:
    """``1371014101900001`` → ``137101********01``; '' for an unknown NIK."""
    return _mask_nik(value) if value else ""


@register.simple_tag
def code_label(obj: Any, field: str) -> str:
    """The code-list label of `obj.field` in the row's own code-list version."""
    value = getattr(obj, field, None)
    if value is None or value == "":
        return ""
    return label_for(obj, field)


@register.filter
def age(birth_date: dt.date | None, on: dt.date | None = None) -> int | str:
    """Completed years on `on` (today by default); '' when the birth date is unknown."""
    if not birth_date:
        return ""
    today = on or timezone.localdate()
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - before_birthday


_BADGE = {
    RecordStatus.AKTIF: "badge-aktif",
    RecordStatus.AKTIF_BERMASALAH: "badge-bermasalah",
    RecordStatus.NONAKTIF: "badge-nonaktif",
}


@register.inclusion_tag("registry/_status_badge.html")
def status_badge(obj: Any) -> dict[str, Any]:
    """Status badge with the nonaktif reason, for any row with the status dimensions."""
    return {
        "css": _BADGE.get(obj.status, "badge-warn"),
        "label": obj.get_status_display(),
        "reason": obj.get_nonaktif_reason_display() if obj.nonaktif_reason else "",
    }


_ENTITY_MODELS: dict[str, Any] = {}


def _model_for(entity: str) -> Any:
    if not _ENTITY_MODELS:
        from terpadu.registry.models import Family, Household, Person

        _ENTITY_MODELS.update(household=Household, family=Family, person=Person)
    return _ENTITY_MODELS.get(entity)


@register.simple_tag
def diff_rows(change: Any) -> list[tuple[str, Any, Any]]:
    """(field label, before, after) for one Change, labels from the model's verbose names."""
    model = _model_for(change.entity)
    rows = []
    for name, pair in (change.diff or {}).items():
        before, after = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
        try:
            verbose = str(model._meta.get_field(name).verbose_name) if model else name
        except Exception:  # a field renamed since the change was written
            verbose = name
        rows.append((verbose, before, after))
    return rows


@register.filter
def role_label(role: str) -> str:
    """Display name of a role code as stored on a ChangeSet (kept if since renamed)."""
    from terpadu.accounts.models import Role

    try:
        return str(Role(role).label)
    except ValueError:
        return role
