"""The columns of a registry file: what we write on export and recognise on import.

One table (`COLUMNS`) serves both directions, so an export → edit in Excel → import round trip
maps every column back without a template. Headers are matched case-, space-, underscore- and
dash-insensitively (``Tgl Lahir`` = ``TGL_LAHIR`` = ``tgl-lahir``), see `normalise_header`.

Meta columns (``ID_ART``, ``ID_KELUARGA``, ``ID_RUMAH_TANGGA``, ``VERSI``) carry the registry
ids and a version of the record at export time: an imported row with ``ID_ART`` is a correction
of that person, and a ``VERSI`` that no longer matches means someone changed the record since
the export (the import refuses to overwrite it blindly).

The version of a person row is the id of the newest history row (`Change`) of the person, its
family or its household: every registry write goes through records.py and writes a Change, so
the number grows with every change and is cheap to read set-based (`versions_of`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Max
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

PERSON, FAMILY, HOUSEHOLD, META = "person", "family", "household", "meta"


@dataclass(frozen=True)
class Column:
    """One column of the registry file layout."""

    key: str  # canonical key ("nik", "no_kk", "prog_pkh", ...)
    header: str  # the header written on export
    aliases: tuple[str, ...]  # other headers recognised on import
    entity: str  # "person" | "family" | "household" | "meta"
    field: str | None  # model field in terpadu.registry.models; None for meta/location parts
    required: bool
    text: bool  # written as a text cell (identifiers, codes)
    label: str | Promise  # human label for the mapping UI


def _c(
    key: str,
    header: str,
    aliases: tuple[str, ...],
    entity: str,
    field: str | None,
    label: str | Promise,
    *,
    required: bool = False,
    text: bool = False,
) -> Column:
    return Column(key, header, aliases, entity, field, required, text, label)


# Programme flags recognised on import (yes/no per row); code → (header, aliases).
PROGRAMME_FLAGS: dict[str, tuple[str, tuple[str, ...]]] = {
    "pkh": ("PKH", ("PESERTA_PKH", "STATUS_PKH", "FLAG_PKH")),
    "bpnt": ("BPNT", ("SEMBAKO", "PESERTA_BPNT", "STATUS_BPNT", "FLAG_BPNT")),
    "pbi": ("PBI", ("PBI_JK", "PBI_JKN", "PESERTA_PBI", "STATUS_PBI", "FLAG_PBI", "KIS")),
    "blt": ("BLT", ("BLT_DD", "BLT_DESA", "FLAG_BLT")),
    "pip": ("PIP", ("KIP", "FLAG_PIP")),
}

COLUMNS: tuple[Column, ...] = (
    # meta: registry ids and version (export → import round trip)
    _c("person_id", "ID_ART", ("IDART", "ID_INDIVIDU", "ID_PERSON"), META, None, _("ID individu")),
    _c("family_id", "ID_KELUARGA", ("IDKELUARGA", "ID_KK"), META, None, _("ID keluarga")),
    _c(
        "household_id",
        "ID_RUMAH_TANGGA",
        ("IDRUMAHTANGGA", "ID_RUTA_REGISTRI"),
        META,
        None,
        _("ID rumah tangga"),
    ),
    _c("row_version", "VERSI", ("VERSION", "VERSI_DATA"), META, None, _("Versi data")),
    # household grouping key of the file itself (new households)
    _c(
        "household_ref",
        "NO_URUT_RT",
        ("NOURUT_RT", "NO_URUT_RUTA", "ID_RUTA", "KODE_RUTA", "NO_RUTA", "ID_RT_FILE"),
        META,
        None,
        _("Nomor urut/kunci rumah tangga di berkas"),
        text=True,
    ),
    # location
    _c(
        "region_code",
        "KODE_WILAYAH",
        ("KODE_WIL", "KDWIL", "KODE_DESA_LENGKAP", "ID_WILAYAH", "KODE_KEMENDAGRI", "IDDESA"),
        HOUSEHOLD,
        "region_code",
        _("Kode wilayah desa (10 angka)"),
        text=True,
    ),
    _c("prov", "KODE_PROVINSI", ("KODE_PROV", "KDPROV", "KD_PROV"), HOUSEHOLD, None,
       _("Kode provinsi"), text=True),
    _c("kab", "KODE_KAB", ("KODE_KABUPATEN", "KODE_KABKOTA", "KODE_KOTA", "KDKAB", "KD_KAB"),
       HOUSEHOLD, None, _("Kode kabupaten/kota"), text=True),
    _c("kec", "KODE_KEC", ("KODE_KECAMATAN", "KDKEC", "KD_KEC"), HOUSEHOLD, None,
       _("Kode kecamatan"), text=True),
    _c("desa", "KODE_DESA", ("KODE_KELURAHAN", "KODE_DESA_KEL", "KDDESA", "KD_DESA", "KDKEL"),
       HOUSEHOLD, None, _("Kode desa/kelurahan"), text=True),
    _c("address", "ALAMAT", ("ALAMAT_LENGKAP", "ALAMAT_RUMAH", "JALAN"), HOUSEHOLD, "address",
       _("Alamat")),
    _c("rt", "RT", ("NO_RT", "NOMOR_RT"), HOUSEHOLD, "rt", _("RT"), text=True),
    _c("rw", "RW", ("NO_RW", "NOMOR_RW"), HOUSEHOLD, "rw", _("RW"), text=True),
    _c("sls_name", "NAMA_SLS", ("DUSUN", "NAMA_DUSUN", "SLS", "LINGKUNGAN", "JORONG"),
       HOUSEHOLD, "sls_name", _("Nama SLS/dusun")),
    # family
    _c("no_kk", "NO_KK", ("NOKK", "NOMOR_KK", "NO_KARTU_KELUARGA", "NOMOR_KARTU_KELUARGA", "KK"),
       FAMILY, "no_kk", _("No KK"), required=True, text=True),
    # person
    _c("nik", "NIK", ("NO_NIK", "NOMOR_NIK", "NIK_ART", "NOMOR_INDUK_KEPENDUDUKAN"), PERSON,
       "nik", _("NIK"), text=True),
    _c("name", "NAMA", ("NAMA_LENGKAP", "NAMA_ART", "NAMA_ANGGOTA", "NAMA_PENERIMA"), PERSON,
       "name", _("Nama"), required=True),
    _c("sex", "JENIS_KELAMIN", ("JK", "KELAMIN", "JNS_KELAMIN", "SEX", "L_P"), PERSON, "sex",
       _("Jenis kelamin"), required=True),
    _c("birth_place", "TEMPAT_LAHIR", ("TMPT_LAHIR", "TEMPATLAHIR", "TMP_LAHIR"), PERSON,
       "birth_place", _("Tempat lahir")),
    _c("birth_date", "TGL_LAHIR", ("TANGGAL_LAHIR", "TGLLAHIR", "TANGGALLAHIR", "TGL_LHR"),
       PERSON, "birth_date", _("Tanggal lahir")),
    _c("relation_kk", "HUB_KELUARGA",
       ("HUB_KK", "HUBUNGAN_KELUARGA", "HUB_DG_KK", "HUBUNGAN_DENGAN_KK", "SHDK",
        "STATUS_HUBUNGAN_DALAM_KELUARGA", "HUBUNGAN_DENGAN_KEPALA_KELUARGA"),
       PERSON, "relation_kk", _("Hubungan dengan kepala keluarga"), required=True),
    _c("relation_ruta", "HUB_KRT",
       ("HUB_RUTA", "HUBUNGAN_KRT", "HUB_DG_KRT", "HUBUNGAN_DENGAN_KRT",
        "HUBUNGAN_DENGAN_KEPALA_RUMAH_TANGGA"),
       PERSON, "relation_ruta", _("Hubungan dengan kepala rumah tangga")),
    _c("mother_name", "NAMA_IBU_KANDUNG", ("NAMA_IBU", "IBU_KANDUNG", "NM_IBU_KANDUNG"), PERSON,
       "mother_name", _("Nama ibu kandung")),
    _c("marital_status", "STATUS_KAWIN", ("STATUS_PERKAWINAN", "STA_KAWIN", "STS_KAWIN"), PERSON,
       "marital_status", _("Status perkawinan")),
    _c("education_level", "PENDIDIKAN", ("JENJANG_PENDIDIKAN", "PENDIDIKAN_TERAKHIR"), PERSON,
       "education_level", _("Jenjang pendidikan")),
    _c("disability", "DISABILITAS", ("JENIS_DISABILITAS", "JENIS_CACAT", "CACAT"), PERSON,
       "disability", _("Jenis disabilitas")),
    _c("occupation", "PEKERJAAN", ("JENIS_PEKERJAAN", "PEKERJAAN_UTAMA"), PERSON, "occupation",
       _("Pekerjaan")),
    _c("employment_status", "STATUS_PEKERJAAN",
       ("STATUS_KEDUDUKAN_PEKERJAAN", "STA_KEDUDUKAN_KERJA", "KEDUDUKAN_PEKERJAAN"),
       PERSON, "employment_status", _("Status kedudukan pekerjaan")),
    _c("id_dtks", "ID_DTKS", ("IDDTKS", "ID_DTSEN"), PERSON, "id_dtks", _("ID DTKS"), text=True),
    *(
        _c(f"prog_{code}", header, aliases, META, None, header)
        for code, (header, aliases) in PROGRAMME_FLAGS.items()
    ),
)  # fmt: skip

_BY_KEY = {c.key: c for c in COLUMNS}

# The export that round-trips through import (registry search, BNBA): identity and location
# first, then the person, then the meta columns that make the round trip a correction.
PERSON_LIST_LAYOUT: tuple[str, ...] = (
    "region_code",
    "address",
    "rt",
    "rw",
    "no_kk",
    "nik",
    "name",
    "sex",
    "birth_place",
    "birth_date",
    "relation_kk",
    "relation_ruta",
    "mother_name",
    "marital_status",
    "occupation",
    "employment_status",
    "person_id",
    "family_id",
    "household_id",
    "row_version",
)

LOCATION_PARTS = ("prov", "kab", "kec", "desa")
# Widths of the Kemendagri code parts: 13 . 71 . 01 . 1001
PART_WIDTHS = {"prov": 2, "kab": 2, "kec": 2, "desa": 4}


def column(key: str) -> Column:
    """The column with canonical `key` (KeyError if unknown)."""
    return _BY_KEY[key]


_SEPARATORS = re.compile(r"[\s_\-./]+")


def normalise_header(raw: str) -> str:
    """``" Tgl. Lahir "`` → ``"TGLLAHIR"``: upper case without spaces, _, -, . or /."""
    text = str(raw or "").strip().lstrip("\ufeff'")
    return _SEPARATORS.sub("", text).upper()


_HEADER_INDEX: dict[str, str] = {}
for _col in COLUMNS:
    for _name in (_col.header, *_col.aliases):
        _HEADER_INDEX.setdefault(normalise_header(_name), _col.key)


def header_key(raw_header: str) -> str | None:
    """The column key a raw header means, or None when it is not recognised."""
    return _HEADER_INDEX.get(normalise_header(raw_header))


def export_value(key: str, person_row: Mapping[str, Any]) -> Any:
    """How one registry value is written: codes as codes, dates ISO, ids and versions as text.

    `person_row` holds values under the column keys (``{"nik": ..., "birth_date": date,
    "row_version": 123}``); a missing key writes an empty cell.
    """
    value = person_row.get(key)
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "1" if value else "0"
    col = _BY_KEY.get(key)
    if (col is not None and (col.text or col.entity == META)) or key == "row_version":
        return str(value)
    return value


def versions_of(person_ids: Iterable[int]) -> dict[int, int]:
    """Current version (see module docstring) of each person id, set-based.

    Three grouped queries on the history index (person, family, household), chunked so a
    million ids never become one statement. Unknown ids are absent from the result.
    """
    from terpadu.registry.models import Change, Person

    ids = list(person_ids)
    out: dict[int, int] = {}
    for start in range(0, len(ids), 20_000):
        chunk = ids[start : start + 20_000]
        links = {
            pk: (fam, hh)
            for pk, fam, hh in Person.objects.filter(pk__in=chunk).values_list(
                "pk", "family_id", "household_id"
            )
        }
        if not links:
            continue
        latest: dict[tuple[str, int], int] = {}
        for entity, wanted in (
            ("person", list(links)),
            ("family", sorted({pair[0] for pair in links.values()})),
            ("household", sorted({pair[1] for pair in links.values()})),
        ):
            rows = (
                Change.objects.filter(entity=entity, entity_id__in=wanted)
                .values("entity_id")
                .annotate(v=Max("id"))
                .values_list("entity_id", "v")
            )
            latest.update({(entity, eid): v for eid, v in rows})
        for pk, (fam, hh) in links.items():
            out[pk] = max(
                latest.get(("person", pk), 0),
                latest.get(("family", fam), 0),
                latest.get(("household", hh), 0),
            )
    return out
