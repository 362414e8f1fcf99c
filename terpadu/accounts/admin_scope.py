"""Region scoping for Django admin pages, so /admin/ is no way around access.py.

Every app's ModelAdmin for region-bound data mixes this in::

    @admin.register(Household)
    class HouseholdAdmin(ScopedAdminMixin, admin.ModelAdmin):
        scope_field = "region_code"          # or "household__region_code"

Non-superuser staff then see only rows in their subtree and may do only what `can()` allows
for their role; nobody (superusers included) may delete: registry rows are never hard-deleted,
deactivation is a status with a reason (design.md §1a). Opening one record's change page is
written to the AccessLog, like any other read of a full record.
"""

from __future__ import annotations

from functools import reduce
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse

from terpadu.accounts.access import Action, can, in_scope, log_access, role_allows


class ScopedAdminMixin:
    """ModelAdmin mixin: queryset and permissions from access.py (see module docstring)."""

    scope_field: str = "region_code"
    # Log opening a record's change page (full record, possibly with NIK: UU PDP).
    log_views: bool = True

    def region_code_of(self, obj: Model) -> str:
        """Follow `scope_field` (``a__b__region_code``) on one object."""
        value: Any = reduce(
            lambda o, name: getattr(o, name, None), self.scope_field.split("__"), obj
        )
        return value or ""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs: QuerySet[Any] = super().get_queryset(request)  # type: ignore[misc]
        return in_scope(qs, request.user, Action.LIST, field=self.scope_field)

    def has_module_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return user.is_active and user.is_staff and role_allows(user, Action.LIST)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if obj is None:
            return role_allows(request.user, Action.LIST)
        return can(request.user, Action.VIEW, self.region_code_of(obj))

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        if obj is None:
            return role_allows(request.user, Action.EDIT)
        return can(request.user, Action.EDIT, self.region_code_of(obj))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return role_allows(request.user, Action.EDIT)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        # A new or moved row must land inside the editor's scope, not just start there.
        if not can(request.user, Action.EDIT, self.region_code_of(obj)):
            raise PermissionDenied
        super().save_model(request, obj, form, change)  # type: ignore[misc]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        response: HttpResponse = super().change_view(  # type: ignore[misc]
            request, object_id, form_url, extra_context
        )
        if self.log_views and request.method == "GET" and response.status_code == 200:
            obj = self.get_object(request, object_id)  # type: ignore[attr-defined]
            if obj is not None:
                log_access(
                    request,
                    action="admin_view",
                    entity=obj._meta.label,
                    entity_id=obj.pk,
                    region_code=self.region_code_of(obj),
                )
        return response
