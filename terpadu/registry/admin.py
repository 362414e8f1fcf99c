"""Django admin for the registry, scoped by region and writing history like every other path.

Person/Family/Household edits go through `records.update_*` with a required reason, so an
admin correction leaves the same Change row as a form or an import. Nothing is deleted and
nothing is added here: new households arrive through proposals and imports, which validate
the whole household at once.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from terpadu.accounts.access import Action, role_allows
from terpadu.accounts.admin_scope import ScopedAdminMixin
from terpadu.accounts.models import Role
from terpadu.lib.nik import mask_nik
from terpadu.registry import records
from terpadu.registry.models import (
    PSKS,
    Change,
    ChangeSet,
    Family,
    FamilyMembership,
    Household,
    Person,
    PersonPPKS,
    PPKSType,
    Program,
    ProgramMembership,
    PSKSType,
)

_STATUS_READONLY = ("status", "nonaktif_reason", "created_at", "updated_at")


class ReasonForm(forms.ModelForm):
    """Adds the required reason for the change and checks values with records' rules."""

    reason = forms.CharField(
        label=_("Alasan perubahan"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Wajib: dicatat dalam riwayat perubahan."),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        changes = {n: cleaned.get(n) for n in self.changed_data if n in cleaned and n != "reason"}
        for issue in records.check_changes(self.instance, changes):
            if issue.severity != "error":
                continue
            field = issue.path if issue.path in self.fields else None
            self.add_error(field, issue.message)
        return cleaned


class RecordAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Scoped, no add/delete; saves through `update_fn` so history is written.

    The registry changes through determined proposals; the admin form is only for audited
    administrative corrections by a superuser (reason required, source ADMIN in history).
    Every other staff role reads here and proposes through /usulan/.
    """

    form = ReasonForm
    update_fn: Any = None

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        changes = {n: form.cleaned_data[n] for n in form.changed_data if n != "reason"}
        # The form already copied the new values onto `obj`; records compares with the
        # database row, so hand it a fresh instance and let it write.
        fresh = type(obj).objects.get(pk=obj.pk)
        type(self).update_fn(
            fresh,
            by=request.user,
            changes=changes,
            reason=form.cleaned_data["reason"],
            source=ChangeSet.Source.ADMIN,
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # No inlines or m2m here; skipping avoids a second, history-less save.
        return None


@admin.register(Household)
class HouseholdAdmin(RecordAdmin):
    update_fn = staticmethod(records.update_household)
    list_display = ("pk", "region_code", "address", "status", "desil")
    list_filter = ("status", "kelayakan")
    # Exact, not "=" (iexact, UPPER(...) = UPPER(...)), so that the b-tree indexes answer.
    search_fields = ("id_dtks__exact", "region_code__exact")
    raw_id_fields = ("region",)
    readonly_fields = ("region_code", *_STATUS_READONLY)
    list_select_related = ("region",)


@admin.register(Family)
class FamilyAdmin(RecordAdmin):
    update_fn = staticmethod(records.update_family)
    list_display = ("pk", "masked_kk", "region_code", "nuk", "status")
    list_filter = ("status",)
    search_fields = ("no_kk__exact",)
    raw_id_fields = ("head",)
    readonly_fields = ("household", "region_code", *_STATUS_READONLY)

    @admin.display(description=_("No KK"))
    def masked_kk(self, obj: Family) -> str:
        return mask_nik(obj.no_kk)


@admin.register(Person)
class PersonAdmin(RecordAdmin):
    update_fn = staticmethod(records.update_person)
    list_display = ("name", "masked_nik", "region_code", "sex", "status")
    list_filter = ("status", "sex", "padan")
    search_fields = ("nik__exact", "^name_norm")
    readonly_fields = (
        "household",
        "family",
        "region_code",
        "name_norm",
        "informal_work",
        *_STATUS_READONLY,
    )

    @admin.display(description=_("NIK"))
    def masked_nik(self, obj: Person) -> str:
        return mask_nik(obj.nik)


class ReadOnlyScopedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """History-bearing rows: visible in scope, written only by records/imports/proposals."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(FamilyMembership)
class FamilyMembershipAdmin(ReadOnlyScopedAdmin):
    list_display = ("person", "family", "relation_kk", "valid_from", "valid_to")
    list_select_related = ("person", "family")
    raw_id_fields = ("person", "family")


@admin.register(ProgramMembership)
class ProgramMembershipAdmin(ReadOnlyScopedAdmin):
    list_display = ("program", "person", "family", "period_from", "period_to", "status")
    list_filter = ("program", "status")
    list_select_related = ("program", "person", "family")
    raw_id_fields = ("person", "family")


@admin.register(PersonPPKS)
class PersonPPKSAdmin(ReadOnlyScopedAdmin):
    list_display = ("person", "ppks_type", "since", "until")
    list_select_related = ("person", "ppks_type")
    raw_id_fields = ("person",)


@admin.register(PSKS)
class PSKSAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "psks_type", "region_code", "registration_number", "active")
    list_filter = ("psks_type", "active")
    list_select_related = ("psks_type",)
    raw_id_fields = ("person", "region")
    readonly_fields = ("region_code",)

    def save_model(self, request: HttpRequest, obj: PSKS, form: Any, change: bool) -> None:
        # The scope column follows the chosen region; the mixin then checks it.
        obj.region_code = obj.region.digits
        super().save_model(request, obj, form, change)


@admin.register(ChangeSet)
class ChangeSetAdmin(ReadOnlyScopedAdmin):
    scope_field = "actor_scope"  # changesets have no record region; scope by the actor's
    log_views = False
    list_display = ("at", "actor", "actor_role", "actor_scope", "source", "source_ref")
    list_filter = ("source",)
    list_select_related = ("actor",)


@admin.register(Change)
class ChangeAdmin(ReadOnlyScopedAdmin):
    list_display = ("changeset", "entity", "entity_id", "region_code", "action")
    list_filter = ("entity", "action")
    list_select_related = ("changeset",)
    search_fields = ("=entity_id",)


def _may_edit_reference(request: HttpRequest) -> bool:
    user = request.user
    return user.is_active and (user.is_superuser or getattr(user, "role", "") == Role.PUSAT)


class ReferenceAdmin(admin.ModelAdmin):
    """National reference tables: everyone with a registry role reads, only pusat edits."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_staff and role_allows(request.user, Action.LIST)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _may_edit_reference(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return _may_edit_reference(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(PPKSType)
class PPKSTypeAdmin(ReferenceAdmin):
    list_display = ("code", "abbrev", "name", "name_en")


@admin.register(PSKSType)
class PSKSTypeAdmin(ReferenceAdmin):
    list_display = ("code", "name", "unit")


@admin.register(Program)
class ProgramAdmin(ReferenceAdmin):
    list_display = ("code", "name", "target", "region", "active")
    list_filter = ("target", "active")
