"""Template helpers for the inbox on the home page and the unread badge in the navigation.

{% load proposals_inbox %}
{% inbox_panel %}                 the inbox fragment, rendered in place
{% unread_count as n %}           unread notifications, one query per request
"""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

_CACHE_ATTR = "_terpadu_unread_count"


@register.inclusion_tag("proposals/inbox/_inbox.html", takes_context=True)
def inbox_panel(context: template.Context) -> dict[str, Any]:
    from terpadu.proposals.views.inbox import inbox_context

    request = context["request"]
    return {
        "request": request,
        "user": request.user,
        "csrf_token": context.get("csrf_token"),
        **inbox_context(request.user),
    }


@register.simple_tag(takes_context=True)
def unread_count(context: template.Context) -> int:
    """Unread notifications of the signed-in user, counted once per request."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or not getattr(user, "is_authenticated", False):
        return 0
    if not hasattr(request, _CACHE_ATTR):
        setattr(request, _CACHE_ATTR, user.notifications.filter(read_at__isnull=True).count())
    return int(getattr(request, _CACHE_ATTR))
