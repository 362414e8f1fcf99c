"""Proposals (usulan) and their tiered workflow: desa → kab/kota → provinsi → pusat.

Permensos 3/2021 gives kab/kota the authority over DTKS data; UU 13/2011 Pasal 8 makes every
change travel kab/kota → province → Minister. A proposal never edits the registry: it carries
a payload (the new household, the field changes, the deactivation reason) that the monthly
determination (editions app) applies once pusat has accepted it.

Status moves only through `workflow.py` (the transition table is `transitions.TRANSITIONS`);
every move writes a `ProposalEvent` (actor, role, scope, from → to, note, evidence).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from terpadu.registry.models import NonaktifReason


class Kind(models.TextChoices):
    BARU = "baru", _("Usulan baru")
    PERBAIKAN = "perbaikan", _("Perbaikan data")
    NONAKTIF = "nonaktif", _("Penonaktifan")
    REAKTIVASI = "reaktivasi", _("Pengaktifan kembali")
    PEMINDAHAN = "pemindahan", _("Pemindahan wilayah")


class Status(models.TextChoices):
    DRAFT = "draft", _("Draf")
    MENUNGGU_MUSDES = "menunggu_musdes", _("Menunggu musdes/muskel")
    DITOLAK_MUSDES = "ditolak_musdes", _("Ditolak musdes")
    DISEPAKATI = "disepakati", _("Disepakati musdes")
    VERIVALI = "verivali", _("Verivali lapangan")
    HASIL_NEGATIF = "hasil_negatif", _("Hasil verivali negatif")
    DIPERIKSA_DINSOS = "diperiksa_dinsos", _("Diperiksa Dinsos kab/kota")
    DIKEMBALIKAN_KE_DESA = "dikembalikan_ke_desa", _("Dikembalikan ke desa")
    DITOLAK_KABKOTA = "ditolak_kabkota", _("Ditolak kab/kota")
    FINAL_KABKOTA = "final_kabkota", _("Final kab/kota")
    DISAHKAN = "disahkan", _("Disahkan bupati/wali kota")
    DIKIRIM_PROVINSI = "dikirim_provinsi", _("Di provinsi")
    DIKIRIM_PUSAT = "dikirim_pusat", _("Dikirim ke pusat")
    PROSES_PUSAT = "proses_pusat", _("Diproses pusat")
    DIKEMBALIKAN_KE_KABKOTA = "dikembalikan_ke_kabkota", _("Dikembalikan ke kab/kota")
    DITOLAK_PUSAT = "ditolak_pusat", _("Ditolak pusat")
    DITERIMA_PUSAT = "diterima_pusat", _("Diterima pusat (menunggu penetapan)")
    DITETAPKAN = "ditetapkan", _("Ditetapkan")
    DIBATALKAN = "dibatalkan", _("Dibatalkan")


CLOSED_STATUSES = frozenset(
    {
        Status.DITOLAK_MUSDES,
        Status.HASIL_NEGATIF,
        Status.DITOLAK_KABKOTA,
        Status.DITOLAK_PUSAT,
        Status.DITETAPKAN,
        Status.DIBATALKAN,
    }
)

# Which level of government holds a proposal in each open status (for inboxes/dashboards).
DESA_STATUSES = frozenset(
    {Status.DRAFT, Status.MENUNGGU_MUSDES, Status.DISEPAKATI, Status.DIKEMBALIKAN_KE_DESA}
)
FIELD_STATUSES = frozenset({Status.VERIVALI})
KABKOTA_STATUSES = frozenset(
    {
        Status.DIPERIKSA_DINSOS,
        Status.FINAL_KABKOTA,
        Status.DISAHKAN,
        Status.DIKEMBALIKAN_KE_KABKOTA,
    }
)
PROVINSI_STATUSES = frozenset({Status.DIKIRIM_PROVINSI})
PUSAT_STATUSES = frozenset({Status.DIKIRIM_PUSAT, Status.PROSES_PUSAT, Status.DITERIMA_PUSAT})


class Target(models.TextChoices):
    HOUSEHOLD = "household", _("Rumah tangga")
    FAMILY = "family", _("Keluarga")
    PERSON = "person", _("Individu")


class Proposal(models.Model):
    """One requested change to the registry, travelling up the tiers."""

    kind = models.CharField(_("jenis usulan"), max_length=12, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.DRAFT
    )
    # Digits-only desa code the proposal belongs to (scope filter, like registry rows).
    # Found by region_code (proposal_region_status_idx): no index on the key itself. Every
    # index here gets an entry for each proposal a determination moves (status is indexed,
    # so the UPDATE is never HOT).
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("desa"),
        db_index=False,
    )
    region_code = models.CharField(_("kode wilayah"), max_length=10)
    # Pemindahan wilayah: where the household goes; that region must consent too.
    destination = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("wilayah tujuan"),
        db_index=False,  # found by destination_code (proposal_destination_idx)
    )
    destination_code = models.CharField(_("kode wilayah tujuan"), max_length=10, blank=True)
    active_registration = models.BooleanField(
        _("pendaftaran aktif"),
        default=False,
        help_text=_("Ditemukan oleh desa/musdes, bukan didaftarkan oleh warga."),
    )
    target_type = models.CharField(_("sasaran"), max_length=10, choices=Target.choices, blank=True)
    household = models.ForeignKey(
        "registry.Household", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    family = models.ForeignKey(
        "registry.Family", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    person = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # BARU: the household bundle for records.create_household ({household_fields, families});
    # PERBAIKAN: {"changes": {field: new value}, "before": {field: value at proposal time}}.
    payload = models.JSONField(_("isi usulan"), default=dict, blank=True)
    reason_code = models.CharField(
        _("alasan nonaktif"), max_length=20, choices=NonaktifReason.choices, blank=True
    )
    reason = models.TextField(_("alasan/keterangan"), blank=True)
    summary = models.CharField(_("ringkasan"), max_length=200, blank=True)
    batch = models.ForeignKey(
        "Batch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
        verbose_name=_("paket kab/kota"),
    )
    period = models.CharField(
        _("periode penetapan"), max_length=7, blank=True, help_text=_("YYYY-MM")
    )
    return_reasons = models.JSONField(
        _("alasan pengembalian"),
        default=list,
        blank=True,
        help_text=_("Hasil uji integritas pusat: [{code, message_id, message_en}]"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True)
    updated_at = models.DateTimeField(_("diubah"), auto_now=True)
    status_changed_at = models.DateTimeField(_("status berubah"), auto_now_add=True)
    # Set by workflow._move in the same UPDATE that changes `status`, so the events of a bulk
    # move can be written from exactly the rows it moved (INSERT … SELECT … WHERE token).
    previous_status = models.CharField(max_length=24, blank=True, editable=False)
    move_token = models.CharField(max_length=32, blank=True, editable=False)

    class Meta:
        verbose_name = _("usulan")
        verbose_name_plural = _("usulan")
        indexes = [
            models.Index(fields=["region_code", "status"], name="proposal_region_status_idx"),
            models.Index(fields=["status", "kind"], name="proposal_status_kind_idx"),
            models.Index(fields=["destination_code"], name="proposal_destination_idx"),
            # Equality only (workflow._move): one b-tree, not db_index's LIKE twin as well.
            models.Index(fields=["move_token"], name="proposal_move_token_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in Status]),
                name="proposal_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=[k.value for k in Kind]), name="proposal_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} ({self.get_status_display()})"

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


class ProposalEvent(models.Model):
    """Append-only: one state change (or comment) with who, role, region, when, why."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("aksi"), max_length=30)
    from_status = models.CharField(_("dari"), max_length=24, blank=True)
    to_status = models.CharField(_("ke"), max_length=24, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_role = models.CharField(_("peran"), max_length=24, blank=True)
    actor_scope = models.CharField(_("wilayah pelaku"), max_length=10, blank=True)
    note = models.TextField(_("catatan"), blank=True)
    at = models.DateTimeField(_("waktu"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("riwayat usulan")
        verbose_name_plural = _("riwayat usulan")
        ordering = ["at", "id"]


def evidence_path(instance: Evidence, filename: str) -> str:
    return f"bukti/{instance.proposal.region_code[:4]}/{instance.proposal_id}/{filename}"


class Evidence(models.Model):
    """A document or photo supporting a proposal (death certificate, KK scan, house photo)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="evidence")
    event = models.ForeignKey(
        ProposalEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="evidence"
    )
    file = models.FileField(_("berkas"), upload_to=evidence_path)
    description = models.CharField(_("keterangan"), max_length=200, blank=True)
    content_type = models.CharField(max_length=60, blank=True)
    size = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("bukti")
        verbose_name_plural = _("bukti")


class Consent(models.Model):
    """Pemindahan wilayah: the destination region's agreement to receive a household."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="consents")
    region_code = models.CharField(_("kode wilayah"), max_length=10)
    agreed = models.BooleanField(_("setuju"))
    note = models.TextField(_("catatan"), blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("persetujuan wilayah tujuan")
        verbose_name_plural = _("persetujuan wilayah tujuan")


class BatchStatus(models.TextChoices):
    FINAL = "final", _("Difinalisasi (menunggu tanda tangan)")
    DISAHKAN = "disahkan", _("Disahkan")
    DIKIRIM_PROVINSI = "dikirim_provinsi", _("Di provinsi")
    DIKIRIM_PUSAT = "dikirim_pusat", _("Dikirim ke pusat")
    DIPROSES_PUSAT = "diproses_pusat", _("Diproses pusat")
    SELESAI = "selesai", _("Selesai diproses pusat")


def letter_path(instance: Batch, filename: str) -> str:
    return f"pengesahan/{instance.region_code}/{instance.period}/{filename}"


class Batch(models.Model):
    """A kab/kota's monthly package of final proposals, ratified by the bupati/wali kota."""

    region = models.ForeignKey(
        "regions.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("kab/kota")
    )
    region_code = models.CharField(_("kode wilayah"), max_length=4)
    period = models.CharField(_("periode"), max_length=7, help_text=_("YYYY-MM"))
    sequence = models.PositiveSmallIntegerField(_("urutan"), default=1)
    status = models.CharField(
        _("status"), max_length=20, choices=BatchStatus.choices, default=BatchStatus.FINAL
    )
    letter_number = models.CharField(_("nomor surat pengesahan"), max_length=80, blank=True)
    letter_pdf = models.FileField(_("surat pengesahan (draf)"), upload_to=letter_path, blank=True)
    signed_letter = models.FileField(
        _("surat pengesahan bertanda tangan"), upload_to=letter_path, blank=True
    )
    signatory = models.CharField(_("penandatangan"), max_length=120, blank=True)
    item_count = models.PositiveIntegerField(_("jumlah usulan"), default=0)
    province_note = models.TextField(_("catatan provinsi"), blank=True)
    finalised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    finalised_at = models.DateTimeField(_("difinalisasi"), auto_now_add=True)
    ratified_at = models.DateTimeField(_("disahkan"), null=True, blank=True)
    sent_at = models.DateTimeField(_("dikirim ke provinsi"), null=True, blank=True)
    forwarded_at = models.DateTimeField(_("diteruskan ke pusat"), null=True, blank=True)
    received_at = models.DateTimeField(_("diterima pusat"), null=True, blank=True)
    processed_at = models.DateTimeField(_("selesai diproses"), null=True, blank=True)

    class Meta:
        verbose_name = _("paket pengesahan")
        verbose_name_plural = _("paket pengesahan")
        constraints = [
            models.UniqueConstraint(
                fields=["region_code", "period", "sequence"], name="batch_region_period_seq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.region_code} {self.period}/{self.sequence}"


class BatchEvent(models.Model):
    """Append-only history of a batch (finalised, ratified, sent, annotated, forwarded...)."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(_("aksi"), max_length=30)
    from_status = models.CharField(_("dari"), max_length=20, blank=True)
    to_status = models.CharField(_("ke"), max_length=20, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    actor_role = models.CharField(_("peran"), max_length=24, blank=True)
    note = models.TextField(_("catatan"), blank=True)
    at = models.DateTimeField(_("waktu"), auto_now_add=True)

    class Meta:
        ordering = ["at", "id"]


class CalendarYear(models.Model):
    """Monthly calendar per year (set by pusat): regional input, ratification, cut-off."""

    year = models.PositiveSmallIntegerField(_("tahun"), unique=True)
    input_end_day = models.PositiveSmallIntegerField(_("batas input desa (tanggal)"), default=20)
    ratification_day = models.PositiveSmallIntegerField(
        _("batas pengesahan kab/kota (tanggal)"), default=25
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("kalender bulanan")
        verbose_name_plural = _("kalender bulanan")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(input_end_day__gte=1, input_end_day__lte=28)
                & models.Q(ratification_day__gte=1, ratification_day__lte=28)
                & models.Q(input_end_day__lte=models.F("ratification_day")),
                name="calendar_days_valid",
            ),
        ]


# --- Musdes/muskel -------------------------------------------------------------------------


class Musdes(models.Model):
    """A village/ward deliberation that agrees the proposal list (berita acara required)."""

    class State(models.TextChoices):
        DIRENCANAKAN = "direncanakan", _("Direncanakan")
        DIPUTUSKAN = "diputuskan", _("Keputusan dicatat")
        SELESAI = "selesai", _("Selesai (BA bertanda tangan diunggah)")

    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    region_code = models.CharField(_("kode wilayah"), max_length=10)
    held_on = models.DateField(_("tanggal"))
    place = models.CharField(_("tempat"), max_length=160)
    chair = models.CharField(_("pimpinan (kepala desa/lurah)"), max_length=120)
    state = models.CharField(
        _("tahap"), max_length=14, choices=State.choices, default=State.DIRENCANAKAN
    )
    minutes_pdf = models.FileField(_("berita acara (draf)"), upload_to="musdes/", blank=True)
    signed_scan = models.FileField(
        _("berita acara bertanda tangan"), upload_to="musdes/", blank=True
    )
    notes = models.TextField(_("catatan"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("musdes/muskel")
        verbose_name_plural = _("musdes/muskel")


class MusdesAttendee(models.Model):
    musdes = models.ForeignKey(Musdes, on_delete=models.PROTECT, related_name="attendees")
    name = models.CharField(_("nama"), max_length=120)
    position = models.CharField(_("jabatan/unsur"), max_length=120, blank=True)


class MusdesDecision(models.Model):
    musdes = models.ForeignKey(Musdes, on_delete=models.PROTECT, related_name="decisions")
    proposal = models.ForeignKey(
        Proposal, on_delete=models.PROTECT, related_name="musdes_decisions"
    )
    agreed = models.BooleanField(_("disepakati"))
    note = models.CharField(_("catatan"), max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["musdes", "proposal"], name="musdes_one_decision"),
        ]


# --- Verivali --------------------------------------------------------------------------------


class VisitResult(models.IntegerChoices):
    """Hasil verivali (Blok II of the 2020 form, extended with death and refusal)."""

    SELESAI = 1, _("Selesai diverivali (ditemukan)")
    TIDAK_DITEMUKAN = 2, _("Rumah tangga tidak ditemukan")
    PINDAH = 3, _("Pindah / bangunan sudah tidak ada")
    BAGIAN_RUTA_LAIN = 4, _("Bagian dari rumah tangga lain")
    GANDA = 5, _("Data ganda")
    MENINGGAL = 6, _("Meninggal dunia")
    MENOLAK = 7, _("Menolak diverivali")


# A negative result on an existing record turns into a deactivation proposal with this reason.
NEGATIVE_RESULT_REASON = {
    VisitResult.TIDAK_DITEMUKAN: NonaktifReason.TIDAK_DITEMUKAN,
    VisitResult.PINDAH: NonaktifReason.PINDAH,
    VisitResult.BAGIAN_RUTA_LAIN: NonaktifReason.GANDA,
    VisitResult.GANDA: NonaktifReason.GANDA,
    VisitResult.MENINGGAL: NonaktifReason.MENINGGAL,
    VisitResult.MENOLAK: NonaktifReason.MENOLAK,
}


class Assignment(models.Model):
    """A proposal given to an enumerator (PSKS volunteer) for a home visit."""

    class State(models.TextChoices):
        DITUGASKAN = "ditugaskan", _("Ditugaskan")
        DIKIRIM = "dikirim", _("Hasil dikirim (menunggu QC)")
        DIKEMBALIKAN = "dikembalikan", _("Dikembalikan oleh pengawas")
        DITERIMA = "diterima", _("Diterima pengawas")

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="assignments")
    enumerator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments"
    )
    region_code = models.CharField(_("kode wilayah"), max_length=10)
    state = models.CharField(
        _("tahap"), max_length=14, choices=State.choices, default=State.DITUGASKAN
    )
    due_on = models.DateField(_("batas waktu"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(auto_now_add=True)
    qc_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    qc_at = models.DateTimeField(null=True, blank=True)
    qc_note = models.TextField(_("catatan pengawas"), blank=True)

    class Meta:
        verbose_name = _("penugasan verivali")
        verbose_name_plural = _("penugasan verivali")
        indexes = [models.Index(fields=["enumerator", "state"], name="assignment_enum_state_idx")]


class Visit(models.Model):
    """The result of one home visit (several if QC returned the first)."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="visits")
    result = models.PositiveSmallIntegerField(_("hasil verivali"), choices=VisitResult.choices)
    visited_on = models.DateField(_("tanggal kunjungan"))
    latitude = models.DecimalField(_("lintang"), max_digits=9, decimal_places=6, null=True)
    longitude = models.DecimalField(_("bujur"), max_digits=9, decimal_places=6, null=True)
    respondent = models.CharField(_("responden"), max_length=120, blank=True)
    notes = models.TextField(_("catatan"), blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(auto_now_add=True)


class VisitPhoto(models.Model):
    """SIKS-Droid's nine photos: front, wall, floor, kitchen, toilet, KK, KTP, head, roof."""

    class Kind(models.TextChoices):
        DEPAN = "depan", _("Tampak depan rumah")
        DINDING = "dinding", _("Dinding")
        LANTAI = "lantai", _("Lantai")
        DAPUR = "dapur", _("Dapur")
        TOILET = "toilet", _("Toilet")
        KK = "kk", _("Kartu Keluarga")
        KTP = "ktp", _("KTP")
        KRT = "krt", _("Kepala rumah tangga")
        ATAP = "atap", _("Atap")

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="photos")
    kind = models.CharField(_("jenis foto"), max_length=10, choices=Kind.choices)
    file = models.FileField(_("foto"), upload_to="verivali/")


class Comment(models.Model):
    """The comments thread of a proposal; kept across return-for-revision loops."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_role = models.CharField(_("peran"), max_length=24, blank=True)
    text = models.TextField(_("komentar"))
    at = models.DateTimeField(_("waktu"), auto_now_add=True)

    class Meta:
        verbose_name = _("komentar")
        verbose_name_plural = _("komentar")
        ordering = ["at", "id"]
