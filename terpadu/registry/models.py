"""DTKS registry core: household (ruta) → family (KK) → person, with history.

Principles (design.md §1a): NIK and No KK are nullable indexed text, never unique; every
large table carries the digits-only desa code `region_code` (scope filter, partition key);
coded answers are small integers read through the code list named in `codelist`
(see codelists.py); rows are never hard-deleted, deactivation is a status with a reason;
every change is a `Change` row grouped under a `ChangeSet` (who, role, region, why, source).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from terpadu.registry.codelists import DEFAULT_CODELIST, Codelist


class RecordStatus(models.TextChoices):
    AKTIF = "aktif", _("Aktif")
    AKTIF_BERMASALAH = "aktif_bermasalah", _("Aktif bermasalah")
    NONAKTIF = "nonaktif", _("Nonaktif")


class NonaktifReason(models.TextChoices):
    MENINGGAL = "meninggal", _("Meninggal")
    PINDAH = "pindah", _("Pindah")
    GANDA = "ganda", _("Data ganda")
    TIDAK_DITEMUKAN = "tidak_ditemukan", _("Tidak ditemukan")
    TIDAK_LAYAK = "tidak_layak", _("Tidak layak")
    MENOLAK = "menolak", _("Menolak")
    TIDAK_PADAN = "tidak_padan", _("Tidak padan Dukcapil")


class Padan(models.TextChoices):
    BELUM = "belum", _("Belum dicek")
    PADAN = "padan", _("Padan")
    TIDAK_PADAN = "tidak_padan", _("Tidak padan")


class Keberadaan(models.TextChoices):
    DITEMUKAN = "ditemukan", _("Ditemukan")
    TIDAK_DITEMUKAN = "tidak_ditemukan", _("Tidak ditemukan")
    PINDAH = "pindah", _("Pindah")
    MENINGGAL = "meninggal", _("Meninggal")
    GANDA = "ganda", _("Ganda")
    BAGIAN_RUTA_LAIN = "bagian_ruta_lain", _("Bagian dari ruta lain")


class Kelayakan(models.TextChoices):
    BELUM = "belum", _("Belum dinilai")
    LAYAK = "layak", _("Layak")
    TIDAK_LAYAK = "tidak_layak", _("Tidak layak")


class DtsenStatus(models.TextChoices):
    AKTIF = "aktif", _("DTSEN AKTIF")
    AKTIF_ASESMEN_MENINGGAL = "aktif_asesmen_meninggal", _("DTSEN AKTIF – ASESMEN MENINGGAL")
    NONAKTIF = "nonaktif", _("DTSEN NONAKTIF")


class StatusFields(models.Model):
    """Status dimensions shared by households, families and persons (domain.md §1.6)."""

    status = models.CharField(
        _("status"), max_length=20, choices=RecordStatus.choices, default=RecordStatus.AKTIF
    )
    nonaktif_reason = models.CharField(
        _("alasan nonaktif"), max_length=20, choices=NonaktifReason.choices, blank=True
    )
    keberadaan = models.CharField(
        _("keberadaan"), max_length=20, choices=Keberadaan.choices, default=Keberadaan.DITEMUKAN
    )
    kelayakan = models.CharField(
        _("kelayakan"), max_length=12, choices=Kelayakan.choices, default=Kelayakan.BELUM
    )
    kelayakan_reason = models.CharField(_("alasan kelayakan"), max_length=200, blank=True)
    penetapan_period = models.CharField(
        _("periode penetapan"), max_length=7, blank=True, help_text=_("YYYY-MM")
    )
    # The database default serves the bulk writes (records.create_households_precleaned),
    # which leave these columns out: parsing a timestamp per row costs a COPY ≈ 25 %.
    created_at = models.DateTimeField(_("dibuat"), auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(_("diubah"), auto_now=True, db_default=Now())

    class Meta:
        abstract = True


class HouseholdData(StatusFields):
    """The data columns of a household, shared with its edition versions (editions app).

    Relations live on the concrete models: the registry row and its version point at the same
    region, but only the registry row is the region's `households`.
    """

    # Indexed on the registry row only, and only where set (see Household.Meta).
    id_dtks = models.CharField(_("ID DTKS"), max_length=40, blank=True)
    id_bdt = models.CharField(_("ID BDT"), max_length=40, blank=True)
    region_code = models.CharField(_("kode wilayah"), max_length=10)
    address = models.CharField(_("alamat"), max_length=255, blank=True)
    rt = models.CharField(_("RT"), max_length=4, blank=True)
    rw = models.CharField(_("RW"), max_length=4, blank=True)
    sls_name = models.CharField(_("nama SLS/dusun"), max_length=80, blank=True)
    latitude = models.DecimalField(
        _("lintang"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("bujur"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    codelist = models.CharField(
        _("versi daftar kode"), max_length=12, choices=Codelist.choices, default=DEFAULT_CODELIST
    )
    desil = models.PositiveSmallIntegerField(_("desil"), null=True, blank=True)

    # Blok III – housing (codes per `codelist`)
    building_tenure = models.PositiveSmallIntegerField(
        _("status penguasaan bangunan"), null=True, blank=True
    )
    land_tenure = models.PositiveSmallIntegerField(_("status lahan"), null=True, blank=True)
    floor_area = models.PositiveIntegerField(_("luas lantai (m²)"), null=True, blank=True)
    floor_type = models.PositiveSmallIntegerField(_("jenis lantai terluas"), null=True, blank=True)
    wall_type = models.PositiveSmallIntegerField(_("jenis dinding terluas"), null=True, blank=True)
    wall_condition = models.PositiveSmallIntegerField(_("kondisi dinding"), null=True, blank=True)
    roof_type = models.PositiveSmallIntegerField(_("jenis atap terluas"), null=True, blank=True)
    roof_condition = models.PositiveSmallIntegerField(_("kondisi atap"), null=True, blank=True)
    bedrooms = models.PositiveSmallIntegerField(_("jumlah kamar tidur"), null=True, blank=True)
    water_source = models.PositiveSmallIntegerField(_("sumber air minum"), null=True, blank=True)
    water_acquisition = models.PositiveSmallIntegerField(
        _("cara memperoleh air minum"), null=True, blank=True
    )
    water_customer_id = models.CharField(_("ID pelanggan PDAM"), max_length=40, blank=True)
    lighting = models.PositiveSmallIntegerField(_("sumber penerangan utama"), null=True, blank=True)
    power_capacity = models.PositiveSmallIntegerField(_("daya terpasang"), null=True, blank=True)
    pln_customer_id = models.CharField(_("ID pelanggan PLN"), max_length=40, blank=True)
    cooking_fuel = models.PositiveSmallIntegerField(_("bahan bakar memasak"), null=True, blank=True)
    gas_customer_id = models.CharField(_("ID pelanggan gas"), max_length=40, blank=True)
    toilet_use = models.PositiveSmallIntegerField(_("fasilitas BAB"), null=True, blank=True)
    toilet_type = models.PositiveSmallIntegerField(_("jenis kloset"), null=True, blank=True)
    sewage = models.PositiveSmallIntegerField(_("pembuangan akhir tinja"), null=True, blank=True)

    # Blok V – assets: booleans decoded from the 1/2 and 3/4 answer codes; null = unknown.
    asset_gas_cylinder = models.BooleanField(_("tabung gas ≥ 5,5 kg"), null=True, blank=True)
    asset_fridge = models.BooleanField(_("lemari es"), null=True, blank=True)
    asset_ac = models.BooleanField(_("AC"), null=True, blank=True)
    asset_water_heater = models.BooleanField(_("pemanas air"), null=True, blank=True)
    asset_landline = models.BooleanField(_("telepon rumah"), null=True, blank=True)
    asset_tv = models.BooleanField(_("televisi"), null=True, blank=True)
    asset_gold = models.BooleanField(_("emas/perhiasan/tabungan"), null=True, blank=True)
    asset_computer = models.BooleanField(_("komputer/laptop"), null=True, blank=True)
    asset_bicycle = models.BooleanField(_("sepeda"), null=True, blank=True)
    asset_motorcycle = models.BooleanField(_("sepeda motor"), null=True, blank=True)
    asset_car = models.BooleanField(_("mobil"), null=True, blank=True)
    asset_boat = models.BooleanField(_("perahu"), null=True, blank=True)
    asset_outboard = models.BooleanField(_("motor tempel"), null=True, blank=True)
    asset_motorboat = models.BooleanField(_("perahu motor"), null=True, blank=True)
    asset_ship = models.BooleanField(_("kapal"), null=True, blank=True)
    asset_smartphone = models.BooleanField(_("telepon pintar"), null=True, blank=True)
    asset_land = models.BooleanField(_("lahan"), null=True, blank=True)
    land_area = models.PositiveIntegerField(_("luas lahan (m²)"), null=True, blank=True)
    asset_other_house = models.BooleanField(_("rumah di tempat lain"), null=True, blank=True)
    livestock_cattle = models.PositiveSmallIntegerField(_("sapi"), null=True, blank=True)
    livestock_buffalo = models.PositiveSmallIntegerField(_("kerbau"), null=True, blank=True)
    livestock_horse = models.PositiveSmallIntegerField(_("kuda"), null=True, blank=True)
    livestock_pig = models.PositiveSmallIntegerField(_("babi"), null=True, blank=True)
    livestock_goat = models.PositiveSmallIntegerField(_("kambing/domba"), null=True, blank=True)
    has_business = models.BooleanField(_("ART memiliki usaha"), null=True, blank=True)

    class Meta:
        abstract = True


class Household(HouseholdData):
    """Rumah tangga (ruta): people sharing a dwelling and a kitchen; Blok I, III and V."""

    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        related_name="households",
        verbose_name=_("desa/kelurahan"),
        db_index=False,  # households are found by region_code (hh_region_status_idx)
    )

    class Meta:
        verbose_name = _("rumah tangga")
        verbose_name_plural = _("rumah tangga")
        indexes = [
            models.Index(fields=["region_code", "status"], name="hh_region_status_idx"),
            # New households have none until a determination gives it: a partial index
            # costs them nothing (and exact lookups are all that is asked of it).
            models.Index(
                fields=["id_dtks"], condition=models.Q(id_dtks__gt=""), name="hh_id_dtks_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Ruta #{self.pk} ({self.region_code})"


class FamilyData(StatusFields):
    """The data columns of a family, shared with its edition versions (editions app)."""

    region_code = models.CharField(_("kode wilayah"), max_length=10)
    # Indexed on the registry row only (Family.Meta): exact lookups, no LIKE twin.
    no_kk = models.CharField(_("No KK"), max_length=16, null=True, blank=True)
    nuk = models.PositiveSmallIntegerField(_("nomor urut keluarga (NUK)"), default=1)
    desil = models.PositiveSmallIntegerField(_("desil keluarga"), null=True, blank=True)

    class Meta:
        abstract = True


class Family(FamilyData):
    """Keluarga (KK). No KK is a versioned attribute, not a key: it changes on pecah KK."""

    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="families", verbose_name=_("rumah tangga")
    )
    head = models.ForeignKey(
        "Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("kepala keluarga"),
    )

    class Meta:
        verbose_name = _("keluarga")
        verbose_name_plural = _("keluarga")
        indexes = [
            models.Index(fields=["region_code", "status"], name="fam_region_status_idx"),
            models.Index(fields=["no_kk"], name="family_no_kk_idx"),
        ]

    def __str__(self) -> str:
        return f"KK {self.no_kk or '-'}"


class Sex(models.IntegerChoices):
    LAKI_LAKI = 1, _("Laki-laki")
    PEREMPUAN = 2, _("Perempuan")


class PersonData(StatusFields):
    """The data columns of a person, shared with its edition versions (editions app)."""

    # Not indexed: nothing looks a person up by ID DTKS (NIK and name are the keys people
    # search by), and its two btrees (plain + varchar_pattern_ops) were the largest on the
    # table: every non-HOT update of a person wrote an entry into each, on random pages,
    # ≈ 30 % of the WAL of a monthly determination (bench_editions.py).
    id_dtks = models.CharField(_("ID DTKS"), max_length=40, blank=True)
    region_code = models.CharField(_("kode wilayah"), max_length=10)
    codelist = models.CharField(
        _("versi daftar kode"), max_length=12, choices=Codelist.choices, default=DEFAULT_CODELIST
    )
    member_no = models.PositiveSmallIntegerField(_("nomor urut ART"), default=1)
    nik = models.CharField(_("NIK"), max_length=16, null=True, blank=True)
    name = models.CharField(_("nama"), max_length=120)
    name_norm = models.CharField(_("nama (normal)"), max_length=120, editable=False)
    sex = models.PositiveSmallIntegerField(_("jenis kelamin"), choices=Sex.choices)
    birth_place = models.CharField(_("tempat lahir"), max_length=80, blank=True)
    birth_date = models.DateField(_("tanggal lahir"), null=True, blank=True)
    relation_ruta = models.PositiveSmallIntegerField(
        _("hubungan dengan KRT"), null=True, blank=True
    )
    relation_kk = models.PositiveSmallIntegerField(
        _("hubungan dengan kepala keluarga"), null=True, blank=True
    )
    mother_name = models.CharField(_("nama ibu kandung"), max_length=120, blank=True)
    mother_name_norm = models.CharField(
        _("nama ibu (normal)"), max_length=120, blank=True, editable=False
    )
    marital_status = models.PositiveSmallIntegerField(_("status perkawinan"), null=True, blank=True)
    marriage_certificate = models.PositiveSmallIntegerField(
        _("akta/buku nikah"), null=True, blank=True
    )
    listed_in_kk = models.BooleanField(_("tercantum dalam KK di ruta ini"), null=True, blank=True)
    id_cards = models.PositiveSmallIntegerField(
        _("kartu identitas (bitmask)"),
        null=True,
        blank=True,
        help_text=_("+1 akta lahir, +2 kartu pelajar, +4 KTP, +8 SIM"),
    )
    pregnant = models.BooleanField(_("sedang hamil"), null=True, blank=True)
    breastfeeding = models.BooleanField(_("sedang menyusui"), null=True, blank=True)
    disability = models.PositiveSmallIntegerField(_("jenis disabilitas"), null=True, blank=True)
    chronic_illness = models.PositiveSmallIntegerField(_("penyakit kronis"), null=True, blank=True)
    nutrition = models.PositiveSmallIntegerField(_("kondisi gizi"), null=True, blank=True)
    school_participation = models.PositiveSmallIntegerField(
        _("partisipasi sekolah"), null=True, blank=True
    )
    education_level = models.PositiveSmallIntegerField(
        _("jenjang pendidikan"), null=True, blank=True
    )
    highest_class = models.PositiveSmallIntegerField(_("kelas tertinggi"), null=True, blank=True)
    diploma = models.PositiveSmallIntegerField(_("ijazah tertinggi"), null=True, blank=True)
    worked_last_week = models.BooleanField(_("bekerja seminggu terakhir"), null=True, blank=True)
    work_hours = models.PositiveSmallIntegerField(_("jam kerja seminggu"), null=True, blank=True)
    work_sector = models.PositiveSmallIntegerField(_("lapangan usaha"), null=True, blank=True)
    employment_status = models.PositiveSmallIntegerField(
        _("status kedudukan pekerjaan"), null=True, blank=True
    )
    occupation = models.CharField(_("pekerjaan"), max_length=80, blank=True)
    informal_work = models.BooleanField(
        _("pekerjaan informal"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Diturunkan dari status kedudukan pekerjaan (BPS: 1,2,6,7,8 = informal)."),
    )
    padan = models.CharField(
        _("padan Dukcapil"), max_length=12, choices=Padan.choices, default=Padan.BELUM
    )
    padan_checked_at = models.DateTimeField(_("tanggal cek Dukcapil"), null=True, blank=True)
    dtsen_status = models.CharField(
        _("status DTSEN"), max_length=30, choices=DtsenStatus.choices, blank=True
    )
    desil = models.PositiveSmallIntegerField(_("desil individu"), null=True, blank=True)

    class Meta:
        abstract = True


class Person(PersonData):
    """Individu / anggota rumah tangga (Blok IV)."""

    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="members", verbose_name=_("rumah tangga")
    )
    family = models.ForeignKey(
        Family, on_delete=models.PROTECT, related_name="members", verbose_name=_("keluarga")
    )

    class Meta:
        verbose_name = _("individu")
        verbose_name_plural = _("individu")
        indexes = [
            models.Index(fields=["nik"], name="person_nik_idx"),
            models.Index(fields=["name_norm"], name="person_name_idx"),
            # Scope (a region_code range) and status, with the name for name searches and
            # their counts within a region (read from the index): one index where there
            # were two, one entry less for every person written.
            models.Index(fields=["region_code", "status", "name_norm"], name="person_region_idx"),
            # Edition diffs read the persons an edition touched (editions/asof.py: a period
            # range above ''); rows no edition has determined yet ('') are left out, so
            # new rows (imports, usulan baru before their edition) cost it nothing.
            models.Index(
                fields=["penetapan_period"],
                condition=models.Q(penetapan_period__gt=""),
                name="person_penetapan_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(sex__in=[1, 2]), name="person_sex_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class FamilyMembership(models.Model):
    """A person's membership of a family over time; the open row is the current one."""

    person = models.ForeignKey(
        Person,
        on_delete=models.PROTECT,
        related_name="memberships",
        db_index=False,  # membership_person_idx (person, valid_to) serves it
    )
    family = models.ForeignKey(Family, on_delete=models.PROTECT, related_name="memberships")
    region_code = models.CharField(_("kode wilayah"), max_length=10)
    relation_kk = models.PositiveSmallIntegerField(
        _("hubungan dengan kepala keluarga"), null=True, blank=True
    )
    valid_from = models.DateField(_("sejak"))
    valid_to = models.DateField(_("sampai"), null=True, blank=True)

    class Meta:
        verbose_name = _("keanggotaan keluarga")
        verbose_name_plural = _("keanggotaan keluarga")
        indexes = [models.Index(fields=["person", "valid_to"], name="membership_person_idx")]

    def __str__(self) -> str:
        return f"{self.person_id} → KK {self.family_id} ({self.valid_from}–{self.valid_to or ''})"


class Program(models.Model):
    """Programme catalogue (national and regional); memberships are time-bounded rows."""

    class Target(models.TextChoices):
        FAMILY = "family", _("Keluarga")
        PERSON = "person", _("Individu")

    code = models.CharField(_("kode"), max_length=20, unique=True)
    name = models.CharField(_("nama"), max_length=120)
    name_en = models.CharField(_("nama (Inggris)"), max_length=120, blank=True)
    target = models.CharField(_("sasaran"), max_length=8, choices=Target.choices)
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("wilayah (program daerah)"),
    )
    active = models.BooleanField(_("aktif"), default=True)

    class Meta:
        verbose_name = _("program")
        verbose_name_plural = _("program")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"


class ProgramMembership(models.Model):
    class Status(models.TextChoices):
        AKTIF = "aktif", _("Aktif")
        DITANGGUHKAN = "ditangguhkan", _("Ditangguhkan")
        BERHENTI = "berhenti", _("Berhenti")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="memberships")
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="programs"
    )
    family = models.ForeignKey(
        Family, on_delete=models.PROTECT, null=True, blank=True, related_name="programs"
    )
    region_code = models.CharField(_("kode wilayah"), max_length=10)
    period_from = models.DateField(_("mulai"))
    period_to = models.DateField(_("sampai"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.AKTIF
    )
    reference = models.CharField(_("nomor peserta/KKS/rekening"), max_length=40, blank=True)
    source = models.CharField(_("sumber"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("kepesertaan program")
        verbose_name_plural = _("kepesertaan program")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(person__isnull=False, family__isnull=True)
                    | models.Q(person__isnull=True, family__isnull=False)
                ),
                name="programmembership_one_target",
            ),
        ]
        indexes = [models.Index(fields=["region_code", "program"], name="pm_region_program_idx")]

    def __str__(self) -> str:
        return f"{self.program_id} {self.person_id or self.family_id} {self.period_from}"


class PPKSType(models.Model):
    """The 26 PPKS categories (Permensos 8/2012)."""

    code = models.CharField(_("kode"), max_length=8, unique=True)
    name = models.CharField(_("nama"), max_length=120)
    abbrev = models.CharField(_("singkatan"), max_length=10)
    name_en = models.CharField(_("nama (Inggris)"), max_length=120)

    class Meta:
        verbose_name = _("jenis PPKS")
        verbose_name_plural = _("jenis PPKS")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class PersonPPKS(models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="ppks")
    ppks_type = models.ForeignKey(PPKSType, on_delete=models.PROTECT, related_name="+")
    region_code = models.CharField(_("kode wilayah"), max_length=10)
    since = models.DateField(_("sejak"))
    until = models.DateField(_("sampai"), null=True, blank=True)

    class Meta:
        verbose_name = _("PPKS individu")
        verbose_name_plural = _("PPKS individu")

    def __str__(self) -> str:
        return f"{self.person_id} {self.ppks_type_id}"


class PSKSType(models.Model):
    """The 12 PSKS categories (Permensos 8/2012)."""

    class Unit(models.TextChoices):
        PERSON = "person", _("Perorangan")
        FAMILY = "family", _("Keluarga")
        INSTITUTION = "institution", _("Lembaga")

    code = models.CharField(_("kode"), max_length=8, unique=True)
    name = models.CharField(_("nama"), max_length=120)
    name_en = models.CharField(_("nama (Inggris)"), max_length=120)
    unit = models.CharField(_("satuan"), max_length=12, choices=Unit.choices)

    class Meta:
        verbose_name = _("jenis PSKS")
        verbose_name_plural = _("jenis PSKS")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class PSKS(models.Model):
    """A social-welfare resource: a volunteer, a family or an institution."""

    psks_type = models.ForeignKey(PSKSType, on_delete=models.PROTECT, related_name="entries")
    name = models.CharField(_("nama"), max_length=160)
    person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="psks"
    )
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    region_code = models.CharField(_("kode wilayah"), max_length=10)
    registration_number = models.CharField(_("nomor registrasi"), max_length=40, blank=True)
    active = models.BooleanField(_("aktif"), default=True)
    since = models.DateField(_("sejak"), null=True, blank=True)

    class Meta:
        verbose_name = _("PSKS")
        verbose_name_plural = _("PSKS")

    def __str__(self) -> str:
        return f"{self.psks_type.code} {self.name}"


class ChangeSet(models.Model):
    """One act of change: who, with which role, from which region, when, why, from where."""

    class Source(models.TextChoices):
        FORM = "form", _("Formulir")
        ADMIN = "admin", _("Admin")
        IMPORT = "import", _("Impor berkas")
        PROPOSAL = "proposal", _("Usulan")
        DEMO = "demo", _("Data demo")
        SYSTEM = "system", _("Sistem")

    at = models.DateTimeField(_("waktu"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pelaku"),
    )
    actor_role = models.CharField(_("peran"), max_length=24, blank=True)
    actor_scope = models.CharField(_("wilayah pelaku"), max_length=10, blank=True)
    reason = models.TextField(_("alasan"))
    source = models.CharField(_("sumber"), max_length=10, choices=Source.choices)
    source_ref = models.CharField(_("rujukan sumber"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("rangkaian perubahan")
        verbose_name_plural = _("rangkaian perubahan")

    def __str__(self) -> str:
        return f"#{self.pk} {self.source} {self.actor_role}"


class Change(models.Model):
    """Append-only: one entity's change inside a ChangeSet, with before → after per field."""

    class Action(models.TextChoices):
        CREATE = "create", _("Buat")
        UPDATE = "update", _("Ubah")
        DEACTIVATE = "deactivate", _("Nonaktifkan")
        REACTIVATE = "reactivate", _("Aktifkan kembali")

    # Append-only rows of one changeset lie together on disk: on PostgreSQL a BRIN index
    # (a few pages, next to nothing per insert) finds them, on SQLite a b-tree; both are
    # created by registry/0007 (Django declares no BRIN that SQLite could also build).
    changeset = models.ForeignKey(
        ChangeSet, on_delete=models.PROTECT, related_name="changes", db_index=False
    )
    entity = models.CharField(_("entitas"), max_length=20)
    entity_id = models.BigIntegerField(_("id entitas"))
    region_code = models.CharField(_("kode wilayah"), max_length=10)
    action = models.CharField(_("aksi"), max_length=10, choices=Action.choices)
    diff = models.JSONField(
        _("perubahan"), default=dict, help_text=_("{field: [sebelum, sesudah]}")
    )

    class Meta:
        verbose_name = _("perubahan")
        verbose_name_plural = _("perubahan")
        # Id first: every lookup gives both, and a bulk write's rows then land by number
        # rather than behind a text comparison per level of the tree.
        indexes = [models.Index(fields=["entity_id", "entity"], name="change_record_idx")]

    def __str__(self) -> str:
        return f"{self.action} {self.entity}#{self.entity_id}"
