"""Streaming CSV and xlsx writers for edition exports (BNBA lists, edition diffs).

Generic on purpose: a writer takes an iterable of dict rows and a column spec, so the same code
serves the as-of list of an edition and every sheet of a diff. Memory stays bounded by one row
(CSV) or by openpyxl's write-only buffers, which spill to a temporary file (xlsx), never by the
size of the export (design.md §4).

NIK, No KK, region codes and RT/RW are written as text everywhere (design.md §2: "NIK and No KK
are always text"): in xlsx as string values in cells formatted "@", so Excel never turns
``1371014507900001`` into ``1,37101E+15`` or drops a leading zero.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

from django.core.exceptions import FieldDoesNotExist
from django.db import connection
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from terpadu.editions.asof import (
    DiffKind,
    DiffRow,
    diff_rows,
    families_as_of,
    households_as_of,
    persons_as_of,
)
from terpadu.lib.nik import mask_nik
from terpadu.regions.models import Level, Region
from terpadu.registry import codelists
from terpadu.registry.models import Family, Household, NonaktifReason, Person, RecordStatus, Sex

TEXT_FORMAT = "@"
DATE_FORMAT = "DD-MM-YYYY"
# Excel's limit on a sheet title.
MAX_SHEET_TITLE = 31
# Flush CSV output in chunks of about this many bytes: one yield per row costs more in the
# WSGI server than it saves in memory.
CSV_CHUNK_BYTES = 64 * 1024

BULAN = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


def period_label(period: str) -> str:
    """``2026-03`` → ``Maret 2026``; users name an edition by its month (domain.md §3.5).

    Month names are Indonesian whatever the UI language: "DTKS penetapan Maret 2026" is the
    official name of the decree, not a translatable phrase. A malformed period comes back as is.
    """
    try:
        year, month = (int(part) for part in period.split("-"))
        return f"{BULAN[month - 1]} {year}"
    except (ValueError, IndexError):
        return period


def edition_label(period: str) -> str:
    """``DTKS penetapan Maret 2026``."""
    return f"DTKS penetapan {period_label(period)}"


@dataclass(frozen=True)
class Column:
    """One output column: the row key it reads, its header, and how it is written.

    `kind` is "text" (written as a string in an "@" cell), "date" (a real date in xlsx,
    DD-MM-YYYY), "number", or "" (whatever the value is). `nik` marks NIK/No KK columns, which
    are masked unless the export may carry them in clear (Action.EXPORT_NIK).
    """

    key: str
    header: str
    kind: str = ""
    width: int = 14
    nik: bool = False


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(value)


def _prepare(columns: Sequence[Column], *, unmask: bool) -> list[Callable[[Any], Any]]:
    """One converter per column, chosen once rather than per cell."""
    out: list[Callable[[Any], Any]] = []
    for column in columns:
        if column.nik and not unmask:
            out.append(lambda v: mask_nik(v) if v else "")
        elif column.kind == "text" or column.nik:
            out.append(_text)
        else:
            out.append(lambda v: "" if v is None else v)
    return out


def _csv_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def iter_csv(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[Column], *, unmask: bool
) -> Iterator[bytes]:
    """CSV bytes in chunks, starting with a UTF-8 BOM so Excel reads names with accents right.

    Comma-separated (RFC 4180). A CSV carries no types, so Excel may still show a NIK as a
    number when it opens the file directly: the page points users who need NIK intact in
    Excel to the xlsx, whose cells are typed as text.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.header for c in columns])
    convert = _prepare(columns, unmask=unmask)
    keys = [c.key for c in columns]
    first = True
    for row in rows:
        writer.writerow([_csv_value(f(row.get(k))) for f, k in zip(convert, keys, strict=True)])
        if buffer.tell() >= CSV_CHUNK_BYTES:
            yield _encode(buffer, bom=first)
            first = False
    yield _encode(buffer, bom=first)


def _encode(buffer: io.StringIO, *, bom: bool) -> bytes:
    data = buffer.getvalue().encode("utf-8-sig" if bom else "utf-8")
    buffer.seek(0)
    buffer.truncate(0)
    return data


@dataclass(frozen=True)
class Sheet:
    """One worksheet of an xlsx export."""

    title: str
    columns: Sequence[Column]
    rows: Iterable[Mapping[str, Any]]
    # Lines above the header (edition, region, who exported, when), as in SIKS-NG downloads.
    preamble: Sequence[str] = ()


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def write_xlsx(sheets: Sequence[Sheet], *, unmask: bool) -> IO[bytes]:
    """Write `sheets` to a temporary file (rewound) and return it; the caller streams it.

    openpyxl's write-only mode keeps only the current row in memory and spills each sheet to
    disk, so a regency's 300 k persons cost a file on disk, not RAM.
    """
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for sheet in sheets:
        ws = workbook.create_sheet(title=sheet.title[:MAX_SHEET_TITLE])
        for index, column in enumerate(sheet.columns):
            ws.column_dimensions[_letter(index)].width = column.width
        for line in sheet.preamble:
            ws.append([line])
        if sheet.preamble:
            ws.append([])
        header = []
        for column in sheet.columns:
            cell = WriteOnlyCell(ws, value=column.header)
            cell.font = bold
            header.append(cell)
        ws.append(header)
        _append_rows(ws, sheet.columns, sheet.rows, unmask=unmask)
    if not sheets:
        workbook.create_sheet(title="Data")
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
    workbook.save(out)
    out.seek(0)
    return out


def _append_rows(
    ws: Any, columns: Sequence[Column], rows: Iterable[Mapping[str, Any]], *, unmask: bool
) -> None:
    convert = _prepare(columns, unmask=unmask)
    keys = [c.key for c in columns]
    # Formatted columns get one styled cell each, reused for every row: openpyxl serialises a
    # row as soon as it is appended, and setting a style per cell costs a style-table lookup
    # each time (several times slower on a regency's list).
    styled: list[WriteOnlyCell | None] = []
    for column in columns:
        fmt = _format(column)
        cell = None
        if fmt:
            cell = WriteOnlyCell(ws)
            cell.number_format = fmt
        styled.append(cell)
    plan = list(zip(convert, keys, styled, strict=True))
    for row in rows:
        line: list[Any] = []
        for f, key, cell in plan:
            value = f(row.get(key))
            if cell is not None and value != "":
                cell.value = value
                line.append(cell)
            else:
                line.append(value)
        ws.append(line)


def _format(column: Column) -> str:
    if column.kind == "text" or column.nik:
        return TEXT_FORMAT
    if column.kind == "date":
        return DATE_FORMAT
    return ""


def _letter(index: int) -> str:
    return get_column_letter(index + 1)


# --- the BNBA list of an edition (as of its determination) ----------------------------------

BNBA_COLUMNS: tuple[Column, ...] = (
    Column("region_code", "Kode wilayah", kind="text", width=13),
    Column("desa", "Desa/kelurahan", width=22),
    Column("address", "Alamat", width=30),
    Column("rt", "RT", kind="text", width=5),
    Column("rw", "RW", kind="text", width=5),
    Column("no_kk", "No KK", nik=True, width=19),
    Column("nik", "NIK", nik=True, width=19),
    Column("name", "Nama", width=28),
    Column("sex", "Jenis kelamin", width=11),
    Column("birth_date", "Tanggal lahir", kind="date", width=12),
    Column("relation", "Hubungan dengan kepala keluarga", width=18),
    Column("status", "Status", width=16),
    Column("nonaktif_reason", "Alasan nonaktif", width=18),
    Column("penetapan", "Penetapan", kind="text", width=10),
)
_PERSON_COLUMNS = (
    "region_code",
    "nik",
    "name",
    "sex",
    "birth_date",
    "relation_kk",
    "codelist",
    "status",
    "nonaktif_reason",
    "penetapan_period",
)
FETCH_ROWS = 2000


def _as_sql(qs: Any) -> tuple[str, tuple[Any, ...]]:
    sql, params = qs.query.sql_with_params()
    return sql, tuple(params)


def bnba_sql(period: str, *, prefix: str, active_only: bool) -> tuple[str, list[Any]]:
    """One SELECT over the persons, households and families as of `period` (asof.py), joined
    on the registry ids the versions keep, ordered household by household."""
    persons, p_params = _as_sql(
        persons_as_of(period, region_prefix=prefix, active_only=active_only)
    )
    households, h_params = _as_sql(
        households_as_of(period, region_prefix=prefix, active_only=False)
    )
    families, f_params = _as_sql(families_as_of(period, region_prefix=prefix, active_only=False))
    q = connection.ops.quote_name
    cols = ", ".join(f"p.{q(c)}" for c in _PERSON_COLUMNS)
    sql = (
        f"SELECT {cols}, h.{q('address')}, h.{q('rt')}, h.{q('rw')}, f.{q('no_kk')} "  # noqa: S608
        f"FROM ({persons}) p "
        f"LEFT JOIN ({households}) h ON h.{q('id')} = p.{q('household_id')} "
        f"LEFT JOIN ({families}) f ON f.{q('id')} = p.{q('family_id')} "
        f"ORDER BY p.{q('region_code')}, p.{q('household_id')}, p.{q('family_id')}, "
        f"p.{q('member_no')}, p.{q('id')}"
    )
    return sql, [*p_params, *h_params, *f_params]


@contextmanager
def without_jit() -> Iterator[None]:
    """Turn PostgreSQL's JIT off around an as-of query.

    The planner cannot estimate joins over the as-of UNION ALL subqueries (it guessed 58 M rows
    for a 32 k-person kab/kota), so JIT compiles ~120 functions for 3.4 s to run a 0.1 s query.
    Other databases have no JIT; nothing to do there.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")


def bnba_rows(period: str, *, prefix: str, active_only: bool = True) -> Iterator[dict[str, Any]]:
    """The persons of edition `period` within `prefix`, as BNBA dict rows, streamed.

    A server-side cursor on PostgreSQL (Django's chunked cursor) keeps memory at one batch of
    rows; desa names come from one query over the region table.
    """
    desa_names = desa_names_within(prefix)
    sex = dict(Sex.choices)
    status = dict(RecordStatus.choices)
    reason = dict(NonaktifReason.choices)
    sql, params = bnba_sql(period, prefix=prefix, active_only=active_only)
    names = [*_PERSON_COLUMNS, "address", "rt", "rw", "no_kk"]
    with without_jit(), connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(FETCH_ROWS):
            for raw in batch:
                row = dict(zip(names, raw, strict=True))
                yield {
                    **row,
                    "desa": desa_names.get(row["region_code"], ""),
                    "sex": str(sex.get(row["sex"], row["sex"] or "")),
                    "birth_date": _date(row["birth_date"]),
                    "relation": codelists.label(row["codelist"], "relation", row["relation_kk"]),
                    "status": str(status.get(row["status"], row["status"])),
                    "nonaktif_reason": str(reason.get(row["nonaktif_reason"], "")),
                    "penetapan": row["penetapan_period"] or "",
                }


def _date(value: Any) -> dt.date | None:
    """SQLite hands raw SQL dates back as text; PostgreSQL as dates."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


# --- the diff between two editions ----------------------------------------------------------

DIFF_KINDS: tuple[tuple[str, str], ...] = (
    (DiffKind.ADDED, "Baru"),
    (DiffKind.DEACTIVATED, "Nonaktif"),
    (DiffKind.REACTIVATED, "Aktif kembali"),
    (DiffKind.CORRECTED, "Perbaikan"),
    (DiffKind.MOVED, "Pindah wilayah"),
)
_PERSON_DIFF = (
    Column("region_code", "Kode wilayah", kind="text", width=13),
    Column("desa", "Desa/kelurahan", width=22),
    Column("nik", "NIK", nik=True, width=19),
    Column("name", "Nama", width=28),
    Column("sex", "Jenis kelamin", width=11),
    Column("birth_date", "Tanggal lahir", kind="date", width=12),
    Column("status", "Status", width=16),
)
DIFF_COLUMNS: dict[str, tuple[Column, ...]] = {
    DiffKind.ADDED: _PERSON_DIFF,
    DiffKind.DEACTIVATED: (
        *_PERSON_DIFF,
        Column("nonaktif_reason", "Alasan nonaktif", width=18),
    ),
    DiffKind.REACTIVATED: _PERSON_DIFF,
    # One line per changed field; old and new values are text (a NIK among them is masked
    # in `_diff_lines`, since the writer masks by column, not by row).
    DiffKind.CORRECTED: (
        *_PERSON_DIFF[:4],
        Column("field", "Kolom", width=20),
        Column("old", "Nilai lama", kind="text", width=22),
        Column("new", "Nilai baru", kind="text", width=22),
    ),
    DiffKind.MOVED: (
        Column("old_region", "Kode wilayah asal", kind="text", width=13),
        Column("old_desa", "Desa/kelurahan asal", width=22),
        *_PERSON_DIFF,
    ),
}


def diff_lines(
    rows: Iterable[DiffRow], kind: str, *, desa_names: Mapping[str, str], unmask: bool
) -> Iterator[dict[str, Any]]:
    """The dict rows of one diff category (`kind`) from the differing persons."""
    sex = dict(Sex.choices)
    status = dict(RecordStatus.choices)
    reason = dict(NonaktifReason.choices)
    for diff in rows:
        if kind not in diff.kinds:
            continue
        after = diff.after
        line = {
            "region_code": after["region_code"],
            "desa": desa_names.get(after["region_code"], ""),
            "nik": after["nik"],
            "name": after["name"],
            "sex": str(sex.get(after["sex"], after["sex"] or "")),
            "birth_date": _date(after["birth_date"]),
            "status": str(status.get(after["status"], after["status"])),
            "nonaktif_reason": str(reason.get(after["nonaktif_reason"], "")),
        }
        if kind == DiffKind.MOVED and diff.before:
            line["old_region"] = diff.before["region_code"]
            line["old_desa"] = desa_names.get(diff.before["region_code"], "")
        if kind != DiffKind.CORRECTED or not diff.before:
            yield line
            continue
        for name in diff.changed_fields:
            old, new = diff.before[name], after[name]
            if name == "nik" and not unmask:
                old, new = mask_nik(old), mask_nik(new)
            yield {**line, "field": field_label(name), "old": old, "new": new}


def field_label(name: str) -> str:
    """Verbose name of a person field ("name", "family_id"), else the name itself."""
    field = name.rsplit(".", 1)[-1]
    for model in (Person, Household, Family):
        try:
            return str(model._meta.get_field(field).verbose_name)
        except FieldDoesNotExist:
            continue
    return name


def desa_names_within(prefix: str) -> dict[str, str]:
    """digits → name of the current desa/kelurahan under `prefix` (one query)."""
    return dict(
        Region.objects.within(prefix)
        .filter(level=Level.DESA, valid_to__isnull=True)
        .values_list("digits", "name")
    )


def diff_sheets(a: str, b: str, *, prefix: str, unmask: bool) -> list[Sheet]:
    """One sheet per diff category; each sheet reads the differing persons once (O(changes))."""
    names = desa_names_within(prefix)
    return [
        Sheet(
            title,
            DIFF_COLUMNS[kind],
            diff_lines(
                diff_rows(a, b, region_prefix=prefix), kind, desa_names=names, unmask=unmask
            ),
            preamble=[f"{edition_label(a)} → {edition_label(b)}", f"Wilayah: {prefix or '-'}"],
        )
        for kind, title in DIFF_KINDS
    ]
