"""Template access checks, so templates ask access.py instead of re-deriving roles.

{% load terpadu_access %}
{% if user|allows:"manage_users" %} ... {% endif %}
{% if user|can_on:"export_nik,1371" %} ... {% endif %}
"""

from __future__ import annotations

from typing import Any

from django import template

from terpadu.accounts.access import Action, can, role_allows

register = template.Library()


@register.filter
def allows(user: Any, action: str) -> bool:
    """Whether the user's role permits `action` anywhere (access.role_allows)."""
    try:
        return role_allows(user, Action(action))
    except ValueError:
        return False


@register.filter
def can_on(user: Any, spec: str) -> bool:
    """``"action,region_code"`` → access.can(user, action, region_code)."""
    action, _, region_code = spec.partition(",")
    try:
        return can(user, Action(action), region_code)
    except ValueError:
        return False
