"""Import jobs: an uploaded registry file, its mapping, its dry-run findings and its apply.

All state of a job lives in its `ImportJob` row (status, counters, timestamps, summary), so
the progress page survives a reload and a worker restart can tell where a job stood.
Findings are `ImportIssue` rows (bulk-inserted, one per broken rule per cell); rows kept
back by a quarantined apply are `QuarantinedRow` rows with their original cells.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Mode(models.TextChoices):
    PROPOSAL = "proposal", _("Usulan (baru/perbaikan)")
    DIRECT = "direct", _("Muat langsung (admin kab/kota)")


class JobStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Diunggah")
    MAPPED = "mapped", _("Kolom dipetakan")
    VALIDATING = "validating", _("Sedang diperiksa")
    VALIDATED = "validated", _("Selesai diperiksa")
    APPLYING = "applying", _("Sedang diterapkan")
    APPLIED = "applied", _("Diterapkan")
    FAILED = "failed", _("Gagal")
    CANCELLED = "cancelled", _("Dibatalkan")
    DUPLICATE = "duplicate", _("Berkas sama sudah pernah diterapkan")


# Statuses in which a background task is (or should be) working on the job.
RUNNING_STATUSES = frozenset({JobStatus.VALIDATING, JobStatus.APPLYING})
FINAL_STATUSES = frozenset(
    {JobStatus.APPLIED, JobStatus.FAILED, JobStatus.CANCELLED, JobStatus.DUPLICATE}
)


class Severity(models.TextChoices):
    ERROR = "error", _("Kesalahan")
    WARNING = "warning", _("Peringatan")


def import_path(instance: ImportJob, filename: str) -> str:
    return f"imports/{instance.region_code or 'nasional'}/{filename}"


class MappingTemplate(models.Model):
    """A saved mapping {normalised header: column key} (e.g. "SIKS-NG offline", "BNBA PKH")."""

    name = models.CharField(_("nama"), max_length=80)
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("wilayah"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    mapping = models.JSONField(_("pemetaan kolom"), default=dict)
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)

    class Meta:
        verbose_name = _("templat pemetaan")
        verbose_name_plural = _("templat pemetaan")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="import_template_region_name"),
        ]

    def __str__(self) -> str:
        return self.name


class ImportJob(models.Model):
    """One uploaded file travelling upload → mapping → dry run → apply."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("wilayah")
    )
    region_code = models.CharField(_("kode wilayah"), max_length=10, db_index=True)
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices, default=Mode.PROPOSAL)
    file = models.FileField(_("berkas"), upload_to=import_path, max_length=255)
    original_name = models.CharField(_("nama berkas"), max_length=255)
    fmt = models.CharField(_("format"), max_length=5)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.BigIntegerField(_("ukuran (byte)"), default=0)
    status = models.CharField(
        _("status"), max_length=12, choices=JobStatus.choices, default=JobStatus.UPLOADED
    )
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    encoding = models.CharField(_("pengodean"), max_length=20, blank=True)
    delimiter = models.CharField(_("pemisah"), max_length=2, blank=True)
    sheet = models.CharField(_("lembar"), max_length=80, blank=True)
    headers = models.JSONField(_("judul kolom"), default=list, blank=True)
    mapping = models.JSONField(_("pemetaan kolom"), default=dict, blank=True)
    template = models.ForeignKey(
        MappingTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    quarantine = models.BooleanField(_("karantina baris bermasalah"), default=False)
    rows_total = models.PositiveIntegerField(default=0)
    rows_read = models.PositiveIntegerField(default=0)
    rows_validated = models.PositiveIntegerField(default=0)
    rows_valid = models.PositiveIntegerField(default=0)
    rows_invalid = models.PositiveIntegerField(default=0)
    rows_warning = models.PositiveIntegerField(default=0)
    rows_applied = models.PositiveIntegerField(default=0)
    rows_quarantined = models.PositiveIntegerField(default=0)
    households_new = models.PositiveIntegerField(default=0)
    persons_updated = models.PositiveIntegerField(default=0)
    proposals_created = models.PositiveIntegerField(default=0)
    phase_started_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    cancel_requested = models.BooleanField(default=False)
    error_id = models.TextField(_("kesalahan"), blank=True)
    error_en = models.TextField(_("kesalahan (Inggris)"), blank=True)
    summary = models.JSONField(_("ringkasan"), default=list, blank=True)
    changeset = models.ForeignKey(
        "registry.ChangeSet", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    task_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("impor berkas")
        verbose_name_plural = _("impor berkas")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["region_code", "sha256"], name="import_region_sha_idx"),
            models.Index(fields=["created_by", "created_at"], name="import_creator_idx"),
        ]

    def __str__(self) -> str:
        return f"Impor #{self.pk} {self.original_name}"

    @property
    def error(self) -> str:
        """The failure message in the active language."""
        from django.utils import translation

        lang = translation.get_language() or "id"
        return self.error_en if lang.startswith("en") and self.error_en else self.error_id

    @property
    def is_running(self) -> bool:
        return self.status in RUNNING_STATUSES

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class ImportIssue(models.Model):
    """One finding of the dry run: a broken rule at a row (and column) of the file."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="issues")
    row_no = models.PositiveIntegerField(_("baris"))  # spreadsheet row number (header = 1)
    column_header = models.CharField(_("kolom"), max_length=120, blank=True)
    value = models.CharField(_("isi"), max_length=255, blank=True)
    rule = models.CharField(_("aturan"), max_length=40)
    severity = models.CharField(_("tingkat"), max_length=8, choices=Severity.choices)
    message_id = models.TextField(_("pesan"))
    message_en = models.TextField(_("pesan (Inggris)"))

    class Meta:
        verbose_name = _("temuan impor")
        verbose_name_plural = _("temuan impor")
        ordering = ["row_no", "id"]
        indexes = [
            models.Index(fields=["job", "rule"], name="import_issue_rule_idx"),
            models.Index(fields=["job", "row_no"], name="import_issue_row_idx"),
        ]

    @property
    def message(self) -> str:
        from django.utils import translation

        lang = translation.get_language() or "id"
        return self.message_en if lang.startswith("en") else self.message_id


class QuarantinedRow(models.Model):
    """A row held back by a quarantined apply, with its original cells, for correction."""

    class State(models.TextChoices):
        OPEN = "open", _("Belum diperbaiki")
        FIXED = "fixed", _("Sudah diperbaiki")
        DROPPED = "dropped", _("Dibuang")

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="quarantined")
    row_no = models.PositiveIntegerField(_("baris"))
    data = models.JSONField(_("isi baris"), default=dict)
    status = models.CharField(_("status"), max_length=8, choices=State.choices, default=State.OPEN)

    class Meta:
        verbose_name = _("baris karantina")
        verbose_name_plural = _("baris karantina")
        ordering = ["row_no"]
        indexes = [models.Index(fields=["job", "status"], name="import_quarantine_idx")]
