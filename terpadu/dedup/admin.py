"""Dedup in the admin: read-only, for review and audit.

Models, runs, candidate pairs and decisions change only through the dedup pages and jobs
(runs.py, decisions.py), so nothing here is added, changed or deleted. Rows are scoped like
the dedup pages (access.py): only the roles that read the review queue see them, each within
its region; a pair shows only when both of its persons lie in the user's scope.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from terpadu.accounts.access import Action, can
from terpadu.accounts.admin_scope import ScopedAdminMixin
from terpadu.dedup.access import may_read, pairs_in_scope
from terpadu.dedup.models import CandidatePair, DecisionEvent, DedupModel, DedupRun


class DedupReadOnlyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Scoped, view only, for the roles that may read the dedup pages."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return super().has_module_permission(request) and may_read(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return may_read(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(DedupModel)
class DedupModelAdmin(DedupReadOnlyAdmin):
    """Trained models hold Splink settings and m/u parameters, no personal data; every model
    is used everywhere (runs and entry checks), so every dedup reader sees all of them."""

    log_views = False
    list_display = ("version", "trained_at", "trained_by", "scope")
    list_select_related = ("trained_by",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = admin.ModelAdmin.get_queryset(self, request)
        return qs if may_read(request.user) else qs.none()

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return may_read(request.user)


@admin.register(DedupRun)
class DedupRunAdmin(DedupReadOnlyAdmin):
    scope_field = "scope"
    log_views = False  # counts and progress only, no person data
    list_display = ("pk", "scope", "state", "started_by", "started_at", "finished_at", "model")
    list_filter = ("state", "retrain")
    list_select_related = ("started_by", "model")
    search_fields = ("=scope",)


@admin.register(CandidatePair)
class CandidatePairAdmin(DedupReadOnlyAdmin):
    list_display = (
        "pk",
        "person_a",
        "person_b",
        "region_code",
        "region_code_b",
        "probability",
        "status",
        "decided_by",
        "proposal",
    )
    list_filter = ("status",)
    list_select_related = ("person_a", "person_b", "decided_by", "proposal")
    search_fields = ("=region_code", "=person_a__id", "=person_b__id")
    ordering = ("-probability", "pk")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # Both persons in scope, exactly like the review queue.
        return pairs_in_scope(super().get_queryset(request), request.user)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if not super().has_view_permission(request, obj):
            return False
        if obj is None:
            return True
        return can(request.user, Action.VIEW, obj.region_code_b)  # type: ignore[attr-defined]


@admin.register(DecisionEvent)
class DecisionEventAdmin(DedupReadOnlyAdmin):
    scope_field = "pair__region_code"
    log_views = False  # who decided what; the persons are behind the pair's page
    list_display = ("at", "pair", "decision", "actor", "actor_role", "bulk", "proposal")
    list_filter = ("decision", "bulk")
    list_select_related = ("pair", "actor", "proposal")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        # The pair's second person must be in scope too (see CandidatePairAdmin).
        pairs = pairs_in_scope(CandidatePair.objects.all(), request.user)
        return qs.filter(pair__in=pairs.values("pk"))
