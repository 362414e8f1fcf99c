"""The generic writers: text cells for NIK/No KK, masking, BOM, bounded streaming."""

from __future__ import annotations

import datetime as dt
import tracemalloc
from collections.abc import Iterator
from typing import Any

from openpyxl import load_workbook

from terpadu.editions.exports import (
    Column,
    Sheet,
    edition_label,
    iter_csv,
    period_label,
    write_xlsx,
)

COLUMNS = [
    Column("region_code", "Kode wilayah", kind="text"),
    Column("nik", "NIK", nik=True),
    Column("no_kk", "No KK", nik=True),
    Column("name", "Nama"),
    Column("birth_date", "Tanggal lahir", kind="date"),
]
ROW = {
    "region_code": "1371011001",
    "nik": "1371014507900001",
    "no_kk": "0371010101150001",
    "name": "Siti Rahmah",
    "birth_date": dt.date(1990, 7, 5),
}


def _rows(n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {**ROW, "nik": f"13710145079{i:05d}", "name": f"Nama {i}"}


def test_period_label_uses_indonesian_month_names() -> None:
    assert period_label("2026-03") == "Maret 2026"
    assert period_label("2025-12") == "Desember 2025"
    assert edition_label("2026-02") == "DTKS penetapan Februari 2026"
    assert period_label("rusak") == "rusak"


def test_xlsx_writes_nik_and_kk_as_text_cells() -> None:
    handle = write_xlsx([Sheet("Data", COLUMNS, [ROW])], unmask=True)
    ws = load_workbook(handle, read_only=False)["Data"]
    header = [c.value for c in ws[1]]
    assert header == ["Kode wilayah", "NIK", "No KK", "Nama", "Tanggal lahir"]
    region, nik, kk, name, born = ws[2]
    assert nik.value == "1371014507900001" and nik.data_type == "s"
    assert nik.number_format == "@"
    # A leading zero survives because the value is a string in a text cell.
    assert kk.value == "0371010101150001" and kk.number_format == "@"
    assert region.value == "1371011001" and region.number_format == "@"
    assert name.value == "Siti Rahmah"
    assert born.value.date() == dt.date(1990, 7, 5)
    assert born.number_format == "DD-MM-YYYY"


def test_xlsx_masks_nik_without_export_right() -> None:
    handle = write_xlsx([Sheet("Data", COLUMNS, [ROW])], unmask=False)
    ws = load_workbook(handle)["Data"]
    _, nik, kk, *_ = ws[2]
    assert nik.value == "137101********01"
    assert kk.value == "037101********01"
    assert nik.number_format == "@"


def test_xlsx_preamble_and_several_sheets() -> None:
    sheets = [
        Sheet("Baru", COLUMNS, [ROW], preamble=["DTKS penetapan Maret 2026"]),
        Sheet("Nonaktif", COLUMNS, []),
    ]
    wb = load_workbook(write_xlsx(sheets, unmask=True))
    assert wb.sheetnames == ["Baru", "Nonaktif"]
    assert wb["Baru"]["A1"].value == "DTKS penetapan Maret 2026"
    assert wb["Baru"]["B4"].value == "1371014507900001"
    assert wb["Nonaktif"].max_row == 1


def test_csv_starts_with_bom_and_keeps_digits() -> None:
    data = b"".join(iter_csv([ROW, {**ROW, "nik": None}], COLUMNS, unmask=True))
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "Kode wilayah,NIK,No KK,Nama,Tanggal lahir"
    assert lines[1] == "1371011001,1371014507900001,0371010101150001,Siti Rahmah,1990-07-05"
    assert lines[2].split(",")[1] == ""


def test_csv_masks_and_streams_in_chunks_with_one_bom() -> None:
    chunks = list(iter_csv(_rows(5000), COLUMNS, unmask=False))
    assert len(chunks) > 1
    assert chunks[0].startswith(b"\xef\xbb\xbf")
    assert not any(c.startswith(b"\xef\xbb\xbf") for c in chunks[1:])
    body = b"".join(chunks).decode("utf-8-sig")
    assert "1371014507900000" not in body
    assert "137101********00" in body


def test_csv_memory_is_bounded_by_chunk_not_rows() -> None:
    tracemalloc.start()
    try:
        total = 0
        for chunk in iter_csv(_rows(50_000), COLUMNS, unmask=True):
            total += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total > 3_000_000
    assert peak < 1_000_000
