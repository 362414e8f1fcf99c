"""Kemendagri region tree: provinsi → kab/kota → kecamatan → desa/kelurahan.

Codes are text. `code` is the display form (``13.71.01.1001``); `digits` is the digits-only
form (``1371011001``) that registry rows carry in their own ``region_code`` column, so that a
scope check is a prefix range on one indexed column (see :func:`digits_range`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from terpadu.accounts.models import User


class Level(models.IntegerChoices):
    PROVINSI = 1, _("Provinsi")
    KABKOTA = 2, _("Kabupaten/Kota")
    KECAMATAN = 3, _("Kecamatan")
    DESA = 4, _("Desa/Kelurahan")


class Kind(models.TextChoices):
    PROVINSI = "provinsi", _("Provinsi")
    KABUPATEN = "kabupaten", _("Kabupaten")
    KOTA = "kota", _("Kota")
    KECAMATAN = "kecamatan", _("Kecamatan")
    KELURAHAN = "kelurahan", _("Kelurahan")
    DESA = "desa", _("Desa")
    DESA_ADAT = "desa_adat", _("Desa adat")


DIGITS_BY_LEVEL = {Level.PROVINSI: 2, Level.KABKOTA: 4, Level.KECAMATAN: 6, Level.DESA: 10}
CURRENT_VERSION = "Kepmendagri 300.2.2-2138/2025"


def to_digits(code: str) -> str:
    """``13.71.01.1001`` → ``1371011001`` (dots and spaces dropped)."""
    return "".join(ch for ch in code if ch.isdigit())


def to_display(digits: str) -> str:
    """``1371011001`` → ``13.71.01.1001``."""
    parts = [digits[0:2], digits[2:4], digits[4:6], digits[6:10]]
    return ".".join(p for p in parts if p)


def level_of(digits: str) -> Level | None:
    for level, width in DIGITS_BY_LEVEL.items():
        if len(digits) == width:
            return level
    return None


def digits_range(prefix: str) -> tuple[str, str | None]:
    """Half-open string range [lo, hi) holding every code that starts with `prefix`.

    A range works with a plain b-tree index on SQLite and PostgreSQL under any collation,
    unlike LIKE 'prefix%'. Codes are fixed-width digit strings, so incrementing the prefix
    as a number of the same width gives the upper bound.
    """
    if not prefix:
        return "", None
    upper = int(prefix) + 1
    if len(str(upper)) > len(prefix):
        return prefix, None
    return prefix, str(upper).zfill(len(prefix))


def prefix_q(field: str, prefix: str) -> models.Q:
    """Q for "`field` (a digits-only code) starts with `prefix`", as the index-friendly range
    of :func:`digits_range`. An empty prefix matches everything (national scope)."""
    lo, hi = digits_range(prefix)
    q = models.Q()
    if lo:
        q &= models.Q(**{f"{field}__gte": lo})
    if hi:
        q &= models.Q(**{f"{field}__lt": hi})
    return q


class RegionQuerySet(models.QuerySet["Region"]):
    def current(self) -> RegionQuerySet:
        return self.filter(valid_to__isnull=True)

    def within(self, prefix: str) -> RegionQuerySet:
        return self.filter(prefix_q("digits", prefix))

    def visible_to(self, user: User | AnonymousUser) -> RegionQuerySet:
        """Regions inside the user's scope subtree (empty scope = national).

        Any signed-in, active account may pick regions of its own subtree (enumerators too,
        who have no registry LIST right), so this reads `user.scope` rather than the
        role table in accounts.access.
        """
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        return self.within(user.scope)  # type: ignore[union-attr]


class Region(models.Model):
    code = models.CharField(_("kode"), max_length=13, db_index=True)
    digits = models.CharField(_("kode (angka)"), max_length=10)
    level = models.PositiveSmallIntegerField(_("tingkat"), choices=Level.choices)
    kind = models.CharField(_("jenis"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("nama"), max_length=120)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("induk"),
    )
    valid_from = models.DateField(_("berlaku sejak"))
    valid_to = models.DateField(_("berlaku sampai"), null=True, blank=True)
    source_version = models.CharField(_("dasar hukum"), max_length=60, default=CURRENT_VERSION)
    successor_codes = models.CharField(
        _("kode pengganti"),
        max_length=200,
        blank=True,
        help_text=_("Kode baru bila wilayah dipecah/digabung/diganti (dipisah koma)."),
    )

    objects = RegionQuerySet.as_manager()

    class Meta:
        verbose_name = _("wilayah")
        verbose_name_plural = _("wilayah")
        ordering = ["digits"]
        constraints = [
            models.UniqueConstraint(fields=["digits", "valid_from"], name="region_code_version"),
            # A code has at most one current version; the loader closes before it inserts.
            models.UniqueConstraint(
                fields=["digits"],
                condition=models.Q(valid_to__isnull=True),
                name="region_one_current",
            ),
        ]
        indexes = [
            models.Index(fields=["digits"], name="region_digits_idx"),
            models.Index(fields=["level", "name"], name="region_level_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_current(self) -> bool:
        return self.valid_to is None

    @property
    def full_name(self) -> str:
        """``Kecamatan Bungus Teluk Kabung``; kab/kota names already carry their kind."""
        kind = str(self.get_kind_display())
        if self.name.lower().startswith(kind.lower()) or self.level == Level.KABKOTA:
            return self.name
        return f"{kind} {self.name}"
