"""Quality in the admin: rules and age schemes are data an administrator versions here;
worklists, flags and decisions are read-only (they change only through the quality pages)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from terpadu.quality.models import (
    AgeScheme,
    EligibilityRule,
    ExclusionFlag,
    QualityDecision,
    QualityRun,
    ReferenceList,
)


@admin.register(EligibilityRule)
class EligibilityRuleAdmin(admin.ModelAdmin):
    """A changed rule is a new version row (copy, raise `version`, close the old one with
    `effective_to`), so flags keep pointing at the rule version they met."""

    list_display = ("code", "version", "name", "kind", "effective_from", "effective_to", "active")
    list_filter = ("kind", "active", "hard")
    search_fields = ("code", "name", "legal_reference")


@admin.register(AgeScheme)
class AgeSchemeAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "source")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReferenceList)
class ReferenceListAdmin(ReadOnlyAdmin):
    list_display = ("kind", "name", "source", "region_code", "valid_as_of", "entry_count", "active")
    list_filter = ("kind", "active")


@admin.register(ExclusionFlag)
class ExclusionFlagAdmin(ReadOnlyAdmin):
    list_display = ("code", "version", "person_id", "region_code", "status", "created_at")
    list_filter = ("code", "status")
    raw_id_fields = ("person", "household", "family", "rule", "proposal", "decided_by")


@admin.register(QualityDecision)
class QualityDecisionAdmin(ReadOnlyAdmin):
    list_display = ("at", "subject", "subject_id", "action", "by", "region_code")
    list_filter = ("subject", "action")


@admin.register(QualityRun)
class QualityRunAdmin(ReadOnlyAdmin):
    list_display = ("pk", "region_code", "state", "source", "created_at", "finished_at")
    list_filter = ("state", "source")
