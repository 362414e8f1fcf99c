"""Admin for accounts and their logs. Users are scoped like the rest of the admin: an admin
sees accounts in its subtree only and may give only the roles `can_manage_user` allows."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from terpadu.accounts.access import (
    Action,
    can_edit_user,
    can_manage_user,
    role_allows,
    users_in_scope,
)
from terpadu.accounts.forms import AdminLoginForm
from terpadu.accounts.models import AccessLog, LoginAttempt, User, UserEvent
from terpadu.accounts.services import EDITABLE_FIELDS, change_value
from terpadu.regions.models import Region

# The admin login gets the same lockout as the site login.
admin.site.login_form = AdminLoginForm

# Only superusers may touch these: they grant power outside the role model.
PRIVILEGE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


class ScopedUserFormMixin:
    """Refuse a role/region pair the editing admin may not hand out."""

    acting_user: User | None = None

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        actor = self.acting_user
        role, region = cleaned.get("role", ""), cleaned.get("region")
        if actor is None or (actor.is_superuser and not role):
            return cleaned
        if not can_manage_user(actor, role, region):
            raise ValidationError(
                _(
                    "Anda tidak berwenang memberi peran ini di wilayah ini, atau tingkat wilayah "
                    "tidak sesuai dengan peran."
                ),
                code="not_allowed",
            )
        return cleaned


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "first_name", "role", "region", "is_active", "last_login")
    list_filter = ("role", "is_active", "is_staff")
    list_select_related = ("region",)
    search_fields = ("username", "first_name", "last_name", "email", "scope")
    raw_id_fields = ("region",)  # 83 k desa: too many for a <select>
    readonly_fields = ("scope", "created_by", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Data pribadi"), {"fields": ("first_name", "last_name", "email", "phone")}),
        (_("Peran dan wilayah"), {"fields": ("role", "region", "scope", "psks_number")}),
        (_("Status"), {"fields": ("is_active", *PRIVILEGE_FIELDS)}),
        (_("Waktu"), {"fields": ("last_login", "date_joined", "created_by")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "first_name",
                    "email",
                    "role",
                    "region",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, **kwargs)
        # A subclass per request carries the acting user into clean().
        return type(form.__name__, (ScopedUserFormMixin, form), {"acting_user": request.user})

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += PRIVILEGE_FIELDS
        return fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return users_in_scope(request.user).select_related("region")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_staff and role_allows(request.user, Action.MANAGE_USERS)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return role_allows(request.user, Action.MANAGE_USERS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return role_allows(request.user, Action.MANAGE_USERS)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return role_allows(request.user, Action.MANAGE_USERS)
        return can_edit_user(request.user, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # deactivate instead: the account id stays on every history row

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # The admin is a fallback UI; it still leaves the same audit rows as services.py.
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        fields = [
            f
            for f in (*EDITABLE_FIELDS, "is_active", "is_staff", "is_superuser")
            if f in form.changed_data
        ]
        changes: dict[str, list[Any]] = {}
        for f in fields:
            before = form.initial.get(f) if change else None
            if f == "region" and before is not None:
                # form.initial holds the region's pk; record codes, as services.py does.
                before = Region.objects.filter(pk=before).first()
            changes[f] = [change_value(f, before), change_value(f, getattr(obj, f))]
        kind = UserEvent.Kind.UPDATED if change else UserEvent.Kind.CREATED
        if change and fields == ["is_active"]:
            kind = UserEvent.Kind.REACTIVATED if obj.is_active else UserEvent.Kind.DEACTIVATED
        if changes or not change:
            UserEvent.objects.create(
                user=obj, actor=request.user, kind=kind, changes=changes, note="admin"
            )


class ReadOnlyLogAdmin(admin.ModelAdmin):
    """Logs are evidence: viewable by superusers, never editable."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyLogAdmin):
    list_display = ("at", "user", "action", "entity", "entity_id", "region_code", "ip")
    list_filter = ("action", "entity")
    search_fields = ("user__username", "entity_id", "region_code")
    list_select_related = ("user",)
    date_hierarchy = "at"


@admin.register(UserEvent)
class UserEventAdmin(ReadOnlyLogAdmin):
    list_display = ("at", "user", "kind", "actor", "note")
    list_filter = ("kind",)
    search_fields = ("user__username", "actor__username")
    list_select_related = ("user", "actor")


@admin.register(LoginAttempt)
class LoginAttemptAdmin(ReadOnlyLogAdmin):
    list_display = ("at", "username", "ip", "succeeded")
    list_filter = ("succeeded",)
    search_fields = ("username", "ip")
