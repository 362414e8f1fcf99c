"""Region admin: read-mostly. Codes and names come from the Kepmendagri dataset through
`load_regions`; the only hand edit is `successor_codes` (which new code replaced a retired one),
a fact the dataset does not carry."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from terpadu.regions.models import Region


class CurrentFilter(admin.SimpleListFilter):
    title = _("status berlaku")
    parameter_name = "berlaku"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("ya", _("Masih berlaku")), ("tidak", _("Sudah tidak berlaku"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Region]) -> QuerySet[Region]:
        if self.value() == "ya":
            return queryset.filter(valid_to__isnull=True)
        if self.value() == "tidak":
            return queryset.filter(valid_to__isnull=False)
        return queryset


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin[Region]):
    list_display = ("code", "name", "level", "kind", "valid_from", "valid_to", "source_version")
    list_filter = ("level", "kind", CurrentFilter, "source_version")
    # ^ = starts-with: "13.71" or "1371" finds the subtree through the code indexes.
    search_fields = ("^code", "^digits", "name")
    search_help_text = _("Kode (awalan, dengan atau tanpa titik) atau nama wilayah.")
    ordering = ("digits", "valid_from")
    list_per_page = 100
    raw_id_fields = ("parent",)
    readonly_fields = (
        "code",
        "digits",
        "level",
        "kind",
        "name",
        "parent",
        "valid_from",
        "valid_to",
        "source_version",
    )
    fields = (*readonly_fields, "successor_codes")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Region | None = None) -> bool:
        # Never deleted: users and registry rows keep pointing at retired codes.
        return False
