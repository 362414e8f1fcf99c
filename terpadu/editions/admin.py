"""Editions in the admin: read-only. A determined edition is frozen (issue 5 §6); the only
way to create one is `determination.determine_edition`, from the penetapan pages."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from terpadu.editions.models import Edition


@admin.register(Edition)
class EditionAdmin(admin.ModelAdmin):
    list_display = ("period", "decree_number", "decree_date", "signatory", "determined_at")
    search_fields = ("period", "decree_number")
    readonly_fields = [f.name for f in Edition._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
