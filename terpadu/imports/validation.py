"""The dry run: every row checked with the registry's own rules, then across rows and against
the registry, without writing the registry.

Row rules are the registry's: values are cleaned by ``records._clean_fields`` (the model
fields' own cleaning, the function every registry write uses) and identifiers by
``terpadu.lib.nik.check_nik``/``check_no_kk``. To make that affordable for hundreds of
thousands of rows, a batch is cleaned per DISTINCT value (a code column has a handful, a
date column a few thousand), and two vectorised fast paths skip the Python call for values
the registry certainly accepts unchanged:

* `nik_fast_ok`: 16 ASCII digits (after the blanks/apostrophe normalise_id strips), a known
  province, day 01–28 (or 41–68), month 01–12, serial ≠ 0000. Such a number has no issue in
  check_nik except sex/birth-date mismatch warnings, which are looked for vectorised as a
  superset (any difference) and then worded by check_nik itself.
* `text_fast_ok`: a non-empty text within the field's max_length without NUL: CharField.clean
  returns it unchanged.

tests/test_engine_fastpath.py proves with Hypothesis that both accept exactly values the
registry validator accepts unchanged; every other value goes through the registry validator,
which also writes every message.

Cross-row rules (duplicate NIK, two heads in a KK, KK without head, a member in two KKs, a
KK in two households) run on a slim Polars frame of the whole file (a few columns per row).
Registry rules (NIK already active elsewhere, unknown id, record changed since the export)
are set-based: chunked ``IN`` queries, never one per row.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
from django.db import connection, models
from django.utils import timezone

from terpadu.accounts.access import Action, can
from terpadu.imports import layout
from terpadu.imports.reading import ROW, FileInfo, iter_batches
from terpadu.lib import nik as nik_rules
from terpadu.lib.nik import PROVINCE_CODES, check_nik, check_no_kk
from terpadu.regions.models import Level, Region, prefix_q
from terpadu.registry import codelists
from terpadu.registry.models import Household, Person, RecordStatus
from terpadu.registry.records import (
    HOUSEHOLD_CREATE_FIELDS,
    PERSON_CREATE_FIELDS,
    RELATION_HEAD,
    _clean_fields,
)

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from terpadu.accounts.models import User

ERROR, WARNING = "error", "warning"
CHUNK = 10_000  # ids/NIKs per set-based registry query
FIRST_ROWS = 10  # rows kept per rule in the summary

# Person fields an import may set (the mapping's person columns), Household fields likewise.
PERSON_KEYS = tuple(c.key for c in layout.COLUMNS if c.entity == layout.PERSON)
HOUSEHOLD_KEYS = ("address", "rt", "rw", "sls_name")
PROGRAMME_KEYS = tuple(c.key for c in layout.COLUMNS if c.key.startswith("prog_"))

# Rule code → (severity, title id, title en), the summary's headings.
RULES: dict[str, tuple[str, str, str]] = {
    "wajib_kosong": (ERROR, "Kolom wajib kosong", "Required value missing"),
    "nilai_tidak_valid": (ERROR, "Isian tidak valid", "Invalid value"),
    "tanggal_tidak_valid": (ERROR, "Tanggal tidak valid", "Invalid date"),
    "kode_tidak_dikenal": (
        WARNING,
        "Kode tidak ada di daftar kode",
        "Code not in the code list",
    ),
    "wilayah_tidak_dikenal": (ERROR, "Kode wilayah tidak dikenal", "Unknown region code"),
    "wilayah_di_luar_cakupan": (
        ERROR,
        "Wilayah di luar cakupan impor/pengguna",
        "Region outside the import's/user's scope",
    ),
    "ruta_dua_wilayah": (
        ERROR,
        "Satu rumah tangga di beberapa wilayah",
        "One household in several regions",
    ),
    "nik_ganda_berkas": (ERROR, "NIK ganda dalam berkas", "Duplicate NIK in the file"),
    "anggota_dua_kk": (ERROR, "Anggota tercatat di dua KK", "Member listed in two KKs"),
    "kk_dua_ruta": (ERROR, "Satu KK di dua rumah tangga", "One KK in two households"),
    "kk_dua_kepala": (ERROR, "KK dengan dua kepala keluarga", "KK with two heads"),
    "kk_tanpa_kepala": (WARNING, "KK tanpa kepala keluarga", "KK without a head"),
    "nik_aktif_di_registri": (
        ERROR,
        "NIK sudah aktif di registri",
        "NIK already active in the registry",
    ),
    "id_tidak_dikenal": (ERROR, "ID registri tidak dikenal", "Unknown registry id"),
    "versi_berubah": (
        ERROR,
        "Data berubah sejak diekspor",
        "Record changed since the export",
    ),
    "kemungkinan_duplikat": (WARNING, "Kemungkinan data ganda", "Possible duplicate"),
}


# Headings of the identifier checks of lib/nik.py ("nik.<code>" / "kk.<code>"); the per-row
# messages come from lib/nik.py itself.
ID_RULES: dict[str, tuple[str, str]] = {
    "empty": ("kosong", "empty"),
    "excel_scientific": ("rusak oleh notasi ilmiah Excel", "mangled by Excel scientific notation"),
    "excel_decimal": ("tersimpan sebagai angka desimal", "stored as a decimal number"),
    "not_digits": ("bukan angka", "not digits"),
    "length": ("panjang bukan 16 digit", "not 16 digits long"),
    "serial": ("nomor urut 0000", "serial number 0000"),
    "province": ("kode provinsi tidak ada", "no such province code"),
    "region_unknown": ("kode wilayah tidak dikenal", "unknown region code"),
    "day": ("tanggal lahir tidak valid", "invalid birth day"),
    "month": ("bulan tidak valid", "invalid month"),
    "date": ("tanggal tidak ada di kalender", "date not in the calendar"),
    "future_date": ("tanggal di masa depan", "date in the future"),
    "sex_mismatch": ("tidak cocok dengan jenis kelamin", "does not match the sex"),
    "birth_date_mismatch": ("tidak cocok dengan tanggal lahir", "does not match the birth date"),
}


def rule_title(code: str) -> tuple[str, str, str]:
    """(severity, title id, title en) of a rule; NIK/No KK rules are "nik.<code>"."""
    if code in RULES:
        return RULES[code]
    kind, _, sub = code.partition(".")
    label = "NIK" if kind == "nik" else "No KK"
    title_id, title_en = ID_RULES.get(sub, (sub, sub))
    return (ERROR, f"{label}: {title_id}", f"{label}: {title_en}")


@dataclass(frozen=True)
class Finding:
    """One broken rule at one row (and column) of the file."""

    row_no: int
    column: str
    value: str
    rule: str
    severity: str
    message_id: str
    message_en: str


# --- fast paths -------------------------------------------------------------------------

_PROVINCES = sorted(PROVINCE_CODES)


def _id_parts(expr: pl.Expr) -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    text = expr.str.strip_chars(nik_rules.STRIPPED)
    day = text.str.slice(6, 2).cast(pl.Int32, strict=False)
    month = text.str.slice(8, 2).cast(pl.Int32, strict=False)
    return text, day, month, text.str.slice(10, 2).cast(pl.Int32, strict=False)


def nik_fast_ok(expr: pl.Expr, *, female_offset: bool = True) -> pl.Expr:
    """True where check_nik/check_no_kk surely finds no error and no date/region warning.

    Conservative on purpose: only dates that exist in every year (29 February goes to the
    registry validator: it needs the century).
    """
    text, day, month, _ = _id_parts(expr)
    long_month = month.is_in([1, 3, 5, 7, 8, 10, 12])

    def exists(d: pl.Expr) -> pl.Expr:
        return (
            d.is_between(1, 28) | (d.is_between(29, 30) & (month != 2)) | ((d == 31) & long_month)
        )

    day_ok = exists(day)
    if female_offset:
        day_ok = day_ok | exists(day - nik_rules.FEMALE_DAY_OFFSET)
    return (
        text.str.contains(r"^[0-9]{16}$")
        & text.str.slice(0, 2).is_in(_PROVINCES)
        & day_ok
        & month.is_between(1, 12)
        & (text.str.slice(12, 4) != "0000")
    ).fill_null(False)


def nik_maybe_mismatch(nik: pl.Expr, sex: pl.Expr, birth: pl.Expr) -> pl.Expr:
    """Superset of the rows check_nik warns about for sex/birth date (any difference)."""
    _, day, month, yy = _id_parts(nik)
    off = nik_rules.FEMALE_DAY_OFFSET
    nik_sex = pl.when(day > off).then(2).otherwise(1)
    real_day = pl.when(day > off).then(day - off).otherwise(day)
    sex_diff = sex.is_not_null() & (sex != nik_sex)
    birth_diff = birth.is_not_null() & (
        (birth.dt.day() != real_day) | (birth.dt.month() != month) | ((birth.dt.year() % 100) != yy)
    )
    return (sex_diff | birth_diff).fill_null(True)


def text_fast_ok(expr: pl.Expr, max_length: int) -> pl.Expr:
    """True where CharField.clean returns the text unchanged (non-empty, short, no NUL)."""
    return (
        expr.is_not_null()
        & (expr.str.len_chars() > 0)
        & (expr.str.len_chars() <= max_length)
        & ~expr.str.contains("\x00", literal=True)
    ).fill_null(False)


# --- value conversion (file formats → what the registry field takes) ---------------------

_DATE_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$"), (1, 2, 3)),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"), (1, 2, 3)),
    (re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$"), (3, 2, 1)),
)
_EXCEL_EPOCH = dt.date(1899, 12, 30)


def date_text(raw: str) -> str:
    """A date cell as ISO text for DateField.clean: YYYY-MM-DD, DD-MM-YYYY, DD/MM/YYYY,
    DD.MM.YYYY or an Excel serial number; anything else is returned unchanged (and
    refused by the field)."""
    text = raw.strip()
    for pattern, (y, m, d) in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            return f"{int(match[y]):04d}-{int(match[m]):02d}-{int(match[d]):02d}"
    if re.fullmatch(r"\d{4,5}(\.0)?", text) and 1 < float(text) < 80_000:
        return (_EXCEL_EPOCH + dt.timedelta(days=int(float(text)))).isoformat()
    return text


@functools.cache
def _label_index(variable: str) -> dict[str, int]:
    """Normalised code-list label → code of `variable` (code lists are constants; cached
    because `code_text` runs once per distinct value of every coded column)."""
    out: dict[str, int] = {}
    for codelist in (codelists.DEFAULT_CODELIST, *codelists.CODES):
        for code, text in codelists.CODES.get(codelist, {}).get(variable, {}).items():
            out.setdefault(layout.normalise_header(text), code)
    return out


_CODE_WORDS: dict[str, dict[str, int]] = {
    "sex": {"L": 1, "LK": 1, "LAKILAKI": 1, "PRIA": 1, "P": 2, "PR": 2, "WANITA": 2},
    "relation": {
        "KK": 1,
        "KRT": 1,
        "KEPALAKELUARGA": 1,
        "KEPALARUMAHTANGGA": 1,
        "ISTRI": 2,
        "SUAMI": 2,
        "FAMILILAIN": 8,
    },
}


def code_text(raw: str, variable: str) -> str:
    """A coded cell as the code's digits: "2", "02", "2.0", or a label ("Perempuan", "L")."""
    text = raw.strip()
    match = re.fullmatch(r"0*(\d+)(?:\.0+)?", text)
    if match:
        return match[1] or "0"
    norm = layout.normalise_header(text)
    code = _CODE_WORDS.get(variable, {}).get(norm, _label_index(variable).get(norm))
    return str(code) if code is not None else text


_YES = {"1", "Y", "YA", "YES", "TRUE", "V", "X", "ADA"}
_NO = {"0", "2", "N", "T", "TIDAK", "NO", "FALSE", "BUKAN", "-"}


def flag_value(raw: str) -> bool | None:
    """A programme flag: True/False, or None when unreadable."""
    norm = layout.normalise_header(raw)
    if norm in _YES:
        return True
    if norm in _NO:
        return False
    return None


def region_text(raw: str) -> str:
    """A region code cell as digits: ``13.71.01.1001``, ``1371011001`` or ``1371011001.0``."""
    text = raw.strip()
    if re.fullmatch(r"\d+\.0+", text):
        text = text.split(".")[0]
    return re.sub(r"[\s.]", "", text)


def region_from_parts(parts: Sequence[str | None]) -> str | None:
    """Desa code from separate province/kab/kec/desa cells (short "71" or full "1371")."""
    code = ""
    for raw, width in zip(parts, layout.PART_WIDTHS.values(), strict=True):
        digits = region_text(raw or "")
        if not digits:
            return code or None
        if len(digits) > width and digits.startswith(code):
            code = digits
        elif len(digits) <= width:
            code += digits.zfill(width)
        else:
            return None
    return code


# --- the job's context ----------------------------------------------------------------------


@dataclass
class Context:
    """What one validation pass needs and accumulates."""

    region: Region
    user: User | None
    info: FileInfo
    mapping: Mapping[str, str | None]  # raw header → key
    columns: dict[str, str] = field(default_factory=dict)  # key → "c{i}"
    headers: dict[str, str] = field(default_factory=dict)  # key → raw header
    desa: dict[str, int] = field(default_factory=dict)  # desa digits in job region → pk
    slim: list[pl.DataFrame] = field(default_factory=list)
    rows_read: int = 0
    # key → {raw value: (cleaned value, issues)}: a value is cleaned once per file, not once
    # per batch (birth dates repeat across the whole file).
    cleaned: dict[str, dict[str, tuple[Any, list[tuple[str, str, str]]]]] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        for i, raw in enumerate(self.info.headers):
            key = self.mapping.get(raw)
            if key and key not in self.columns:
                self.columns[key] = f"c{i}"
                self.headers[key] = raw
        self.desa = dict(
            Region.objects.current()
            .filter(level=Level.DESA)
            .within(self.region.digits)
            .values_list("digits", "pk")
        )

    def has(self, key: str) -> bool:
        return key in self.columns

    def header(self, key: str) -> str:
        return self.headers.get(key, layout.column(key).header)


@dataclass
class Checked:
    """One batch after the row rules: cleaned typed columns and the findings."""

    frame: pl.DataFrame  # _row, raw c*, cleaned keys, region, hh_key, kk, nik, person_id …
    findings: list[Finding]


def _python_type(model_field: models.Field) -> pl.DataType:
    if isinstance(model_field, models.DateField):
        return pl.Date
    if isinstance(model_field, models.BooleanField):
        return pl.Boolean
    if isinstance(model_field, models.IntegerField):
        return pl.Int64
    return pl.String


def _distinct(frame: pl.DataFrame, col: str, where: pl.Expr | None = None) -> list[str]:
    sel = frame.lazy()
    if where is not None:
        sel = sel.filter(where)
    return sel.select(pl.col(col).drop_nulls().unique()).collect().to_series().to_list()


def _flag_rows(
    frame: pl.DataFrame, col: str, bad: Mapping[str, list[Any]], make: Callable[..., Finding]
) -> list[Finding]:
    """One finding per (row, issue) for rows whose raw `col` value is a key of `bad`."""
    if not bad:
        return []
    rows = frame.filter(pl.col(col).is_in(list(bad))).select(ROW, col).iter_rows()
    return [make(row_no, value, issue) for row_no, value in rows for issue in bad[value]]


ColumnSpec = tuple[str, type[models.Model], frozenset[str]]  # key, model, allowed fields


def _fast_ok(ctx: Context, key: str, model: type[models.Model]) -> pl.Expr:
    """Cells of `key` that need no cleaning: plain text within the field's length."""
    model_field = model._meta.get_field(layout.column(key).field or key)
    if isinstance(model_field, models.CharField) and not model_field.choices:
        return text_fast_ok(pl.col(ctx.columns[key]), model_field.max_length)
    return pl.lit(False)


def _slow_values(
    ctx: Context, frame: pl.DataFrame, specs: Sequence[ColumnSpec]
) -> dict[str, list[str]]:
    """{key: distinct raw values that `_clean_column` must clean} for every column of
    `specs`, in one pass over the batch."""
    if not specs:
        return {}
    row = (
        frame.lazy()
        .select(
            pl.col(ctx.columns[key])
            .filter(~_fast_ok(ctx, key, model))
            .drop_nulls()
            .unique()
            .implode()
            .alias(key)
            for key, model, _ in specs
        )
        .collect()
        .row(0, named=True)
    )
    return {key: list(values) for key, values in row.items()}


def _clean_column(
    ctx: Context,
    frame: pl.DataFrame,
    spec: ColumnSpec,
    slow_values: list[str],
    findings: list[Finding],
) -> pl.Expr:
    """The cleaned column of `spec` (typed) by the registry's `_clean_fields`, per distinct
    value; `slow_values`: the batch's values that need it (`_slow_values`)."""
    key, model, allowed = spec
    col = ctx.columns[key]
    name = layout.column(key).field or key
    model_field = model._meta.get_field(name)
    dtype = _python_type(model_field)
    header = ctx.header(key)
    fast = _fast_ok(ctx, key, model)
    cleaned: dict[str, Any] = {}
    bad: dict[str, list[Any]] = {}
    memo = ctx.cleaned.setdefault(key, {})
    today = timezone.localdate()
    for raw in slow_values:
        if raw not in memo:
            memo[raw] = _clean_value(raw, model, model_field, name, header, allowed, today)
        value, issues = memo[raw]
        if issues:
            bad[raw] = issues
        else:
            cleaned[raw] = value

    def make(row_no: int, value: str, issue: tuple[str, str, str]) -> Finding:
        rule, msg_id, msg_en = issue
        severity = rule_title(rule)[0]
        return Finding(row_no, header, value, rule, severity, msg_id, msg_en)

    findings += _flag_rows(frame, col, bad, make)
    mapped = (
        pl.col(col).replace_strict(
            list(cleaned), list(cleaned.values()), default=None, return_dtype=dtype
        )
        if cleaned
        else pl.lit(None, dtype=dtype)
    )
    if dtype == pl.String:
        return pl.when(fast).then(pl.col(col)).otherwise(mapped).alias(key)
    return mapped.alias(key)


def _clean_value(
    raw: str,
    model: type[models.Model],
    model_field: models.Field,
    name: str,
    header: str,
    allowed: frozenset[str],
    today: dt.date,
) -> tuple[Any, list[tuple[str, str, str]]]:
    """(cleaned value, []) of one raw cell value by the registry's `_clean_fields` and the
    code lists, or (None, [(rule, message id, message en), …]) when it is refused; dates
    after `today` are refused."""
    variable = codelists.FIELD_VARIABLE.get(name)
    value: Any = raw
    if isinstance(model_field, models.DateField):
        value = date_text(raw)
    elif variable is not None:
        value = code_text(raw, variable)
    out, issues = _clean_fields(model, {name: value}, allowed=allowed, path="")
    if issues:
        rule = (
            "tanggal_tidak_valid"
            if isinstance(model_field, models.DateField)
            else ("nilai_tidak_valid")
        )
        return None, [(rule, i.message_id, i.message_en) for i in issues]
    result = out[name]
    if (
        variable is not None
        and result is not None
        and not model_field.choices
        and result not in codelists.CODES[codelists.DEFAULT_CODELIST].get(variable, {})
    ):
        return None, [
            (
                "kode_tidak_dikenal",
                f"Kode {result} untuk {header} tidak ada di daftar kode "
                f"{codelists.DEFAULT_CODELIST}.",
                f"Code {result} for {header} is not in the {codelists.DEFAULT_CODELIST} code list.",
            )
        ]
    if (
        isinstance(model_field, models.DateField)
        and isinstance(result, dt.date)
        and (result > today or result.year < 1900)
    ):
        return None, [
            (
                "tanggal_tidak_valid",
                f"Tanggal {header} '{raw}' tidak mungkin (di masa depan atau sebelum 1900).",
                f"Date {header} '{raw}' is impossible (in the future or before 1900).",
            )
        ]
    return result, []


def _check_ids(
    ctx: Context, frame: pl.DataFrame, key: str, findings: list[Finding]
) -> pl.DataFrame:
    """Normalised NIK/No KK column `key` (null where refused) with check_nik/check_no_kk."""
    col = ctx.columns[key]
    header = ctx.header(key)
    is_nik = key == "nik"
    prefix = "nik" if is_nik else "no_kk"
    fast = nik_fast_ok(pl.col(col), female_offset=is_nik)
    if is_nik:
        sex = pl.col("sex") if "sex" in frame.columns else pl.lit(None, dtype=pl.Int64)
        birth = (
            pl.col("birth_date") if "birth_date" in frame.columns else pl.lit(None, dtype=pl.Date)
        )
        fast = fast & ~nik_maybe_mismatch(pl.col(col), sex, birth)
    frame = frame.with_columns(fast.alias("_fast"))
    slow = frame.filter(~pl.col("_fast") & pl.col(col).is_not_null())
    good: dict[int, str | None] = {}
    for row in slow.iter_rows(named=True):
        raw = row[col]
        if is_nik:
            result = check_nik(raw, sex=row.get("sex"), birth_date=row.get("birth_date"))
        else:
            result = check_no_kk(raw)
        good[row[ROW]] = result.value
        findings.extend(
            Finding(
                row[ROW],
                header,
                raw,
                f"{prefix}.{issue.code}",
                issue.severity,
                issue.message_id,
                issue.message_en,
            )
            for issue in result.issues
        )
    slow_values = (
        pl.col(ROW).replace_strict(
            list(good), list(good.values()), default=None, return_dtype=pl.String
        )
        if good
        else pl.lit(None, dtype=pl.String)
    )
    value = (
        pl.when(pl.col("_fast"))
        .then(pl.col(col).str.strip_chars(nik_rules.STRIPPED))
        .otherwise(slow_values)
        .alias(key)
    )
    return frame.with_columns(value).drop("_fast")


def _region_column(ctx: Context, frame: pl.DataFrame, findings: list[Finding]) -> pl.Expr:
    """The desa code of each row (null where unknown or out of scope), with findings."""
    if ctx.has("region_code"):
        col = ctx.columns["region_code"]
        header = ctx.header("region_code")
        raw_expr = pl.col(col)
        convert: Callable[[str], str | None] = region_text
    elif ctx.has("desa"):
        parts = [ctx.columns.get(k) for k in layout.LOCATION_PARTS]
        raw_expr = pl.concat_str(
            [pl.col(c).fill_null("") if c else pl.lit("") for c in parts], separator="|"
        )
        header = ctx.header("desa")

        def convert(joined: str) -> str | None:
            return region_from_parts(joined.split("|"))

    else:
        if ctx.region.level == Level.DESA:
            return pl.lit(ctx.region.digits).alias("region")
        return pl.lit(None, dtype=pl.String).alias("region")
    tmp = frame.select(ROW, raw_expr.alias("_loc"))
    resolved: dict[str, str] = {}
    bad: dict[str, list[tuple[str, str, str]]] = {}
    codes = {raw: convert(raw) or "" for raw in _distinct(tmp, "_loc")}
    unknown = [c for c in codes.values() if c not in ctx.desa]
    outside = (
        set(
            Region.objects.current()
            .filter(level=Level.DESA, digits__in=unknown)
            .values_list("digits", flat=True)
        )
        if unknown
        else set()
    )
    for raw, code in codes.items():
        if code in ctx.desa and (ctx.user is None or can(ctx.user, Action.EDIT, code)):
            resolved[raw] = code
            continue
        shown = raw.replace("|", ".").strip(".")
        if code in outside or code in ctx.desa:
            bad[raw] = [
                (
                    "wilayah_di_luar_cakupan",
                    f"Wilayah {shown} di luar wilayah impor {ctx.region.digits} atau di luar "
                    f"cakupan Anda.",
                    f"Region {shown} is outside the import region {ctx.region.digits} or "
                    f"outside your scope.",
                )
            ]
        else:
            bad[raw] = [
                (
                    "wilayah_tidak_dikenal",
                    f"Kode wilayah '{shown}' bukan desa/kelurahan yang berlaku.",
                    f"Region code '{shown}' is not a current desa/kelurahan.",
                )
            ]

    def make(row_no: int, value: str, issue: tuple[str, str, str]) -> Finding:
        rule, msg_id, msg_en = issue
        return Finding(row_no, header, value.replace("|", "."), rule, ERROR, msg_id, msg_en)

    findings += _flag_rows(tmp, "_loc", bad, make)
    if not resolved:
        return pl.lit(None, dtype=pl.String).alias("region")
    return raw_expr.replace_strict(
        list(resolved), list(resolved.values()), default=None, return_dtype=pl.String
    ).alias("region")


def check_batch(ctx: Context, frame: pl.DataFrame) -> Checked:
    """The row rules over one batch (see module docstring)."""
    findings: list[Finding] = []
    ctx.rows_read += frame.height
    exprs: list[pl.Expr] = []
    # The raw id columns, before anything else: they decide new row vs correction.
    if ctx.has("person_id"):
        pid = pl.col(ctx.columns["person_id"]).str.strip_chars().str.replace(r"\.0+$", "")
        exprs.append(pid.cast(pl.Int64, strict=False).alias("person_id"))
    else:
        exprs.append(pl.lit(None, dtype=pl.Int64).alias("person_id"))
    if ctx.has("row_version"):
        ver = pl.col(ctx.columns["row_version"]).str.strip_chars().str.replace(r"\.0+$", "")
        exprs.append(ver.cast(pl.Int64, strict=False).alias("row_version"))
    else:
        exprs.append(pl.lit(None, dtype=pl.Int64).alias("row_version"))
    frame = frame.with_columns(exprs)
    if ctx.has("person_id"):
        raw_id = ctx.columns["person_id"]
        header = ctx.header("person_id")
        garbled = frame.filter(pl.col(raw_id).is_not_null() & pl.col("person_id").is_null())
        findings.extend(
            Finding(
                row_no,
                header,
                value,
                "id_tidak_dikenal",
                ERROR,
                f"{header} '{value}' bukan nomor ID registri.",
                f"{header} '{value}' is not a registry id.",
            )
            for row_no, value in garbled.select(ROW, raw_id).iter_rows()
        )
    new = pl.col("person_id").is_null()

    specs: list[ColumnSpec] = [
        (key, Person, PERSON_CREATE_FIELDS) for key in PERSON_KEYS if key != "nik" and ctx.has(key)
    ]
    specs += [(key, Household, HOUSEHOLD_CREATE_FIELDS) for key in HOUSEHOLD_KEYS if ctx.has(key)]
    slow = _slow_values(ctx, frame, specs)
    typed = [_clean_column(ctx, frame, spec, slow[spec[0]], findings) for spec in specs]
    typed.append(_region_column(ctx, frame, findings))
    frame = frame.with_columns(typed)
    for key in ("nik", "no_kk"):
        if ctx.has(key):
            frame = _check_ids(ctx, frame, key, findings)
        else:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(key))
    for key in PROGRAMME_KEYS:
        if ctx.has(key):
            findings += _check_flags(ctx, frame, key)

    # Required values on new rows (the mapping already required the columns).
    for key in ("name", "sex", "relation_kk", "no_kk"):
        if not ctx.has(key):
            continue
        col = ctx.columns[key]
        missing = frame.filter(new & pl.col(col).is_null()).get_column(ROW).to_list()
        header = ctx.header(key)
        findings += [
            Finding(
                r,
                header,
                "",
                "wajib_kosong",
                ERROR,
                f"Kolom {header} wajib diisi.",
                f"Column {header} is required.",
            )
            for r in missing
        ]

    # The household each new row belongs to: the file's own key, else one per No KK.
    if ctx.has("household_ref"):
        # Numbering restarts per desa in most files: the key is (desa, number).
        ref = pl.concat_str(
            [
                pl.col("region").fill_null(""),
                pl.col(ctx.columns["household_ref"]).str.strip_chars(),
            ],
            separator="|",
        )
    else:
        ref = pl.col("no_kk").fill_null(pl.col(ctx.columns["no_kk"]) if ctx.has("no_kk") else "")
    frame = frame.with_columns(
        pl.when(new).then(ref.fill_null(pl.col(ROW).cast(pl.String))).alias("hh_key"),
        pl.when(new)
        .then(
            pl.col("no_kk").fill_null(
                pl.col(ctx.columns["no_kk"]) if ctx.has("no_kk") else pl.lit("")
            )
        )
        .alias("kk_key"),
        (
            (pl.col("relation_kk") == RELATION_HEAD).fill_null(False)
            if "relation_kk" in frame.columns
            else pl.lit(False)
        ).alias("is_head"),
    )
    slim = frame.select(SLIM_COLUMNS)
    ctx.slim.append(slim)
    return Checked(frame, findings)


def _check_flags(ctx: Context, frame: pl.DataFrame, key: str) -> list[Finding]:
    col = ctx.columns[key]
    header = ctx.header(key)
    bad = {raw: [None] for raw in _distinct(frame, col) if flag_value(raw) is None}

    def make(row_no: int, value: str, _: Any) -> Finding:
        return Finding(
            row_no,
            header,
            value,
            "nilai_tidak_valid",
            WARNING,
            f"Isian {header} '{value}' harus Ya/Tidak (1/0); diabaikan.",
            f"{header} '{value}' must be yes/no (1/0); ignored.",
        )

    return _flag_rows(frame, col, bad, make)


# --- across rows ------------------------------------------------------------------------------


def cross_row(ctx: Context) -> tuple[pl.DataFrame, list[Finding]]:
    """Rules across the whole file on the slim frame; returns (slim frame, findings)."""
    if not ctx.slim:
        empty = pl.DataFrame(schema={ROW: pl.Int64})
        return empty, []
    slim = pl.concat(ctx.slim, how="vertical_relaxed")
    ctx.slim = []
    findings: list[Finding] = []
    nik_h, kk_h = ctx.header("nik"), ctx.header("no_kk")

    with_nik = slim.filter(pl.col("nik").is_not_null())
    firsts = with_nik.group_by("nik").agg(
        pl.col(ROW).min().alias("_first"),
        pl.col("kk_key").drop_nulls().unique().alias("_kks"),
        pl.len().alias("_n"),
    )
    dup = with_nik.join(firsts.filter(pl.col("_n") > 1), on="nik")
    for row_no, nik, first, kks, kk in dup.select(
        ROW, "nik", "_first", "_kks", "kk_key"
    ).iter_rows():
        if len(kks) > 1:
            others = ", ".join(k for k in kks if k != kk)
            findings.append(
                Finding(
                    row_no,
                    nik_h,
                    nik,
                    "anggota_dua_kk",
                    ERROR,
                    f"NIK {nik} tercatat juga di KK lain dalam berkas ({others}).",
                    f"NIK {nik} is also listed in another KK in the file ({others}).",
                )
            )
        elif row_no != first:
            findings.append(
                Finding(
                    row_no,
                    nik_h,
                    nik,
                    "nik_ganda_berkas",
                    ERROR,
                    f"NIK {nik} sudah ada di baris {first}.",
                    f"NIK {nik} already appears on row {first}.",
                )
            )

    new = slim.filter(pl.col("person_id").is_null() & pl.col("kk_key").is_not_null())
    kk = new.group_by("kk_key").agg(
        pl.col("is_head").sum().alias("_heads"),
        pl.col("hh_key").unique().alias("_hhs"),
        pl.col(ROW).min().alias("_first"),
    )
    heads = new.join(kk.filter(pl.col("_heads") > 1), on="kk_key").filter(pl.col("is_head"))
    for row_no, kk_value, n in heads.select(ROW, "kk_key", "_heads").iter_rows():
        findings.append(
            Finding(
                row_no,
                kk_h,
                kk_value,
                "kk_dua_kepala",
                ERROR,
                f"KK {kk_value} memiliki {n} kepala keluarga (HUB_KELUARGA = 1).",
                f"KK {kk_value} has {n} heads (relation = 1).",
            )
        )
    for row_no, kk_value in kk.filter(pl.col("_heads") == 0).select("_first", "kk_key").iter_rows():
        findings.append(
            Finding(
                row_no,
                kk_h,
                kk_value,
                "kk_tanpa_kepala",
                WARNING,
                f"KK {kk_value} tidak memiliki kepala keluarga (HUB_KELUARGA = 1).",
                f"KK {kk_value} has no head (relation = 1).",
            )
        )
    split = new.join(kk.filter(pl.col("_hhs").list.len() > 1), on="kk_key")
    for row_no, kk_value in split.select(ROW, "kk_key").iter_rows():
        findings.append(
            Finding(
                row_no,
                kk_h,
                kk_value,
                "kk_dua_ruta",
                ERROR,
                f"KK {kk_value} tercatat di lebih dari satu rumah tangga dalam berkas.",
                f"KK {kk_value} is listed in more than one household in the file.",
            )
        )
    hh = (
        new.filter(pl.col("region").is_not_null())
        .group_by("hh_key")
        .agg(pl.col("region").unique().alias("_regions"))
        .filter(pl.col("_regions").list.len() > 1)
    )
    multi = new.join(hh, on="hh_key")
    for row_no, region in multi.select(ROW, "region").iter_rows():
        findings.append(
            Finding(
                row_no,
                ctx.header("region_code") if ctx.has("region_code") else ctx.header("desa"),
                region or "",
                "ruta_dua_wilayah",
                ERROR,
                "Anggota satu rumah tangga tercatat di wilayah yang berbeda.",
                "Members of one household are listed in different regions.",
            )
        )
    return slim, findings


# --- against the registry ------------------------------------------------------------------


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _active_niks(niks: Sequence[str]) -> Iterator[tuple[str, int]]:
    """(nik, person id) of the non-nonaktif persons holding any of `niks`: one statement per
    50 k NIKs with the list as ONE text parameter (PostgreSQL string_to_array / SQLite
    json_each), on the person_nik_idx index; Django's IN list costs ≈ 7 µs a value to build,
    psycopg's array adapter ≈ 1 µs (NIKs are digits here, never a comma)."""
    q = connection.ops.quote_name
    table = q(Person._meta.db_table)
    for chunk in _chunks(niks, 50_000):
        if connection.vendor == "postgresql":
            where, params = "nik = ANY(string_to_array(%s, ','))", [",".join(chunk)]
        else:
            where, params = "nik IN (SELECT value FROM json_each(%s))", [json.dumps(list(chunk))]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT nik, id FROM {table} WHERE status <> %s AND {where}",  # noqa: S608
                [RecordStatus.NONAKTIF.value, *params],
            )
            yield from cursor.fetchall()


def registry_checks(ctx: Context, slim: pl.DataFrame) -> tuple[list[Finding], dict[int, Any]]:
    """NIK active elsewhere, unknown ids, changed since export; returns (findings, the
    current registry rows of the id-carrying rows ``{person_id: Person}``)."""
    findings: list[Finding] = []
    if slim.is_empty():
        return findings, {}
    nik_h = ctx.header("nik")
    niks = slim.filter(pl.col("nik").is_not_null()).get_column("nik").unique().to_list()
    active: dict[str, set[int]] = defaultdict(set)
    for nik, pk in _active_niks(niks):
        active[nik].add(pk)
    if active:
        hits = slim.filter(pl.col("nik").is_in(list(active)))
        for row_no, nik, person_id in hits.select(ROW, "nik", "person_id").iter_rows():
            others = active[nik] - {person_id}
            if others:
                findings.append(
                    Finding(
                        row_no,
                        nik_h,
                        nik,
                        "nik_aktif_di_registri",
                        ERROR,
                        f"NIK {nik} sudah aktif di registri (individu lain); ajukan perbaikan "
                        f"data itu, bukan data baru.",
                        f"NIK {nik} is already active in the registry (another person); "
                        f"correct that record instead of adding a new one.",
                    )
                )

    ids_frame = slim.filter(pl.col("person_id").is_not_null())
    current: dict[int, Person] = {}
    if not ids_frame.is_empty():
        id_h = ctx.header("person_id")
        ids = ids_frame.get_column("person_id").unique().to_list()
        for chunk in _chunks(ids):
            qs = Person.objects.filter(prefix_q("region_code", ctx.region.digits), pk__in=chunk)
            for person in qs:
                if ctx.user is None or can(ctx.user, Action.EDIT, person.region_code):
                    current[person.pk] = person
        versions = layout.versions_of(list(current))
        for row_no, pid, version in ids_frame.select(ROW, "person_id", "row_version").iter_rows():
            if pid not in current:
                findings.append(
                    Finding(
                        row_no,
                        id_h,
                        str(pid),
                        "id_tidak_dikenal",
                        ERROR,
                        f"ID_ART {pid} tidak ada di registri dalam wilayah impor ini.",
                        f"ID_ART {pid} is not in the registry within this import's region.",
                    )
                )
            elif version is not None and versions.get(pid, 0) != version:
                findings.append(
                    Finding(
                        row_no,
                        ctx.header("row_version"),
                        str(version),
                        "versi_berubah",
                        ERROR,
                        f"Data individu {pid} sudah berubah sejak diekspor (versi {version}, "
                        f"sekarang {versions.get(pid, 0)}); ekspor ulang lalu ulangi perbaikan.",
                        f"Person {pid} changed since the export (version {version}, now "
                        f"{versions.get(pid, 0)}); export again and redo the correction.",
                    )
                )
    return findings, current


def _new_persons(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """The new persons of a checked batch as plain records for the dedup matcher."""
    wanted = [
        "nik",
        "no_kk",
        "name",
        "sex",
        "birth_date",
        "birth_place",
        "mother_name",
        "address",
        "region",
    ]
    cols = [c for c in wanted if c in frame.columns]
    rows = frame.filter(pl.col("person_id").is_null()).select(ROW, *cols).to_dicts()
    for row in rows:
        row.setdefault("address", "")
    for row in rows:
        row["region_code"] = row.pop("region", None) or ""
    return rows


def possible_duplicates(ctx: Context, rows: list[dict[str, Any]]) -> list[Finding]:
    """Fuzzy matches of new persons by terpadu.dedup.incremental, as warnings."""
    if not rows:
        return []
    # Imported here: Splink and DuckDB load only when a dry run needs them.
    from terpadu.dedup.incremental import match_records

    try:
        results = match_records(rows, scope_prefix=ctx.region.digits, limit=1, threshold=0.9)
    except Exception:  # warnings only: a failing matcher must not stop the dry run
        logger.exception("import dry run: duplicate matching failed")
        return []
    findings = []
    for index, found in enumerate(results):
        if not found:
            continue
        row = rows[index]
        findings.append(
            Finding(
                row["_row"],
                ctx.header("name"),
                str(row.get("name") or ""),
                "kemungkinan_duplikat",
                WARNING,
                "Mungkin sudah ada di registri (nama, tanggal lahir, ibu kandung mirip).",
                "May already be in the registry (similar name, birth date, mother).",
            )
        )
    return findings


# --- the whole pass ------------------------------------------------------------------------


@dataclass
class Result:
    """What a validation pass found."""

    rows_total: int
    findings: list[Finding]
    error_rows: set[int]
    warning_rows: set[int]
    slim: pl.DataFrame
    current: dict[int, Any]
    # The findings of `registry_checks` (the last ones in `findings`): the only ones that
    # depend on the registry's state, so the only ones the apply redoes (see rerun_registry).
    registry_findings: list[Finding] = field(default_factory=list)

    @property
    def file_findings(self) -> list[Finding]:
        """The findings that depend only on the file, the mapping and the scope."""
        return self.findings[: len(self.findings) - len(self.registry_findings)]


def run(
    ctx: Context,
    path: Path | str,
    *,
    batch_size: int,
    on_batch: Callable[[Checked], None] | None = None,
    sink: Callable[[list[Finding]], None] | None = None,
    match_duplicates: bool = True,
) -> Result:
    """Read and check the whole file; `on_batch` sees every checked batch (the apply keeps
    them), `sink` receives findings as they are found (the job writes them per batch).
    `match_duplicates` asks terpadu.dedup.incremental for likely registry matches (warnings
    only, so the apply's second pass skips it)."""
    findings: list[Finding] = []

    def emit(found: list[Finding]) -> None:
        if sink is not None:
            sink(found)
        findings.extend(found)

    # The matcher compares with registry persons: an initial load into an empty region has
    # none, and skipping it there saves most of the dry run's time.
    dedup = (
        match_duplicates
        and Person.objects.filter(prefix_q("region_code", ctx.region.digits[:4])).exists()
    )
    for frame in iter_batches(path, ctx.info, batch_size=batch_size):
        checked = check_batch(ctx, frame)
        emit(checked.findings)
        if dedup:
            emit(possible_duplicates(ctx, _new_persons(checked.frame)))
        if on_batch is not None:
            on_batch(checked)
    slim, found = cross_row(ctx)
    emit(found)
    registry_found, current = registry_checks(ctx, slim)
    emit(registry_found)
    return _result(ctx.rows_read, findings, slim, current, registry_found)


def _result(
    rows: int,
    findings: list[Finding],
    slim: pl.DataFrame,
    current: dict[int, Any],
    registry_found: list[Finding],
) -> Result:
    error_rows = {f.row_no for f in findings if f.severity == ERROR}
    warning_rows = {f.row_no for f in findings if f.severity == WARNING} - error_rows
    return Result(rows, findings, error_rows, warning_rows, slim, current, registry_found)


SLIM_COLUMNS = (ROW, "person_id", "row_version", "nik", "kk_key", "hh_key", "region", "is_head")


def rerun_registry(
    ctx: Context,
    rows_total: int,
    file_findings: list[Finding],
    slim: pl.DataFrame,
    *,
    sink: Callable[[list[Finding]], None] | None = None,
) -> Result:
    """The result of a full pass from a stored dry run: its file findings (row and cross-row
    rules, which depend only on the file, the mapping and the scope) plus the registry rules
    run again now (NIK active elsewhere, unknown ids, changed since the export)."""
    ctx.rows_read = rows_total
    registry_found, current = registry_checks(ctx, slim)
    findings = [*file_findings, *registry_found]
    if sink is not None:
        sink(findings)
    return _result(rows_total, findings, slim, current, registry_found)


_FINDING_SCHEMA = {
    "row_no": pl.Int64,
    "column": pl.String,
    "value": pl.String,
    "rule": pl.String,
    "severity": pl.String,
    "message_id": pl.String,
    "message_en": pl.String,
}


def findings_frame(findings: Sequence[Finding]) -> pl.DataFrame:
    """Findings as a frame (stored with a dry run)."""
    return pl.DataFrame(
        {name: [getattr(f, name) for f in findings] for name in _FINDING_SCHEMA},
        schema=_FINDING_SCHEMA,
    )


def findings_of(frame: pl.DataFrame) -> list[Finding]:
    """The findings of `findings_frame`."""
    return [Finding(*row) for row in frame.select(list(_FINDING_SCHEMA)).iter_rows()]


def summarise(findings: Iterable[Finding], *, first: int = FIRST_ROWS) -> list[dict[str, Any]]:
    """Per rule: code, titles, severity, count, first rows (row_no, column, value); errors
    first, then by count."""
    by_rule: dict[str, dict[str, Any]] = {}
    for f in findings:
        entry = by_rule.get(f.rule)
        if entry is None:
            severity, title_id, title_en = rule_title(f.rule)
            entry = by_rule[f.rule] = {
                "code": f.rule,
                "message_id": title_id,
                "message_en": title_en,
                "severity": f.severity if f.rule not in RULES else severity,
                "count": 0,
                "first_rows": [],
            }
        entry["count"] += 1
        if len(entry["first_rows"]) < first:
            entry["first_rows"].append(
                {
                    "row_no": f.row_no,
                    "column": f.column,
                    "value": f.value,
                    "message_id": f.message_id,
                    "message_en": f.message_en,
                }
            )
    for entry in by_rule.values():
        entry["first_rows"].sort(key=lambda r: r["row_no"])
    return sorted(by_rule.values(), key=lambda e: (e["severity"] != ERROR, -e["count"], e["code"]))


__all__ = [
    "Checked",
    "Context",
    "Finding",
    "Result",
    "check_batch",
    "nik_fast_ok",
    "rerun_registry",
    "run",
    "summarise",
    "text_fast_ok",
]
