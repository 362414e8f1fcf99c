"""Display labels of the model's comparison levels (the model JSON stores them in
Indonesian as Splink chart labels; the pages show them through the translation catalogue)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

LEVEL_LABELS = {
    "alamat berbeda": _("Alamat berbeda"),
    "alamat mirip": _("Alamat mirip"),
    "alamat sama": _("Alamat sama"),
    "desa sama": _("Desa sama"),
    "jenis kelamin berbeda": _("Jenis kelamin berbeda"),
    "jenis kelamin sama": _("Jenis kelamin sama"),
    "kab/kota sama": _("Kab/kota sama"),
    "kecamatan sama": _("Kecamatan sama"),
    "nama agak mirip": _("Nama agak mirip"),
    "nama berbeda": _("Nama berbeda"),
    "nama ibu berbeda": _("Nama ibu berbeda"),
    "nama ibu mirip": _("Nama ibu mirip"),
    "nama ibu sama": _("Nama ibu sama"),
    "nama ibu sangat mirip": _("Nama ibu sangat mirip"),
    "nama mirip": _("Nama mirip"),
    "nama sama (varian ejaan)": _("Nama sama (varian ejaan)"),
    "nama sama persis": _("Nama sama persis"),
    "nama sangat mirip": _("Nama sangat mirip"),
    "tanggal lahir berbeda": _("Tanggal lahir berbeda"),
    "tanggal lahir sama": _("Tanggal lahir sama"),
    "tempat lahir berbeda": _("Tempat lahir berbeda"),
    "tempat lahir mirip": _("Tempat lahir mirip"),
    "tempat lahir sama": _("Tempat lahir sama"),
    "wilayah berbeda": _("Wilayah berbeda"),
    "tanggal dan bulan tertukar": _("Tanggal dan bulan tertukar"),
    "selisih ≤ 10 hari": _("Selisih ≤ 10 hari"),
    "tahun lahir sama": _("Tahun lahir sama"),
    "kosong": _("Kosong"),
    "NIK sama": _("NIK sama"),
    "No KK sama": _("No KK sama"),
}


def level_label(label: str) -> str:
    """The translated display label of a level label (unknown labels shown as stored)."""
    return str(LEVEL_LABELS.get(label, label))
