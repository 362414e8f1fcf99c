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
        "regions.Region", on_delete=models.PROTECT, null=True, blank=True,
        related_name="users", verbose_name=_("wilayah tugas"),
        help_text=_("Kosong hanya untuk akun nasional (pusat/auditor nasional)."),
    )
    # Digits of the region code, copied from `region` so scope checks need no join.
    scope = models.CharField(_("lingkup (kode)"), max_length=10, blank=True, editable=False)
    phone = models.CharField(_("telepon"), max_length=20, blank=True)
    psks_number = models.CharField(
        _("nomor PSKS"), max_length=40, blank=True,
        help_text=_("Untuk enumerator: nomor registrasi TKSK/PSM/pendamping."),
    )
    created_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
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
