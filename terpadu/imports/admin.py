"""Read-mostly admin for import jobs (operators use the imports pages)."""

from __future__ import annotations

from django.contrib import admin

from terpadu.imports.models import ImportIssue, ImportJob, MappingTemplate, QuarantinedRow


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "original_name",
        "region_code",
        "mode",
        "status",
        "rows_total",
        "rows_invalid",
        "rows_applied",
        "created_by",
        "created_at",
    )
    list_filter = ("status", "mode", "fmt")
    search_fields = ("original_name", "region_code", "sha256")
    raw_id_fields = ("created_by", "region", "duplicate_of", "template", "changeset", "applied_by")
    readonly_fields = ("sha256", "size", "summary", "headers", "mapping")


@admin.register(MappingTemplate)
class MappingTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "region", "created_by", "created_at")
    raw_id_fields = ("region", "created_by")


@admin.register(ImportIssue)
class ImportIssueAdmin(admin.ModelAdmin):
    list_display = ("job", "row_no", "column_header", "rule", "severity")
    list_filter = ("severity", "rule")
    raw_id_fields = ("job",)


@admin.register(QuarantinedRow)
class QuarantinedRowAdmin(admin.ModelAdmin):
    list_display = ("job", "row_no", "status")
    list_filter = ("status",)
    raw_id_fields = ("job",)
