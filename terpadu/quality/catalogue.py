"""The fixed vocabularies of the quality app: reference-list kinds and the seeded rule set.

The rule rows themselves live in the database (`EligibilityRule`, seeded by migration 0002
from `SEED_RULES`); this module only names the list kinds an admin can upload and the
fields an attribute rule may read.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# Reference-list kinds an admin may upload (kind -> label). A rule names the kind it reads.
LIST_KINDS: dict[str, object] = {
    "asn_tni_polri": _("ASN/TNI/Polri aktif (BKN/instansi)"),
    "pensiunan": _("Pensiunan ASN/TNI/Polri (Taspen/Asabri)"),
    "gaji_apbn_apbd": _("Penerima gaji/honor APBN/APBD"),
    "perangkat_desa": _("Perangkat desa"),
    "guru_sertifikasi": _("Guru bersertifikasi"),
    "tenaga_kesehatan": _("Tenaga kesehatan"),
    "pemilik_usaha": _("Pengurus/pemilik badan usaha (AHU)"),
    "upah": _("Upah (BPJS Ketenagakerjaan), dengan nilai upah"),
    "kematian": _("Kematian (Dukcapil)"),
    "menolak": _("Menolak bantuan (surat pernyataan)"),
    "bantuan_lain": _("Penerima bantuan sumber lain"),
    "kendaraan_roda4": _("Pemilik kendaraan roda 4 (Samsat)"),
    "njop": _("Nilai properti (NJOP, Bapenda), dengan nilai"),
}

# What an attribute rule may read: table -> allowed fields (plain columns, no relations).
ATTRIBUTE_FIELDS: dict[str, frozenset[str]] = {
    "household": frozenset(
        {
            "power_capacity",
            "lighting",
            "floor_area",
            "asset_car",
            "asset_ac",
            "asset_other_house",
            "land_area",
            "has_business",
            "desil",
        }
    ),
    "person": frozenset(
        {"employment_status", "work_sector", "informal_work", "desil", "education_level"}
    ),
}

OPERATORS = ("eq", "in", "gte", "gt", "lte", "lt", "true")

_S23 = "Kemensos 2023, 15 kategori tidak layak (domain.md §6.1, S23)"
_S24 = "Padanan BPK/Kemensos (domain.md §6.1, S24)"

# (code, name, name_en, legal reference, kind, parameters, reason_code, hard)
SEED_RULES: list[tuple[str, str, str, str, str, dict, str, bool]] = [
    (
        "asn_tni_polri",
        "KPM ASN/TNI/Polri",
        "Recipient is a civil servant, soldier or police officer",
        f"Kategori 4, {_S23}",
        "reference",
        {"list_kind": "asn_tni_polri"},
        "tidak_layak",
        True,
    ),
    (
        "asn_tni_polri_kk",
        "Anggota KK yang sama ASN/TNI/Polri",
        "A member of the same KK is a civil servant, soldier or police officer",
        f"Kategori 5, {_S23}",
        "same_kk",
        {"list_kind": "asn_tni_polri"},
        "tidak_layak",
        True,
    ),
    (
        "pensiunan",
        "Pensiunan ASN/TNI/Polri",
        "Retired civil servant, soldier or police officer",
        f"Kategori 6, {_S23}",
        "reference",
        {"list_kind": "pensiunan"},
        "tidak_layak",
        False,
    ),
    (
        "gaji_apbn_apbd",
        "Menerima gaji/upah dari APBN/APBD",
        "Paid from the state or regional budget",
        f"Kategori 7, {_S23}",
        "reference",
        {"list_kind": "gaji_apbn_apbd"},
        "tidak_layak",
        False,
    ),
    (
        "perangkat_desa",
        "Perangkat desa",
        "Village official",
        f"Kategori 8, {_S23}; {_S24}",
        "reference",
        {"list_kind": "perangkat_desa"},
        "tidak_layak",
        False,
    ),
    (
        "guru_sertifikasi",
        "Guru bersertifikasi",
        "Certified teacher",
        f"Kategori 9, {_S23}; {_S24}",
        "reference",
        {"list_kind": "guru_sertifikasi"},
        "tidak_layak",
        False,
    ),
    (
        "tenaga_kesehatan",
        "Tenaga kesehatan",
        "Health worker",
        f"Kategori 10, {_S23}",
        "reference",
        {"list_kind": "tenaga_kesehatan"},
        "tidak_layak",
        False,
    ),
    (
        "pemilik_usaha",
        "Pengurus/pemilik perusahaan",
        "Company officer or owner",
        f"Kategori 11, {_S23}; {_S24} (AHU)",
        "reference",
        {"list_kind": "pemilik_usaha"},
        "tidak_layak",
        False,
    ),
    (
        "upah_di_atas_ump",
        "Upah di atas UMP/UMK",
        "Wage above the regional minimum wage",
        f"Kategori 12, {_S23}; {_S24} (BPJS Ketenagakerjaan)",
        "reference",
        # UMP Sumatera Barat 2025; add other provinces/kab (UMK) as parameters.
        {"list_kind": "upah", "threshold_by_region": {"13": 2994193}},
        "tidak_layak",
        False,
    ),
    (
        "meninggal",
        "Meninggal dunia",
        "Deceased",
        f"Kategori 3, {_S23}; {_S24} (Dukcapil)",
        "reference",
        {"list_kind": "kematian"},
        "meninggal",
        True,
    ),
    (
        "menolak",
        "Menolak bantuan",
        "Refuses aid",
        f"Kategori 13, {_S23}",
        "reference",
        {"list_kind": "menolak"},
        "menolak",
        False,
    ),
    (
        "bantuan_lain",
        "Menerima bantuan dari sumber lain",
        "Receives aid from another source",
        f"Kategori 15, {_S23}",
        "reference",
        {"list_kind": "bantuan_lain"},
        "tidak_layak",
        False,
    ),
    (
        "pln_900va",
        "Pelanggan PLN ≥ 900 VA",
        "PLN customer with ≥ 900 VA",
        f"{_S24} (PLN ≥ 900 VA nonsubsidi)",
        "attribute",
        # DTKS 2020 power codes: 1 = 450 W, 2 = 900 W, 3 = 1.300 W, 4 = 2.200 W, 5 = > 2.200 W.
        {
            "table": "household",
            "field": "power_capacity",
            "op": "in",
            "values": [2, 3, 4, 5],
            "codelist": "DTKS2020",
        },
        "tidak_layak",
        False,
    ),
    (
        "kendaraan_roda4",
        "Pemilik kendaraan roda 4",
        "Owner of a four-wheel vehicle",
        f"{_S24} (Samsat)",
        "reference",
        {"list_kind": "kendaraan_roda4"},
        "tidak_layak",
        False,
    ),
    (
        "nilai_properti",
        "Nilai properti (NJOP) > Rp 1 miliar",
        "Property value (NJOP) above IDR 1 billion",
        "Praktik DKI Jakarta (Bapenda), domain.md §6.1 S25",
        "reference",
        {"list_kind": "njop", "threshold": 1_000_000_000},
        "tidak_layak",
        False,
    ),
]
