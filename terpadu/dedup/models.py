"""Probabilistic duplicate detection: trained models, runs, candidate pairs and decisions.

A candidate pair is keyed by the unordered person-id pair (person_a < person_b): a re-run
refreshes the score of an open pair and never touches a decided one, so "orang berbeda" is
remembered for good and "orang yang sama" is not proposed twice. Decisions never change the
registry; "same" creates a deactivation proposal (reason *ganda*) through the proposals app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DedupModel(models.Model):
    """A trained Splink model (settings + m/u parameters as JSON), reused by later runs and
    by the checks at entry (incremental.py)."""

    version = models.PositiveIntegerField(_("versi"), unique=True)
    trained_at = models.DateTimeField(_("dilatih pada"), auto_now_add=True)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    scope = models.CharField(_("wilayah data latih"), max_length=10, blank=True)
    params = models.JSONField(_("parameter model"))
    metrics = models.JSONField(_("ukuran"), default=dict, blank=True)

    class Meta:
        verbose_name = _("model duplikat")
        verbose_name_plural = _("model duplikat")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"Model v{self.version}"


class DedupRun(models.Model):
    """One dedup run over the active persons of a kab/kota (a background task)."""

    class State(models.TextChoices):
        BERJALAN = "berjalan", _("Berjalan")
        SELESAI = "selesai", _("Selesai")
        GAGAL = "gagal", _("Gagal")

    scope = models.CharField(_("wilayah"), max_length=10)
    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("wilayah")
    )
    state = models.CharField(
        _("status"), max_length=10, choices=State.choices, default=State.BERJALAN
    )
    retrain = models.BooleanField(_("latih ulang model"), default=False)
    model = models.ForeignKey(
        DedupModel, on_delete=models.PROTECT, null=True, blank=True, related_name="runs"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    step = models.CharField(_("langkah"), max_length=60, blank=True)
    counts = models.JSONField(_("ringkasan"), default=dict, blank=True)
    error = models.TextField(_("galat"), blank=True)

    class Meta:
        verbose_name = _("proses deteksi duplikat")
        verbose_name_plural = _("proses deteksi duplikat")
        indexes = [models.Index(fields=["scope", "state"], name="dedup_run_scope_idx")]

    def __str__(self) -> str:
        return f"Dedup #{self.pk} ({self.scope})"


class PairStatus(models.TextChoices):
    OPEN = "open", _("Belum diputuskan")
    SAME = "same", _("Orang yang sama")
    DIFFERENT = "different", _("Orang berbeda")


class CandidatePair(models.Model):
    """Two active persons the model thinks may be one human; person_a < person_b."""

    person_a = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("individu A")
    )
    person_b = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("individu B")
    )
    region_code = models.CharField(_("kode wilayah A"), max_length=10)
    region_code_b = models.CharField(_("kode wilayah B"), max_length=10)
    probability = models.FloatField(_("probabilitas"))
    match_weight = models.FloatField(_("bobot kecocokan"))
    # [{"comparison", "gamma", "label", "weight"}, ...] plus the prior, for the review page.
    explanation = models.JSONField(_("penjelasan"), default=list, blank=True)
    prior_weight = models.FloatField(_("bobot awal"), default=0.0)
    run = models.ForeignKey(
        DedupRun, on_delete=models.PROTECT, related_name="pairs", null=True, blank=True
    )
    status = models.CharField(
        _("keputusan"), max_length=10, choices=PairStatus.choices, default=PairStatus.OPEN
    )
    duplicate = models.ForeignKey(
        "registry.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("data ganda"),
    )
    proposal = models.ForeignKey(
        "proposals.Proposal", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("pasangan kandidat duplikat")
        verbose_name_plural = _("pasangan kandidat duplikat")
        constraints = [
            models.UniqueConstraint(fields=["person_a", "person_b"], name="dedup_pair_unique"),
            models.CheckConstraint(
                condition=models.Q(person_a__lt=models.F("person_b")), name="dedup_pair_ordered"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "region_code", "-probability"], name="dedup_pair_q_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.person_a_id}~{self.person_b_id} ({self.probability:.2f})"


class DecisionEvent(models.Model):
    """Every decision on a pair, in order: who, when, which, why."""

    pair = models.ForeignKey(CandidatePair, on_delete=models.PROTECT, related_name="events")
    decision = models.CharField(_("keputusan"), max_length=10, choices=PairStatus.choices)
    duplicate = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    proposal = models.ForeignKey(
        "proposals.Proposal", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    actor_role = models.CharField(max_length=30, blank=True)
    note = models.TextField(_("alasan"), blank=True)
    bulk = models.BooleanField(_("keputusan massal"), default=False)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("keputusan duplikat")
        verbose_name_plural = _("keputusan duplikat")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.pair_id}: {self.decision}"
