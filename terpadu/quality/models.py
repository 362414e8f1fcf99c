"""Data-quality worklists: NIK ganda groups, eligibility rules and their flags, reference lists,
quality runs and the province's task lists to kab/kota (issue 7, domain.md §6–7).

Nothing here changes the registry. A check produces a worklist row; a person decides, and a
decision that changes the registry goes through proposals/creation.py. Every decision is an
append-only `QualityDecision` row (who, when, why, which proposal).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from terpadu.accounts.models import AppendOnlyModel


class QualityRun(models.Model):
    """One background quality job over a region scope: NIK ganda refresh + flag evaluation."""

    class State(models.TextChoices):
        ANTRE = "antre", _("Menunggu")
        BERJALAN = "berjalan", _("Berjalan")
        SELESAI = "selesai", _("Selesai")
        GAGAL = "gagal", _("Gagal")

    region_code = models.CharField(_("lingkup wilayah"), max_length=10, blank=True)
    state = models.CharField(_("status"), max_length=10, choices=State.choices, default="antre")
    source = models.CharField(_("pemicu"), max_length=20, default="manual")
    source_ref = models.CharField(_("rujukan pemicu"), max_length=60, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)
    started_at = models.DateTimeField(_("mulai"), null=True, blank=True)
    finished_at = models.DateTimeField(_("selesai"), null=True, blank=True)
    progress_done = models.PositiveSmallIntegerField(default=0)
    progress_total = models.PositiveSmallIntegerField(default=0)
    counts = models.JSONField(_("ringkasan"), default=dict, blank=True)
    error = models.TextField(_("galat"), blank=True)

    class Meta:
        verbose_name = _("proses kualitas data")
        verbose_name_plural = _("proses kualitas data")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["region_code", "state"], name="qrun_region_state_idx")]

    def __str__(self) -> str:
        return f"QualityRun #{self.pk} {self.region_code or 'nasional'} {self.state}"

    @property
    def running(self) -> bool:
        return self.state in (self.State.ANTRE, self.State.BERJALAN)


class DuplicateKind(models.TextChoices):
    DALAM_KK = "dalam_kk", _("NIK sama dalam satu KK")
    ANTAR_KELUARGA = "antar_keluarga", _("NIK sama di keluarga lain (satu desa)")
    ANTAR_WILAYAH = "antar_wilayah", _("NIK sama di wilayah lain")
    ANTAR_PROGRAM = "antar_program", _("NIK sama menerima program dua kali")
    DUA_KK = "dua_kk", _("Satu individu di dua KK")


class WorkStatus(models.TextChoices):
    OPEN = "open", _("Terbuka")
    RESOLVED = "resolved", _("Selesai")


class GroupResolution(models.TextChoices):
    PROPOSED = "proposed", _("Diusulkan nonaktif (ganda)")
    NOT_DUPLICATE = "not_duplicate", _("Bukan ganda/sudah benar")
    GONE = "gone", _("Tidak ganda lagi (otomatis)")


class NikDuplicateGroup(models.Model):
    """Records sharing one NIK (or one person in two KKs), as seen by one kab/kota.

    A group spanning two kab/kota has one row per kab/kota, each listing every record, so both
    worklists show it. `fingerprint` (sorted member ids) tells a refresh whether a decision
    still applies: a "bukan ganda" decision holds until another record joins the group.
    """

    kind = models.CharField(_("jenis"), max_length=20, choices=DuplicateKind.choices)
    # The NIK, or "p<person id>" for one person in two KKs (whose NIK may be empty).
    key = models.CharField(max_length=24)
    nik = models.CharField(_("NIK"), max_length=16, blank=True)
    region_code = models.CharField(_("kab/kota"), max_length=4)
    fingerprint = models.CharField(max_length=255)
    member_count = models.PositiveSmallIntegerField(_("jumlah data"), default=0)
    status = models.CharField(
        _("status"), max_length=10, choices=WorkStatus.choices, default=WorkStatus.OPEN
    )
    resolution = models.CharField(
        _("penyelesaian"), max_length=16, choices=GroupResolution.choices, blank=True
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(_("diselesaikan"), null=True, blank=True)
    resolved_note = models.TextField(_("alasan"), blank=True)
    proposal = models.ForeignKey(
        "proposals.Proposal", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    first_seen = models.DateTimeField(_("pertama ditemukan"), auto_now_add=True)
    last_seen = models.DateTimeField(_("terakhir diperiksa"), auto_now=True)

    class Meta:
        verbose_name = _("kelompok NIK ganda")
        verbose_name_plural = _("kelompok NIK ganda")
        constraints = [
            models.UniqueConstraint(fields=["kind", "key", "region_code"], name="nikgroup_key"),
        ]
        indexes = [models.Index(fields=["region_code", "status"], name="nikgroup_region_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.region_code} ({self.member_count})"


# Worklist rows point at registry rows, which are never hard-deleted (design.md §1a), so the
# database need not check each reference: a national run writes ~10^5 of these rows and the
# deferred FK checks at commit cost more than writing them.
_REF = {"on_delete": models.PROTECT, "related_name": "+", "db_constraint": False}


class NikDuplicateMember(models.Model):
    group = models.ForeignKey(NikDuplicateGroup, on_delete=models.CASCADE, related_name="members")
    person = models.ForeignKey("registry.Person", **_REF)
    family = models.ForeignKey("registry.Family", **_REF)
    household = models.ForeignKey("registry.Household", **_REF)
    region_code = models.CharField(_("kode wilayah"), max_length=10)

    class Meta:
        verbose_name = _("data NIK ganda")
        verbose_name_plural = _("data NIK ganda")


class RuleKind(models.TextChoices):
    REFERENCE = "reference", _("NIK ada di daftar rujukan")
    SAME_KK = "same_kk", _("Anggota KK yang sama ada di daftar rujukan")
    ATTRIBUTE = "attribute", _("Nilai isian registri")


class EligibilityRule(models.Model):
    """One tidak-layak rule version. Rules are data (domain.md §6.1): a new legal basis or
    threshold is a new version row, so earlier flags keep pointing at the rule they met.

    `parameters` by kind — reference/same_kk: ``{"list_kind": "asn_tni_polri"}`` plus optional
    ``{"threshold": n, "threshold_by_region": {"13": n, "1371": n}}`` (entry value must exceed
    it); attribute: ``{"table": "household"|"person", "field": ..., "op": "in"|"eq"|"gte"|
    "gt"|"lte"|"lt"|"true", "values"/"value": ..., "codelist": optional}``.
    """

    code = models.CharField(_("kode"), max_length=40)
    version = models.PositiveSmallIntegerField(_("versi"), default=1)
    name = models.CharField(_("nama"), max_length=160)
    name_en = models.CharField(_("nama (Inggris)"), max_length=160, blank=True)
    legal_reference = models.CharField(_("dasar hukum"), max_length=255, blank=True)
    effective_from = models.DateField(_("berlaku sejak"))
    effective_to = models.DateField(_("berlaku sampai"), null=True, blank=True)
    kind = models.CharField(_("jenis"), max_length=12, choices=RuleKind.choices)
    parameters = models.JSONField(_("parameter"), default=dict, blank=True)
    reason_code = models.CharField(
        _("alasan nonaktif bila diusulkan"), max_length=20, default="tidak_layak"
    )
    hard = models.BooleanField(
        _("pengecualian tegas"),
        default=False,
        help_text=_("Tegas (meninggal, ASN) atau lunak (perlu verivali)."),
    )
    active = models.BooleanField(_("aktif"), default=True)

    class Meta:
        verbose_name = _("aturan tidak layak")
        verbose_name_plural = _("aturan tidak layak")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="rule_code_version"),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class ReferenceList(models.Model):
    """An uploaded list of NIKs from another agency (BKN ASN list, death list, Samsat...)."""

    kind = models.CharField(_("jenis daftar"), max_length=40)
    name = models.CharField(_("nama"), max_length=160)
    source = models.CharField(_("sumber/instansi"), max_length=160)
    region_code = models.CharField(
        _("berlaku untuk wilayah"), max_length=10, blank=True, help_text=_("Lingkup pengunggah.")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("diunggah"), auto_now_add=True)
    valid_as_of = models.DateField(_("keadaan per tanggal"))
    sha256 = models.CharField(_("sidik berkas (SHA-256)"), max_length=64)
    file_name = models.CharField(_("nama berkas"), max_length=200, blank=True)
    entry_count = models.PositiveIntegerField(_("jumlah baris"), default=0)
    active = models.BooleanField(_("aktif"), default=True)

    class Meta:
        verbose_name = _("daftar rujukan")
        verbose_name_plural = _("daftar rujukan")
        ordering = ["-uploaded_at", "-pk"]
        indexes = [models.Index(fields=["kind", "active"], name="reflist_kind_idx")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.name}"


class ReferenceEntry(models.Model):
    list = models.ForeignKey(ReferenceList, on_delete=models.CASCADE, related_name="entries")
    nik = models.CharField(_("NIK"), max_length=16)
    value = models.DecimalField(_("nilai"), max_digits=16, decimal_places=2, null=True, blank=True)
    note = models.CharField(_("keterangan"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("baris daftar rujukan")
        verbose_name_plural = _("baris daftar rujukan")
        indexes = [models.Index(fields=["nik"], name="refentry_nik_idx")]


class FlagStatus(models.TextChoices):
    OPEN = "open", _("Terbuka")
    PROPOSED = "proposed", _("Diusulkan nonaktif")
    DISMISSED = "dismissed", _("Diabaikan")
    OBSOLETE = "obsolete", _("Tidak berlaku lagi")


class ExclusionFlag(models.Model):
    """A person met a tidak-layak rule version, with the evidence that made it so.

    `evidence_key` identifies the evidence (list kind, matched NIK, value / field = value): a
    re-evaluation that finds the same person, rule version and evidence keeps the earlier
    decision. `active` mirrors "open" for the national cross-match hook (editions.crossmatch).
    """

    person = models.ForeignKey("registry.Person", **_REF)
    household = models.ForeignKey("registry.Household", **_REF)
    family = models.ForeignKey("registry.Family", **_REF)
    region_code = models.CharField(_("kode wilayah"), max_length=10)
    nik = models.CharField(_("NIK"), max_length=16, blank=True)
    rule = models.ForeignKey(EligibilityRule, on_delete=models.PROTECT, related_name="flags")
    code = models.CharField(_("kode aturan"), max_length=40)
    version = models.PositiveSmallIntegerField(_("versi aturan"))
    label = models.CharField(_("aturan"), max_length=160)
    evidence_key = models.CharField(max_length=120)
    evidence = models.JSONField(_("bukti"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=FlagStatus.choices, default=FlagStatus.OPEN
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(_("ditemukan"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("diputuskan"), null=True, blank=True)
    decision_note = models.TextField(_("alasan keputusan"), blank=True)
    proposal = models.ForeignKey(
        "proposals.Proposal", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("tanda tidak layak")
        verbose_name_plural = _("tanda tidak layak")
        constraints = [
            models.UniqueConstraint(fields=["person", "rule", "evidence_key"], name="flag_key"),
        ]
        indexes = [
            models.Index(fields=["region_code", "status"], name="flag_region_status_idx"),
            models.Index(fields=["nik"], name="flag_nik_idx"),
            models.Index(fields=["rule", "status"], name="flag_rule_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} v{self.version} person {self.person_id}"


class AgeScheme(models.Model):
    """Age buckets as data (domain.md §6.2): ``[{"label": "7–12", "min": 7, "max": 12}, …]``
    (max null = open-ended). Buckets may overlap (programme schemes do)."""

    code = models.CharField(_("kode"), max_length=20, unique=True)
    name = models.CharField(_("nama"), max_length=120)
    buckets = models.JSONField(_("kelompok umur"))
    source = models.CharField(_("sumber"), max_length=160, blank=True)

    class Meta:
        verbose_name = _("skema kelompok umur")
        verbose_name_plural = _("skema kelompok umur")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class ReviewTask(models.Model):
    """A province's task list to one kab/kota: its flagged KPM to act on."""

    region_code = models.CharField(_("kab/kota"), max_length=4)
    province_code = models.CharField(_("provinsi"), max_length=2)
    title = models.CharField(_("judul"), max_length=160)
    note = models.TextField(_("catatan"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("dikirim"), auto_now_add=True)
    item_count = models.PositiveIntegerField(_("jumlah butir"), default=0)

    class Meta:
        verbose_name = _("daftar tugas kab/kota")
        verbose_name_plural = _("daftar tugas kab/kota")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["region_code", "created_at"], name="task_region_idx")]

    def __str__(self) -> str:
        return f"{self.title} ({self.region_code})"


class TaskItemState(models.TextChoices):
    OPEN = "open", _("Terbuka")
    ACTED = "acted", _("Ditindaklanjuti (usulan)")
    DISMISSED = "dismissed", _("Ditutup tanpa tindakan")


class ReviewTaskItem(models.Model):
    task = models.ForeignKey(ReviewTask, on_delete=models.CASCADE, related_name="items")
    flag = models.ForeignKey(ExclusionFlag, on_delete=models.PROTECT, related_name="task_items")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    region_code = models.CharField(_("kode wilayah"), max_length=10)
    state = models.CharField(
        _("status"), max_length=10, choices=TaskItemState.choices, default=TaskItemState.OPEN
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("ditutup"), null=True, blank=True)
    note = models.TextField(_("alasan"), blank=True)
    proposal = models.ForeignKey(
        "proposals.Proposal", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("butir tugas")
        verbose_name_plural = _("butir tugas")
        indexes = [models.Index(fields=["task", "state"], name="taskitem_state_idx")]


class QualityDecision(AppendOnlyModel):
    """History: one human decision on a worklist row (who, when, why, which proposal)."""

    class Subject(models.TextChoices):
        NIK_GROUP = "nik_group", _("NIK ganda")
        FLAG = "flag", _("Tanda tidak layak")
        TASK_ITEM = "task_item", _("Butir tugas")

    subject = models.CharField(_("jenis"), max_length=12, choices=Subject.choices)
    subject_id = models.BigIntegerField()
    action = models.CharField(_("keputusan"), max_length=20)
    reason = models.TextField(_("alasan"))
    region_code = models.CharField(_("kode wilayah"), max_length=10)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("waktu"), auto_now_add=True)
    proposal = models.ForeignKey(
        "proposals.Proposal", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("keputusan kualitas data")
        verbose_name_plural = _("keputusan kualitas data")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["subject", "subject_id"], name="qdecision_subject_idx")]

    def __str__(self) -> str:
        return f"{self.subject}#{self.subject_id} {self.action}"
