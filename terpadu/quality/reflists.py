"""Reference lists (BKN ASN list, death list, Samsat vehicles, …) uploaded by an admin.

A file (csv, xlsx or xls — first visible sheet; read by imports.reading like a registry import)
has a NIK column and optionally a value column (wage, NJOP) and a note/evidence column. Every
NIK is read as text and checked with the registry's own rule (lib.nik.check_nik); one mangled
NIK refuses the whole file, naming each row, so a list never half-loads. Rows go in
with one COPY (PostgreSQL) or bulk INSERTs.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from terpadu.accounts.access import Action, can, role_allows
from terpadu.accounts.models import User
from terpadu.imports import reading
from terpadu.lib.nik import check_nik
from terpadu.quality.catalogue import LIST_KINDS
from terpadu.quality.models import ReferenceEntry, ReferenceList
from terpadu.registry.records import insert_rows_bulk

NIK_HEADERS = ("nik", "no_nik", "nomor_nik", "nik_ktp")
VALUE_HEADERS = ("nilai", "value", "upah", "gaji", "njop")
NOTE_HEADERS = ("keterangan", "note", "catatan", "bukti", "evidence")
MAX_ISSUES = 50


@dataclass(frozen=True)
class ListIssue:
    """One refused row (row numbers as the user sees them: header = row 1)."""

    row: int
    code: str
    message_id: str
    message_en: str


class ReferenceListError(ValueError):
    def __init__(self, issues: list[ListIssue], total: int | None = None) -> None:
        super().__init__("; ".join(i.message_en for i in issues[:3]))
        self.issues = issues
        self.total = total if total is not None else len(issues)


def can_upload(user: Any) -> bool:
    """pusat, admin_provinsi and admin_kabkota upload lists for their own scope."""
    return role_allows(user, Action.REFERENCE_UPLOAD)


def _header_key(text: Any) -> str:
    return str(text or "").strip().lower().replace(" ", "_")


def _find(headers: list[str], names: tuple[str, ...]) -> int | None:
    for i, h in enumerate(headers):
        if h in names:
            return i
    return None


def _read(name: str, data: bytes) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Headers and (row number, cell text…) rows of a csv/xlsx/xls upload, read by the
    import reader (encoding, delimiter, Excel numbers as text)."""
    try:
        fmt = reading.fmt_of(name)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"upload.{fmt}"
            path.write_bytes(data)
            info = reading.sniff(path, fmt)
            rows = [
                row
                for frame in reading.iter_batches(path, info)
                for row in frame.select(reading.ROW, *info.columns).iter_rows()
            ]
    except reading.ReadError as exc:
        raise ReferenceListError([ListIssue(0, exc.code, exc.message_id, exc.message_en)]) from exc
    return info.headers, rows


def _value(raw: Any, row: int) -> tuple[Decimal | None, ListIssue | None]:
    if raw is None or str(raw).strip() == "":
        return None, None
    text = str(raw).strip().replace("Rp", "").replace(" ", "")
    # Indonesian thousands dots (3.000.000) and a decimal comma.
    if "," in text or text.count(".") > 1:
        text = text.replace(".", "").replace(",", ".")
    try:
        return Decimal(text), None
    except InvalidOperation:
        return None, ListIssue(
            row,
            "bad_value",
            f"Baris {row}: nilai '{raw}' bukan angka.",
            f"Row {row}: value '{raw}' is not a number.",
        )


def parse(name: str, data: bytes) -> list[tuple[str, Decimal | None, str]]:
    """(nik, value, note) rows of a csv/xlsx/xls file, or ReferenceListError with every bad row."""
    header_row, rows = _read(name, data)
    headers = [_header_key(h) for h in header_row]
    nik_col = _find(headers, NIK_HEADERS)
    if nik_col is None:
        raise ReferenceListError(
            [
                ListIssue(
                    1,
                    "no_nik_column",
                    "Baris judul harus memuat kolom NIK.",
                    "The header row must have a NIK column.",
                )
            ]
        )
    value_col, note_col = _find(headers, VALUE_HEADERS), _find(headers, NOTE_HEADERS)
    out: list[tuple[str, Decimal | None, str]] = []
    issues: list[ListIssue] = []
    for number, *cells in rows:  # blank rows are already dropped by the reader
        check = check_nik(cells[nik_col])
        if not check.ok:
            first = check.errors[0]
            issues.append(
                ListIssue(
                    number,
                    first.code,
                    f"Baris {number}: {first.message_id}.",
                    f"Row {number}: {first.message_en}.",
                )
            )
            continue
        value, problem = _value(cells[value_col], number) if value_col is not None else (None, None)
        if problem:
            issues.append(problem)
            continue
        note = str(cells[note_col] or "").strip()[:200] if note_col is not None else ""
        out.append((check.value or "", value, note))
    if issues:
        raise ReferenceListError(issues[:MAX_ISSUES], total=len(issues))
    if not out:
        raise ReferenceListError(
            [ListIssue(0, "no_rows", "Berkas tidak berisi NIK.", "The file holds no NIK.")]
        )
    return out


def upload(
    *,
    by: User,
    kind: str,
    name: str,
    source: str,
    valid_as_of: Any,
    file: UploadedFile,
) -> ReferenceList:
    """Check and load one reference list for `by`'s scope (all rows or none)."""
    if not can_upload(by):
        raise PermissionDenied
    if kind not in LIST_KINDS:
        raise ReferenceListError(
            [ListIssue(0, "kind", "Jenis daftar tidak dikenal.", "Unknown list kind.")]
        )
    data = file.read()
    rows = parse(file.name or "", data)
    with transaction.atomic():
        reflist = ReferenceList.objects.create(
            kind=kind,
            name=name,
            source=source,
            region_code=by.scope,
            uploaded_by=by,
            valid_as_of=valid_as_of,
            sha256=hashlib.sha256(data).hexdigest(),
            file_name=(file.name or "")[:200],
            entry_count=len(rows),
        )
        insert_rows_bulk(
            ReferenceEntry,
            [ReferenceEntry(list=reflist, nik=n, value=v, note=t) for n, v, t in rows],
        )
    return reflist


def set_active(*, by: User, reflist: ReferenceList, active: bool) -> None:
    """Withdraw (or restore) a list; its flags lapse at the next evaluation."""
    if not can(by, Action.REFERENCE_UPLOAD, reflist.region_code):
        raise PermissionDenied
    reflist.active = active
    reflist.save(update_fields=["active"])
