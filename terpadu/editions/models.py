"""Monthly determination (penetapan): national processing runs, editions and Dukcapil matching.

An edition is named by its period ``YYYY-MM`` ("DTKS penetapan Maret 2026"). Determining it
applies the month's accepted proposals to the registry in one transaction and freezes it.
Editions cost O(changes): registry rows carry the period their current state took effect in
(`penetapan_period`), and a row's previous state is kept as a version row valid
[valid_from, valid_to) only when an edition changes it (see versions.py). Nothing is copied
per month.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from terpadu.registry.models import FamilyData, HouseholdData, PersonData


class Edition(models.Model):
    class State(models.TextChoices):
        DITETAPKAN = "ditetapkan", _("Ditetapkan")

    period = models.CharField(_("periode"), max_length=7, unique=True, help_text=_("YYYY-MM"))
    state = models.CharField(
        _("status"), max_length=12, choices=State.choices, default=State.DITETAPKAN
    )
    decree_number = models.CharField(_("nomor Kepmensos"), max_length=80)
    decree_date = models.DateField(_("tanggal keputusan"))
    signatory = models.CharField(_("penandatangan"), max_length=120)
    decree_pdf = models.FileField(_("berkas keputusan (PDF)"), upload_to="penetapan/")
    run = models.OneToOneField(
        "ProcessingRun", on_delete=models.PROTECT, related_name="edition", null=True, blank=True
    )
    determined_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    determined_at = models.DateTimeField(_("ditetapkan pada"), auto_now_add=True)
    # Summary counts written once at determination: {"added": n, "deactivated": {...}, ...}.
    counts = models.JSONField(_("ringkasan"), default=dict, blank=True)

    class Meta:
        verbose_name = _("edisi penetapan")
        verbose_name_plural = _("edisi penetapan")
        ordering = ["-period"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period__regex=r"^[0-9]{4}-(0[1-9]|1[0-2])$"),
                name="edition_period_format",
            ),
        ]

    def __str__(self) -> str:
        return f"DTKS {self.period}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Editions are frozen: determination writes the row once, complete (counts included),
        # and nothing edits it afterwards (issue 5 §6).
        if not self._state.adding:
            raise EditionFrozen(self.period)
        super().save(*args, **kwargs)


class EditionFrozen(Exception):
    """An attempt to change an edition after its determination."""


class ProcessingRun(models.Model):
    """Pusat's national processing of one month's accepted items, reviewed before determining."""

    class State(models.TextChoices):
        BERJALAN = "berjalan", _("Berjalan")
        SELESAI = "selesai", _("Selesai (menunggu tinjauan)")
        GAGAL = "gagal", _("Gagal")
        DITETAPKAN = "ditetapkan", _("Ditetapkan")

    period = models.CharField(_("periode"), max_length=7)
    state = models.CharField(
        _("status"), max_length=12, choices=State.choices, default=State.BERJALAN
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(_("galat"), blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    counts = models.JSONField(_("ringkasan"), default=dict, blank=True)
    # Liveness of a BERJALAN run (processing.expire_stale_runs): the queued task's result id,
    # and when the worker last reported (claim, then every progress step).
    task_id = models.CharField(max_length=64, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("proses nasional")
        verbose_name_plural = _("proses nasional")
        ordering = ["-started_at"]


class ProcessingResult(models.Model):
    """One item's outcome in a run: accepted, returned to kab/kota, or rejected (+ reasons)."""

    class Outcome(models.TextChoices):
        DITERIMA = "diterima", _("Diterima")
        DIKEMBALIKAN = "dikembalikan", _("Dikembalikan ke kab/kota")
        DITOLAK = "ditolak", _("Ditolak")

    run = models.ForeignKey(ProcessingRun, on_delete=models.PROTECT, related_name="results")
    proposal = models.ForeignKey(
        "proposals.Proposal", on_delete=models.PROTECT, related_name="processing_results"
    )
    region_code = models.CharField(_("kode wilayah"), max_length=10)
    outcome = models.CharField(_("hasil"), max_length=12, choices=Outcome.choices)
    # [{code, message_id, message_en}] — same shape as Proposal.return_reasons.
    reasons = models.JSONField(_("alasan"), default=list, blank=True)
    # Pusat may override an outcome during review (recorded, with who and why).
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    override_note = models.TextField(_("catatan tinjauan"), blank=True)

    class Meta:
        verbose_name = _("hasil proses")
        verbose_name_plural = _("hasil proses")
        constraints = [
            models.UniqueConstraint(fields=["run", "proposal"], name="result_one_per_item"),
        ]
        indexes = [models.Index(fields=["run", "outcome"], name="result_run_outcome_idx")]


class DukcapilBatch(models.Model):
    """One exchange with Dukcapil: the NIK list we sent and the match file we got back."""

    class State(models.TextChoices):
        DIKIRIM = "dikirim", _("Daftar NIK diekspor")
        DIIMPOR = "diimpor", _("Hasil padan diimpor")

    source = models.CharField(_("sumber"), max_length=30, help_text=_("file / test-double"))
    state = models.CharField(_("status"), max_length=10, choices=State.choices)
    request_file = models.FileField(_("berkas permintaan"), upload_to="dukcapil/", blank=True)
    result_file = models.FileField(_("berkas hasil"), upload_to="dukcapil/", blank=True)
    nik_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("pertukaran data Dukcapil")
        verbose_name_plural = _("pertukaran data Dukcapil")


class DukcapilMatch(models.Model):
    """Match status of one NIK from one exchange (kept per person, with date and source)."""

    batch = models.ForeignKey(DukcapilBatch, on_delete=models.PROTECT, related_name="matches")
    nik = models.CharField(_("NIK"), max_length=16, db_index=True)
    person = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    region_code = models.CharField(_("kode wilayah"), max_length=10, blank=True)
    padan = models.BooleanField(_("padan"))
    detail = models.CharField(_("keterangan"), max_length=200, blank=True)
    matched_at = models.DateTimeField(_("tanggal padan"))

    class Meta:
        verbose_name = _("hasil padan Dukcapil")
        verbose_name_plural = _("hasil padan Dukcapil")


class NikCorrectionTask(models.Model):
    """A *tidak padan* person sent back to its kab/kota for NIK/No KK correction."""

    class State(models.TextChoices):
        TERBUKA = "terbuka", _("Terbuka")
        DIUSULKAN = "diusulkan", _("Perbaikan diusulkan")
        SELESAI = "selesai", _("Selesai")

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    region_code = models.CharField(_("kode wilayah"), max_length=10)
    match = models.ForeignKey(DukcapilMatch, on_delete=models.PROTECT, related_name="tasks")
    state = models.CharField(
        _("status"), max_length=10, choices=State.choices, default=State.TERBUKA
    )
    proposal = models.ForeignKey(
        "proposals.Proposal", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("tugas perbaikan NIK")
        verbose_name_plural = _("tugas perbaikan NIK")
        indexes = [models.Index(fields=["region_code", "state"], name="niktask_region_state_idx")]


# --- Processing run history (national processing / Dukcapil engineer) ----------------------


class ProcessingRunEvent(models.Model):
    """Append-only history of a run: started (forced before the cut-off, with why), outcome
    overridden in review, review applied. The run row keeps only the current state."""

    class Action(models.TextChoices):
        START = "start", _("Dimulai")
        FORCE = "force", _("Dimulai sebelum batas (paksa)")
        FAIL = "fail", _("Gagal")
        FINISH = "finish", _("Selesai")
        OVERRIDE = "override", _("Hasil diubah")
        REVIEW = "review", _("Tinjauan diterapkan")

    run = models.ForeignKey(ProcessingRun, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("aksi"), max_length=10, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_role = models.CharField(_("peran"), max_length=24, blank=True)
    result = models.ForeignKey(
        ProcessingResult, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(_("catatan"), blank=True)
    at = models.DateTimeField(_("waktu"), auto_now_add=True)

    class Meta:
        verbose_name = _("riwayat proses nasional")
        verbose_name_plural = _("riwayat proses nasional")
        ordering = ["at", "id"]


# --- Versions: a row's state before a determination changed it (versions.py) ---------------
# Same data columns as the registry row (the abstract *Data bases in registry.models), plus
# the registry id (`record`) and the validity interval [valid_from, valid_to) in editions.
# valid_from is the row's `penetapan_period` when it was copied ('' = before every edition).
# Relations are kept as plain columns without database constraints: a version is a record of
# the past, and large tables stay partitionable by region (design §3).


class VersionFields(models.Model):
    valid_from = models.CharField(_("berlaku sejak edisi"), max_length=7, blank=True)
    valid_to = models.CharField(_("berlaku sampai edisi"), max_length=7)

    class Meta:
        abstract = True


def _past(model: str, *, null: bool = False) -> models.ForeignKey:
    return models.ForeignKey(
        model,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
        null=null,
        blank=null,
    )


class HouseholdVersion(HouseholdData, VersionFields):
    record = models.ForeignKey(
        "registry.Household",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the unique (record, valid_to) index serves lookups by record
        related_name="versions",
    )
    region = _past("regions.Region")

    class Meta:
        verbose_name = _("versi rumah tangga")
        verbose_name_plural = _("versi rumah tangga")
        indexes = [
            models.Index(fields=["region_code", "valid_to"], name="hhv_region_validto_idx"),
            models.Index(fields=["valid_to", "valid_from"], name="hhv_valid_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["record", "valid_to"], name="hhv_one_per_edition"),
        ]


class FamilyVersion(FamilyData, VersionFields):
    record = models.ForeignKey(
        "registry.Family",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the unique (record, valid_to) index serves lookups by record
        related_name="versions",
    )
    household = _past("registry.Household")
    head = _past("registry.Person", null=True)

    class Meta:
        verbose_name = _("versi keluarga")
        verbose_name_plural = _("versi keluarga")
        indexes = [
            models.Index(fields=["region_code", "valid_to"], name="famv_region_validto_idx"),
            models.Index(fields=["valid_to", "valid_from"], name="famv_valid_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["record", "valid_to"], name="famv_one_per_edition"),
        ]


class PersonVersion(PersonData, VersionFields):
    record = models.ForeignKey(
        "registry.Person",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # the unique (record, valid_to) index serves lookups by record
        related_name="versions",
    )
    household = _past("registry.Household")
    family = _past("registry.Family")

    class Meta:
        verbose_name = _("versi individu")
        verbose_name_plural = _("versi individu")
        indexes = [
            models.Index(fields=["region_code", "valid_to"], name="pv_region_validto_idx"),
            models.Index(fields=["valid_to", "valid_from"], name="pv_valid_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["record", "valid_to"], name="pv_one_per_edition"),
        ]
