"""Small display helpers of the proposals templates.

{% load proposals_tags %}
{{ comment.author_role|role_label }}   "operator_desa" → "Operator desa/kelurahan"
"""

from __future__ import annotations

from django import template

from terpadu.accounts.models import Role

register = template.Library()


@register.filter
def role_label(code: str) -> str:
    """The (translated) name of a role stored as its code; unknown codes are shown as is."""
    try:
        return str(Role(code).label)
    except ValueError:
        return code or ""
