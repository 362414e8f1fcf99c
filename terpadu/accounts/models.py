"""Users bound to one region; the region's subtree is their scope."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from terpadu.regions.models import Level


class Role(models.TextChoices):
    OPERATOR_DESA = "operator_desa", _("Operator desa/kelurahan")
    ENUMERATOR = "enumerator", _("Enumerator (PSKS: TKSK/PSM/pendamping)")
    OPERATOR_KECAMATAN = "operator_kecamatan", _("Operator kecamatan")
    VERIFIKATOR_KABKOTA = "verifikator_kabkota", _("Verifikator kab/kota")
    ADMIN_KABKOTA = "admin_kabkota", _("Admin kab/kota")
    OPERATOR_PROVINSI = "operator_provinsi", _("Operator provinsi")
    ADMIN_PROVINSI = "admin_provinsi", _("Admin provinsi")
    PUSAT = "pusat", _("Pusat (Pusdatin)")
    AUDITOR = "auditor", _("Auditor (baca saja)")


# The region level each role is bound to. None = national (no region).
# Enumerators work in a desa or a whole kecamatan (TKSK); auditors may be scoped anywhere.
ROLE_LEVELS: dict[str, tuple[int | None, ...]] = {
    Role.OPERATOR_DESA: (Level.DESA,),
    Role.ENUMERATOR: (Level.DESA, Level.KECAMATAN),
    Role.OPERATOR_KECAMATAN: (Level.KECAMATAN,),
    Role.VERIFIKATOR_KABKOTA: (Level.KABKOTA,),
    Role.ADMIN_KABKOTA: (Level.KABKOTA,),
    Role.OPERATOR_PROVINSI: (Level.PROVINSI,),
    Role.ADMIN_PROVINSI: (Level.PROVINSI,),
    Role.PUSAT: (None,),
    Role.AUDITOR: (None, Level.PROVINSI, Level.KABKOTA),
}


class User(AbstractUser):
    role = models.CharField(_("peran"), max_length=24, choices=Role.choices)
    region = models.ForeignKey(
        "regions.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("wilayah tugas"),
        help_text=_("Kosong hanya untuk akun nasional (pusat/auditor nasional)."),
    )
    # Digits of the region code, copied from `region` so scope checks need no join.
    scope = models.CharField(_("lingkup (kode)"), max_length=10, blank=True, editable=False)
    phone = models.CharField(_("telepon"), max_length=20, blank=True)
    psks_number = models.CharField(
        _("nomor PSKS"),
        max_length=40,
        blank=True,
        help_text=_("Untuk enumerator: nomor registrasi TKSK/PSM/pendamping."),
    )
    created_by = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("dibuat oleh"),
    )

    class Meta:
        verbose_name = _("pengguna")
        verbose_name_plural = _("pengguna")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]) | models.Q(role=""),
                name="user_role_valid",
            ),
        ]

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.scope = self.region.digits if self.region_id and self.region else ""
        super().save(*args, **kwargs)

    @property
    def is_national(self) -> bool:
        return self.region_id is None


class AppendOnlyModel(models.Model):
    """A log row: written once, never updated or deleted (UU PDP audit trail, domain.md §3.9).

    Guarding `save`/`delete` catches accidental ORM writes; bulk `update()`/`delete()` on a
    queryset bypass it, which is why nothing in the code base calls them on these tables.
    """

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        if not self._state.adding:
            raise ValueError(f"{type(self).__name__} is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError(f"{type(self).__name__} is append-only")


class AccessLog(AppendOnlyModel):
    """One read (or export) of personal data: who looked at what, where, and why."""

    user = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("pengguna"),
    )
    at = models.DateTimeField(_("waktu"), auto_now_add=True, db_index=True)
    # Free text on purpose: apps add their own actions ("view_record", "export_nik", ...).
    action = models.CharField(_("tindakan"), max_length=40)
    entity = models.CharField(_("jenis data"), max_length=60)
    entity_id = models.CharField(_("ID data"), max_length=64, blank=True)
    region_code = models.CharField(_("kode wilayah"), max_length=10, blank=True)
    purpose = models.TextField(_("tujuan"), blank=True)
    ip = models.GenericIPAddressField(_("alamat IP"), null=True, blank=True)

    class Meta:
        verbose_name = _("log akses data")
        verbose_name_plural = _("log akses data")
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["user", "at"], name="accesslog_user_at_idx"),
            models.Index(fields=["region_code", "at"], name="accesslog_region_at_idx"),
            models.Index(fields=["entity", "entity_id"], name="accesslog_entity_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.action} {self.entity}#{self.entity_id}"
        )


class UserEvent(AppendOnlyModel):
    """One change to an account (created, edited, deactivated, ...) with before → after values."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Dibuat")
        UPDATED = "updated", _("Diubah")
        DEACTIVATED = "deactivated", _("Dinonaktifkan")
        REACTIVATED = "reactivated", _("Diaktifkan kembali")
        PASSWORD_RESET = "password_reset", _("Kata sandi direset")
        PASSWORD_CHANGED = "password_changed", _("Kata sandi diganti sendiri")

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="events", verbose_name=_("pengguna")
    )
    actor = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("oleh"),
        help_text=_("Kosong = sistem (perintah/CLI)."),
    )
    at = models.DateTimeField(_("waktu"), auto_now_add=True)
    kind = models.CharField(_("jenis"), max_length=20, choices=Kind.choices)
    # {"field": [before, after]}; never holds passwords.
    changes = models.JSONField(_("perubahan"), default=dict, blank=True)
    note = models.CharField(_("catatan"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("riwayat pengguna")
        verbose_name_plural = _("riwayat pengguna")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "at"], name="userevent_user_at_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.kind}"


class LoginAttempt(models.Model):
    """Every login attempt; the throttle counts recent failures per username + IP."""

    username = models.CharField(_("nama pengguna"), max_length=150)
    ip = models.GenericIPAddressField(_("alamat IP"), null=True, blank=True)
    at = models.DateTimeField(_("waktu"), auto_now_add=True)
    succeeded = models.BooleanField(_("berhasil"), default=False)

    class Meta:
        verbose_name = _("percobaan masuk")
        verbose_name_plural = _("percobaan masuk")
        indexes = [models.Index(fields=["username", "ip", "at"], name="loginattempt_lookup_idx")]

    def __str__(self) -> str:
        return (
            f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.ip} {'ok' if self.succeeded else 'x'}"
        )
