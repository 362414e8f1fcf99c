"""Versioned code lists (domain.md §1.3–1.4). Labels stay Indonesian, as on the forms.

The same variable has different codes in different versions (floor "Tanah" is 9 in DTKS2020
and 8 in DTSEN2025), so a coded value is only meaningful together with its row's `codelist`.
Moving a value between versions goes through :func:`translate` and the `CROSSWALK` data,
never by copying the integer.

Variable names are the Person/Household model field names, except that both relation
columns share the variable "relation" (see `FIELD_VARIABLE`). The DTSEN2025 lists come from a
regional project's decoder (domain.md §1.4, src S10) and are unverified against a BPS codebook.
"""

from __future__ import annotations

from typing import Any

from django.db import models


class Codelist(models.TextChoices):
    DTKS2020 = "DTKS2020", "DTKS/PBDT (2015–2024)"
    DTSEN2025 = "DTSEN2025", "DTSEN (2025–)"


DEFAULT_CODELIST = Codelist.DTKS2020.value


def _numbered(*labels: str, start: int = 1) -> dict[int, str]:
    return dict(enumerate(labels, start))


# Shared between versions where the lists are identical.
_SEX = _numbered("Laki-laki", "Perempuan")
_MARITAL_STATUS = _numbered("Belum kawin", "Kawin/nikah", "Cerai hidup", "Cerai mati")
_BUILDING_TENURE = _numbered("Milik sendiri", "Kontrak/sewa", "Bebas sewa", "Dinas", "Lainnya")

_DTKS2020: dict[str, dict[int, str]] = {
    # Blok III – housing
    "building_tenure": _BUILDING_TENURE,
    "land_tenure": _numbered("Milik sendiri", "Milik orang lain", "Tanah negara", "Lainnya"),
    "floor_type": _numbered(
        "Marmer/granit",
        "Keramik",
        "Parket/vinil/permadani",
        "Ubin/tegel/teraso",
        "Kayu/papan kualitas tinggi",
        "Semen/bata merah",
        "Bambu",
        "Kayu/papan kualitas rendah",
        "Tanah",
        "Lainnya",
    ),
    "wall_type": _numbered(
        "Tembok",
        "Plesteran anyaman bambu/kawat",
        "Kayu",
        "Anyaman bambu",
        "Batang kayu",
        "Bambu",
        "Lainnya",
    ),
    "wall_condition": _numbered("Bagus/kualitas tinggi", "Jelek/kualitas rendah"),
    "roof_type": _numbered(
        "Beton/genteng beton",
        "Genteng keramik",
        "Genteng metal",
        "Genteng tanah liat",
        "Asbes",
        "Seng",
        "Sirap",
        "Bambu",
        "Jerami/ijuk/daun-daunan/rumbia",
        "Lainnya",
    ),
    "roof_condition": _numbered("Bagus/kualitas tinggi", "Jelek/kualitas rendah"),
    "water_source": _numbered(
        "Air kemasan bermerk",
        "Air isi ulang",
        "Leding meteran",
        "Leding eceran",
        "Sumur bor/pompa",
        "Sumur terlindung",
        "Sumur tak terlindung",
        "Mata air terlindung",
        "Mata air tak terlindung",
        "Air sungai/danau/waduk",
        "Air hujan",
        "Lainnya",
    ),
    "water_acquisition": _numbered("Membeli eceran", "Langganan", "Tidak membeli"),
    "lighting": _numbered("Listrik PLN", "Listrik non-PLN", "Bukan listrik"),
    "power_capacity": _numbered(
        "450 W", "900 W", "1.300 W", "2.200 W", "> 2.200 W", "Tanpa meteran"
    ),
    "cooking_fuel": _numbered(
        "Listrik",
        "Gas > 3 kg",
        "Gas 3 kg",
        "Gas kota/biogas",
        "Minyak tanah",
        "Briket",
        "Arang",
        "Kayu bakar",
        "Tidak memasak di rumah",
    ),
    "toilet_use": _numbered("Sendiri", "Bersama", "Umum", "Tidak ada"),
    "toilet_type": _numbered("Leher angsa", "Plengsengan", "Cemplung/cubluk", "Tidak pakai"),
    "sewage": _numbered(
        "Tangki",
        "SPAL",
        "Lubang tanah",
        "Kolam/sawah/sungai/danau/laut",
        "Pantai/tanah lapang/kebun",
        "Lainnya",
    ),
    # Blok IV – household members
    "relation": _numbered(
        "Kepala rumah tangga",
        "Istri/suami",
        "Anak",
        "Menantu",
        "Cucu",
        "Orang tua/mertua",
        "Pembantu ruta",
        "Lainnya",
    ),
    "sex": _SEX,
    "marital_status": _MARITAL_STATUS,
    "marriage_certificate": _numbered(
        "Tidak", "Ya, dapat ditunjukkan", "Ya, tidak dapat ditunjukkan", start=0
    ),
    "disability": _numbered(
        "Tidak cacat",
        "Tuna daksa/cacat tubuh",
        "Tuna netra/buta",
        "Tuna rungu",
        "Tuna wicara",
        "Tuna rungu & wicara",
        "Tuna netra & cacat tubuh",
        "Tuna netra, rungu & wicara",
        "Tuna rungu, wicara & cacat tubuh",
        "Tuna rungu, wicara, netra & cacat tubuh",
        "Cacat mental retardasi",
        "Mantan penderita gangguan jiwa",
        "Cacat fisik & mental",
        start=0,
    ),
    "chronic_illness": _numbered(
        "Tidak ada",
        "Hipertensi",
        "Rematik",
        "Asma",
        "Masalah jantung",
        "Diabetes",
        "TBC",
        "Stroke",
        "Kanker/tumor ganas",
        "Lainnya (gagal ginjal, paru-paru flek, dsb.)",
        start=0,
    ),
    "school_participation": _numbered(
        "Tidak/belum pernah sekolah", "Masih sekolah", "Tidak bersekolah lagi", start=0
    ),
    "education_level": _numbered(
        "SD/SDLB",
        "Paket A",
        "M. Ibtidaiyah",
        "SMP/SMPLB",
        "Paket B",
        "M. Tsanawiyah",
        "SMA/SMK/SMALB",
        "Paket C",
        "M. Aliyah",
        "Perguruan tinggi",
    ),
    "diploma": _numbered(
        "Tidak punya",
        "SD/sederajat",
        "SMP/sederajat",
        "SMA/sederajat",
        "D1/D2/D3",
        "D4/S1",
        "S2/S3",
        start=0,
    ),
    "work_sector": _numbered(
        "Pertanian tanaman padi & palawija",
        "Hortikultura",
        "Perkebunan",
        "Perikanan tangkap",
        "Perikanan budidaya",
        "Peternakan",
        "Kehutanan & pertanian lainnya",
        "Pertambangan/penggalian",
        "Industri pengolahan",
        "Listrik dan gas",
        "Bangunan/konstruksi",
        "Perdagangan",
        "Hotel dan rumah makan",
        "Transportasi dan pergudangan",
        "Informasi & komunikasi",
        "Keuangan & asuransi",
        "Jasa pendidikan",
        "Jasa kesehatan",
        "Jasa kemasyarakatan, pemerintahan & perorangan",
        "Pemulung",
        "TKI",
        "Lainnya",
    ),
    "employment_status": _numbered(
        "Berusaha sendiri",
        "Berusaha dibantu buruh tidak tetap/tidak dibayar",
        "Berusaha dibantu buruh tetap/dibayar",
        "Buruh/karyawan/pegawai swasta",
        "PNS/TNI/Polri/BUMN/BUMD/anggota legislatif",
        "Pekerja bebas pertanian",
        "Pekerja bebas non-pertanian",
        "Pekerja keluarga/tidak dibayar",
    ),
}

_DTSEN2025: dict[str, dict[int, str]] = {
    # Individual
    "relation": _numbered(
        "Kepala keluarga",
        "Istri/suami",
        "Anak",
        "Menantu",
        "Cucu",
        "Orangtua/mertua",
        "Pembantu/sopir",
        "Lainnya",
    ),
    "sex": _SEX,
    "marital_status": _MARITAL_STATUS,
    "school_participation": _numbered(
        "Tidak/belum pernah sekolah", "Masih sekolah", "Tidak bersekolah lagi"
    ),
    "education_level": _numbered(
        "Paket A",
        "SDLB",
        "SD",
        "MI",
        "SPM/PDF Ula",
        "Paket B",
        "SMP LB",
        "SMP",
        "MTs",
        "SPM/PDF Wustha",
        "Paket C",
        "SMLB",
        "SMA",
        "MA",
        "SMK",
        "MAK",
        "SPM/PDF Ulya",
        "D1/D2/D3",
        "D4/S1",
        "Profesi",
        "S2",
        "S3",
    ),
    "work_sector": _numbered(
        "Pertanian tanaman pangan & palawija",
        "Hortikultura",
        "Perkebunan",
        "Perikanan",
        "Peternakan",
        "Kehutanan & pertanian lainnya",
        "Pertambangan/penggalian",
        "Industri pengolahan",
        "Listrik/gas/uap",
        "Air/limbah/daur ulang",
        "Konstruksi",
        "Perdagangan besar & eceran/reparasi",
        "Pengangkutan & pergudangan",
        "Akomodasi & makan minum",
        "Informasi & komunikasi",
        "Keuangan & asuransi",
        "Real estate",
        "Profesional/ilmiah/teknis",
        "Penyewaan/ketenagakerjaan/agen perjalanan",
        "Administrasi pemerintahan/pertahanan/jaminan sosial wajib",
        "Pendidikan",
        "Kesehatan & aktivitas sosial",
        "Kesenian/hiburan/rekreasi",
        "Jasa lainnya",
        "Keluarga sebagai pemberi kerja",
        "Badan internasional",
    ),
    "employment_status": _numbered(
        "Berusaha sendiri",
        "Berusaha dibantu buruh tidak tetap/tidak dibayar",
        "Berusaha dibantu buruh tetap/dibayar",
        "Buruh/karyawan/pegawai swasta",
        "PNS/TNI/Polri/BUMN/BUMD/pejabat negara",
        "Pekerja bebas pertanian",
        "Pekerja bebas non-pertanian",
        "Pekerja keluarga/tidak dibayar",
    ),
    # Unit per month is unverified (domain.md §1.4).
    "business_turnover": _numbered(
        "< 5 juta",
        "5 – < 15 juta",
        "15 – < 25 juta (ultra mikro)",
        "25 – < 167 juta (mikro)",
        "167 – < 1.250 juta (kecil)",
        "1.250 – < 4.167 juta (menengah)",
        "≥ 4.167 juta (besar)",
    ),
    "nutrition": {
        1: "Kurang gizi (wasting)",
        2: "Kerdil (stunting)",
        3: "Tidak ada catatan",
        8: "Tidak tahu",
    },
    # One scale for all nine Washington-Group domains (seeing, hearing, walking, ...).
    "functional_difficulty": _numbered(
        "Sama sekali tidak bisa",
        "Banyak kesulitan & butuh bantuan",
        "Sedikit kesulitan tanpa bantuan",
        "Tidak mengalami kesulitan",
    ),
    "depression": _numbered("Sangat sering", "Sering", "Jarang", "Tidak pernah"),
    "chronic_illness": _numbered(
        "Tidak ada",
        "Hipertensi",
        "Rematik",
        "Asma",
        "Jantung",
        "Diabetes",
        "TBC",
        "Stroke",
        "Kanker/tumor ganas",
        "Gagal ginjal",
        "Haemophilia",
        "HIV/AIDS",
        "Kolesterol",
        "Sirosis hati",
        "Thalasemia",
        "Leukimia",
        "Alzheimer",
        "Lainnya",
    ),
    # Family / housing
    "building_tenure": _BUILDING_TENURE,
    "floor_type": _numbered(
        "Marmer/granit",
        "Keramik",
        "Parket/vinil/karpet",
        "Ubin/tegel/teraso",
        "Kayu/papan",
        "Semen/bata merah",
        "Bambu",
        "Tanah",
        "Lainnya",
    ),
    "wall_type": _numbered(
        "Tembok",
        "Plesteran anyaman bambu/kawat",
        "Kayu/papan/gypsum/GRC/calciboard",
        "Anyaman bambu",
        "Batang kayu",
        "Bambu",
        "Lainnya",
    ),
    "roof_type": _numbered(
        "Beton",
        "Genteng",
        "Seng",
        "Asbes",
        "Bambu",
        "Kayu/sirap",
        "Jerami/ijuk/daun-daunan/rumbia",
        "Lainnya",
    ),
    "water_source": _numbered(
        "Air kemasan bermerk",
        "Air isi ulang",
        "Leding",
        "Sumur bor/pompa",
        "Sumur terlindung",
        "Sumur tak terlindung",
        "Mata air terlindung",
        "Mata air tak terlindung",
        "Air permukaan",
        "Air hujan",
        "Lainnya",
    ),
    "toilet_use": _numbered(
        "Ada, dipakai keluarga sendiri",
        "Ada, bersama keluarga tertentu",
        "Ada, MCK komunal",
        "Ada, MCK umum",
        "Ada, tidak digunakan",
        "Tidak ada",
    ),
    "toilet_type": _numbered(
        "Leher angsa", "Plengsengan dengan tutup", "Plengsengan tanpa tutup", "Cemplung/cubluk"
    ),
    "sewage": _numbered(
        "Tangki septik",
        "IPAL",
        "Kolam/sawah/sungai/danau/laut",
        "Lubang tanah",
        "Pantai/tanah lapang/kebun",
        "Lainnya",
    ),
    "lighting": _numbered(
        "PLN dengan meteran", "PLN tanpa meteran", "Listrik non-PLN", "Bukan listrik"
    ),
    "cooking_fuel": _numbered(
        "Tidak memasak di rumah",
        "Listrik",
        "Elpiji 5,5 kg/blue gaz",
        "Elpiji 12 kg",
        "Elpiji 3 kg",
        "Gas kota/PGN",
        "Biogas",
        "Minyak tanah",
        "Briket",
        "Arang",
        "Kayu bakar",
        "Lainnya",
        start=0,
    ),
}

# codelist -> variable -> {code: label}
CODES: dict[str, dict[str, dict[int, str]]] = {
    Codelist.DTKS2020: _DTKS2020,
    Codelist.DTSEN2025: _DTSEN2025,
}

# Model field -> code-list variable, for every coded Household/Person/FamilyMembership field.
FIELD_VARIABLE: dict[str, str] = {
    "relation_ruta": "relation",
    "relation_kk": "relation",
    **{
        name: name
        for name in (
            # Household
            "building_tenure", "land_tenure", "floor_type", "wall_type", "wall_condition",
            "roof_type", "roof_condition", "water_source", "water_acquisition", "lighting",
            "power_capacity", "cooking_fuel", "toilet_use", "toilet_type", "sewage",
            # Person
            "sex", "marital_status", "marriage_certificate", "disability", "chronic_illness",
            "nutrition", "school_participation", "education_level", "diploma", "work_sector",
            "employment_status",
        )
    },
}  # fmt: skip

# BPS convention (domain.md §1.3): formal = employer with paid workers, employee, civil
# servant/military/police/SOE; everything else is informal. Same codes in both versions.
INFORMAL_EMPLOYMENT: frozenset[int] = frozenset({1, 2, 6, 7, 8})
FORMAL_EMPLOYMENT: frozenset[int] = frozenset({3, 4, 5})

# Blok V asks yes/no with alternating codes, 1 Ya/2 Tidak and 3 Ya/4 Tidak, so a clerk who
# skips a row produces an impossible value. The "yes" code of each Household asset field:
ASSET_YES_CODE: dict[str, int] = {
    "asset_gas_cylinder": 1,
    "asset_fridge": 3,
    "asset_ac": 1,
    "asset_water_heater": 3,
    "asset_landline": 1,
    "asset_tv": 3,
    "asset_gold": 1,
    "asset_computer": 3,
    "asset_bicycle": 1,
    "asset_motorcycle": 3,
    "asset_car": 1,
    "asset_boat": 3,
    "asset_outboard": 1,
    "asset_motorboat": 3,
    "asset_ship": 1,
    "asset_land": 1,
    "asset_other_house": 3,
    "has_business": 1,
}

# (from, to) -> variable -> {old code: new code}. A code missing from a mapping has no
# unambiguous equivalent (e.g. legacy lighting 1 "Listrik PLN" is DTSEN 1 or 2 depending on
# the meter) and must be re-asked, not guessed.
CROSSWALK: dict[tuple[str, str], dict[str, dict[int, int]]] = {
    (Codelist.DTKS2020.value, Codelist.DTSEN2025.value): {
        "floor_type": {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 5, 9: 8, 10: 9},
        # Genteng keramik/metal/tanah liat all fall under DTSEN "Genteng".
        "roof_type": {1: 1, 2: 2, 3: 2, 4: 2, 5: 4, 6: 3, 7: 6, 8: 5, 9: 7, 10: 8},
        "water_source": {
            1: 1, 2: 2, 3: 3, 4: 3, 5: 4, 6: 5, 7: 6, 8: 7, 9: 8, 10: 9, 11: 10, 12: 11,
        },
        "wall_type": {code: code for code in range(1, 8)},
        "building_tenure": {code: code for code in range(1, 6)},
        "relation": {code: code for code in range(1, 9)},
        "sex": {1: 1, 2: 2},
        "marital_status": {code: code for code in range(1, 5)},
        "employment_status": {code: code for code in range(1, 9)},
        "school_participation": {0: 1, 1: 2, 2: 3},
        # Legacy "Lainnya" lists kidney failure among examples; DTSEN has 10 for it, but the
        # legacy answer does not say which, so it maps to "Lainnya".
        "chronic_illness": {0: 1, 1: 2, 2: 3, 3: 4, 4: 5, 5: 6, 6: 7, 7: 8, 8: 9, 9: 18},
        # Legacy 1 SD/SDLB, 4 SMP/SMPLB, 7 SMA/SMK/SMALB and 10 Perguruan tinggi are split
        # into several DTSEN codes.
        "education_level": {2: 1, 3: 4, 5: 6, 6: 9, 8: 11, 9: 14},
        "toilet_use": {1: 1, 2: 2, 3: 4, 4: 6},
        "toilet_type": {1: 1, 3: 4},
        "sewage": {1: 1, 2: 2, 3: 4, 4: 3, 5: 5, 6: 6},
        "lighting": {2: 3, 3: 4},
        "cooking_fuel": {1: 1, 3: 4, 5: 7, 6: 8, 7: 9, 8: 10, 9: 0},
    },
}  # fmt: skip


def label(codelist: str, variable: str, code: int | None) -> str:
    """Label of `code` for `variable` in `codelist`; '' for None, '?<code>' if unknown."""
    if code is None:
        return ""
    return CODES.get(codelist, {}).get(variable, {}).get(code, f"?{code}")


def choices(codelist: str, variable: str) -> list[tuple[int, str]]:
    """(code, label) pairs of `variable` in `codelist`, by code, for a form's ChoiceField."""
    return sorted(CODES.get(codelist, {}).get(variable, {}).items())


def _codelist_of(obj: Any) -> str:
    # FamilyMembership carries no codelist of its own; its person's version applies.
    for path in ("codelist", "person", "household"):
        value = getattr(obj, path, None)
        if isinstance(value, str) and value:
            return value
        if value is not None and getattr(value, "codelist", None):
            return str(value.codelist)
    return DEFAULT_CODELIST


def label_for(obj: Any, field: str) -> str:
    """Label of a model instance's coded `field`, read through the instance's code list."""
    return label(_codelist_of(obj), FIELD_VARIABLE.get(field, field), getattr(obj, field, None))


def is_informal(employment_status: int | None) -> bool | None:
    """True for informal work (BPS: 1, 2, 6, 7, 8), False for formal, None if unknown."""
    if employment_status in INFORMAL_EMPLOYMENT:
        return True
    if employment_status in FORMAL_EMPLOYMENT:
        return False
    return None


def decode_yes_no(code: int | str | None, *, yes_code: int | None = None) -> bool | None:
    """Decode Blok V answers: 1/3 → True, 2/4 → False, anything else → None.

    With `yes_code` (1 or 3, see `ASSET_YES_CODE`) a code from the other pair is refused
    (None): it means the row was shifted during data entry.
    """
    if code is None or code == "":
        return None
    try:
        number = int(code)
    except (TypeError, ValueError):
        return None
    if yes_code is not None and number not in (yes_code, yes_code + 1):
        return None
    return {1: True, 2: False, 3: True, 4: False}.get(number)


def translate(code: int | None, variable: str, from_: str, to: str) -> int | None:
    """Translate `code` of `variable` between code-list versions through `CROSSWALK`.

    Returns None for None or for a code with no unambiguous equivalent. Raises LookupError
    when no crosswalk exists for the variable: copying the integer would corrupt data.
    """
    if code is None:
        return None
    if from_ == to:
        return code
    try:
        mapping = CROSSWALK[(from_, to)][variable]
    except KeyError:
        raise LookupError(f"no crosswalk for {variable!r} from {from_} to {to}") from None
    return mapping.get(code)
