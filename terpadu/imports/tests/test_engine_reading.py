"""Reading real files: encodings, delimiters, BOM, xlsx number cells, header recognition."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import Workbook

from terpadu.imports import layout, mapping
from terpadu.imports.reading import ReadError, cell_text, fmt_of, iter_batches, sniff
from terpadu.imports.validation import code_text, date_text, region_from_parts, region_text

from .engine_helpers import HEADERS, households, write_csv


def _rows(path, fmt="csv", batch_size=50_000):  # type: ignore[no-untyped-def]
    info = sniff(path, fmt)
    out = []
    for frame in iter_batches(path, info, batch_size=batch_size):
        out += frame.select("_row", *info.columns).rows()
    return info, out


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_csv_any_delimiter_and_encoding(tmp_path, delimiter, encoding) -> None:  # type: ignore[no-untyped-def]
    rows = households(2)
    rows[0]["NAMA"] = "José Hernández; Jr"  # non-ASCII and the delimiter inside a cell
    path = write_csv(tmp_path / "f.csv", rows, delimiter=delimiter, encoding=encoding)
    info, read = _rows(path)
    assert info.delimiter == delimiter
    assert info.encoding == encoding
    assert info.headers == HEADERS  # no BOM left on the first header
    assert len(read) == 6
    assert read[0][0] == 2  # spreadsheet row numbers: the header is row 1
    assert read[0][1 + HEADERS.index("NAMA")] == "José Hernández; Jr"
    assert read[0][1 + HEADERS.index("NIK")] == rows[0]["NIK"]  # text, never a number


def test_csv_batches_are_bounded_and_blank_lines_skipped(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(tmp_path / "f.csv", households(10))
    path.write_bytes(path.read_bytes() + b"\r\n,,,,,,,,,,,\r\n")
    info = sniff(path, "csv")
    sizes = [f.height for f in iter_batches(path, info, batch_size=7)]
    assert max(sizes) <= 7 and sum(sizes) == 30


def test_empty_and_unsupported_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "e.csv").write_bytes(b"")
    with pytest.raises(ReadError):
        sniff(tmp_path / "e.csv", "csv")
    with pytest.raises(ReadError):
        fmt_of("data.pdf")
    assert fmt_of("DATA.XLSX") == "xlsx" and fmt_of("x.xls") == "xls"


def test_xlsx_cells_become_text_and_numbers_are_marked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    wb = Workbook()
    ws = wb.active
    ws.append(["NIK", "JK", "TGL_LAHIR", "RT"])
    ws.append([3201010101800001, 1, dt.date(1980, 1, 1), 3])  # NIK typed as a number
    ws.append(["3201010101800002", "2", "01-01-1980", "003"])  # text cells
    ws.append([None, None, None, None])  # blank row inside the sheet
    ws.append([3.2e15, 2.0, dt.datetime(1980, 1, 2, tzinfo=None), 4])  # noqa: DTZ001 (a naive Excel value)
    wb.save(tmp_path / "f.xlsx")
    info, read = _rows(tmp_path / "f.xlsx", "xlsx")
    assert info.headers == ["NIK", "JK", "TGL_LAHIR", "RT"]
    assert info.rows_estimate == 4  # the sheet's height, blank row included
    assert read[0] == (2, "3201010101800001.0", "1", "1980-01-01", "3")
    assert read[1] == (3, "3201010101800002", "2", "01-01-1980", "003")
    assert read[2] == (5, "3200000000000000.0", "2", "1980-01-02", "4")


def test_cell_text() -> None:
    assert cell_text(None) is None and cell_text("  ") is None
    assert cell_text(12.0) == "12" and cell_text(1.5) == "1.5"
    assert cell_text(3201010101800001.0).endswith(".0")
    assert cell_text(True) == "1"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("NIK", "nik"),
        ("nik", "nik"),
        (" No KK ", "no_kk"),
        ("NOKK", "no_kk"),
        ("no_kk", "no_kk"),
        ("Nama Lengkap", "name"),
        ("NAMA", "name"),
        ("JK", "sex"),
        ("Jenis Kelamin", "sex"),
        ("tgl_lahir", "birth_date"),
        ("Tanggal Lahir", "birth_date"),
        ("TEMPAT_LAHIR", "birth_place"),
        ("HUB_KRT", "relation_ruta"),
        ("Hub Keluarga", "relation_kk"),
        ("NAMA_IBU_KANDUNG", "mother_name"),
        ("ALAMAT", "address"),
        ("KODE_WILAYAH", "region_code"),
        ("KODE_PROVINSI", "prov"),
        ("kode-kab", "kab"),
        ("KODE_KEC", "kec"),
        ("KODE_DESA", "desa"),
        ("PEKERJAAN", "occupation"),
        ("STATUS_PEKERJAAN", "employment_status"),
        ("PKH", "prog_pkh"),
        ("BPNT", "prog_bpnt"),
        ("PBI", "prog_pbi"),
        ("ID_ART", "person_id"),
        ("VERSI", "row_version"),
        ("KETERANGAN", None),
    ],
)
def test_header_recognition(raw: str, key: str | None) -> None:
    assert layout.header_key(raw) == key


def test_suggest_maps_each_key_once_and_templates_win() -> None:
    found = mapping.suggest(["NIK", "Nik ", "NAMA", "X"])
    assert found == {"NIK": "nik", "Nik ": None, "NAMA": "name", "X": None}
    found = mapping.suggest(["NIK", "X"], {"X": "name", "NIK": None})
    assert found == {"NIK": None, "X": "name"}


def test_mapping_check_requires_columns_and_refuses_doubles() -> None:
    issues = mapping.check({"NIK": "nik", "N1": "name", "N2": "name"}, region_is_desa=False)
    codes = sorted(i.code for i in issues)
    assert "mapped_twice" in codes and "location_missing" in codes
    assert codes.count("required_missing") == 3  # sex, relation, no_kk
    full = mapping.suggest(HEADERS)
    assert mapping.check(full, region_is_desa=False) == []
    assert mapping.check({"ID_ART": "person_id", "NAMA": "name"}, region_is_desa=False) == []


def test_value_conversions() -> None:
    assert date_text("17-05-1980") == "1980-05-17"
    assert date_text("17/5/1980") == "1980-05-17"
    assert date_text("1980-05-17 00:00:00") == "1980-05-17"
    assert date_text("29221") == "1980-01-01"  # Excel serial in a CSV
    assert date_text("kemarin") == "kemarin"
    assert code_text("Perempuan", "sex") == "2" and code_text("L", "sex") == "1"
    assert code_text("02", "relation") == "2" and code_text("1.0", "relation") == "1"
    assert code_text("Kepala Keluarga", "relation") == "1"
    assert region_text("13.71.01.1001") == "1371011001"
    assert region_text("1371011001.0") == "1371011001"
    assert region_from_parts(["13", "71", "01", "1001"]) == "1371011001"
    assert region_from_parts(["13", "1371", "137101", "1371011001"]) == "1371011001"
    assert region_from_parts(["13", "71", "1", "1001"]) == "1371011001"
