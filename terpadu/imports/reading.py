"""Streaming readers for uploaded registry files: CSV (any common delimiter and encoding),
xlsx and xls.

Every reader yields Polars DataFrames of at most `batch_size` rows, every column text
(``pl.String``) named ``c0 … cN`` by position, plus ``_row``: the spreadsheet row number
(the header is row 1). Text only, so a NIK never becomes a number on the way in; cells that
WERE numbers in a spreadsheet are rendered so the NIK checks can recognise them (see
`cell_text`).

CSV goes through Polars' streaming engine (`scan_csv` + `collect_batches`): memory is bounded
by the batch, not the file. Windows-1252 files are first transcoded to a temporary UTF-8 copy
in 1 MiB chunks (Polars reads UTF-8 only). xlsx/xls are read by python-calamine, which parses
a sheet in Rust in one go (≈ 50 bytes a cell) and hands rows to Python lazily; batches are
built from its row iterator, so the Python side stays bounded by the batch.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import math
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

DEFAULT_BATCH_ROWS = 50_000
DELIMITERS = (",", ";", "\t", "|")
SNIFF_BYTES = 256 * 1024
ROW = "_row"
# A whole number of this many digits or more that was stored as a NUMBER cell is an identifier
# Excel has had its hands on: it is rendered "….0" so the NIK/No KK checks refuse it with
# the message that says so (terpadu.lib.nik "excel_decimal"). Smaller whole numbers (codes,
# RT/RW, ages) are rendered as plain integers.
ID_LIKE_DIGITS = 10


class ReadError(Exception):
    """The file cannot be read at all (not a spreadsheet, empty, broken)."""

    def __init__(self, code: str, message_id: str, message_en: str) -> None:
        super().__init__(message_en)
        self.code, self.message_id, self.message_en = code, message_id, message_en


@dataclass
class FileInfo:
    """What sniffing found: format, encoding/delimiter (CSV), sheet (xlsx) and the headers."""

    fmt: str
    headers: list[str]
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    notes: list[str] = field(default_factory=list)
    rows_estimate: int = 0  # data rows (line count / sheet height) for the first progress bar

    @property
    def columns(self) -> list[str]:
        """Positional column names of the batches (``c0 … cN``)."""
        return [f"c{i}" for i in range(len(self.headers))]


def fmt_of(name: str) -> str:
    """ "csv" | "xlsx" | "xls" from a file name (ReadError otherwise)."""
    ext = Path(name).suffix.lower().lstrip(".")
    if ext in ("csv", "txt", "tsv"):
        return "csv"
    if ext in ("xlsx", "xlsm"):
        return "xlsx"
    if ext == "xls":
        return "xls"
    raise ReadError(
        "format",
        f"Format berkas '{ext or name}' tidak didukung; unggah .xlsx, .xls atau .csv.",
        f"File format '{ext or name}' is not supported; upload .xlsx, .xls or .csv.",
    )


# --- cells ------------------------------------------------------------------------------


def cell_text(value: Any) -> str | None:
    """A spreadsheet cell as text: dates ISO, whole numbers as integers, None for empty.

    A whole number of `ID_LIKE_DIGITS`+ digits keeps its ``.0`` (it was an Excel number, and
    a NIK/No KK must never be one); other floats keep Python's shortest form.
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time | dt.timedelta):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer() and abs(value) < 10 ** (ID_LIKE_DIGITS - 1):
            return str(int(value))
        return repr(value)
    return str(value)


# --- CSV sniffing -------------------------------------------------------------------------


def _sniff_encoding(sample: bytes) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sample is still UTF-8.
        if exc.start >= len(sample) - 3 and len(sample) >= SNIFF_BYTES:
            try:
                sample[: exc.start].decode("utf-8")
                return "utf-8"
            except UnicodeDecodeError:
                pass
        return "cp1252"


def _sniff_delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    with suppress(csv.Error):
        return csv.Sniffer().sniff("\n".join(lines[:20]), delimiters="".join(DELIMITERS)).delimiter
    # Fallback: the candidate with the same non-zero count on most lines, header first.
    best, best_score = ",", -1
    for cand in DELIMITERS:
        counts = [ln.count(cand) for ln in lines]
        if counts[0] == 0:
            continue
        score = sum(1 for c in counts if c == counts[0])
        if score > best_score:
            best, best_score = cand, score
    return best


def sniff_csv(path: Path) -> FileInfo:
    """Encoding (UTF-8 with/without BOM, UTF-16, else Windows-1252), delimiter and headers."""
    with open(path, "rb") as fh:
        sample = fh.read(SNIFF_BYTES)
    if not sample.strip():
        raise ReadError("empty", "Berkas kosong.", "The file is empty.")
    encoding = _sniff_encoding(sample)
    text = sample.decode(encoding, errors="replace")
    if len(sample) == SNIFF_BYTES:  # drop the (probably cut) last line
        text = text[: text.rfind("\n") + 1] or text
    delimiter = _sniff_delimiter(text)
    first = next(csv.reader(text.splitlines()[:1], delimiter=delimiter), [])
    headers = [h.strip().lstrip("\ufeff") for h in first]
    lines = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            lines += chunk.count(b"\n")
    if not any(headers):
        raise ReadError(
            "no_header",
            "Baris pertama berkas harus berisi judul kolom.",
            "The first row of the file must hold the column headers.",
        )
    info = FileInfo("csv", headers, encoding=encoding, delimiter=delimiter)
    info.rows_estimate = max(0, lines - 1)
    return info


@contextmanager
def _utf8_copy(path: Path, encoding: str) -> Iterator[Path]:
    """`path` itself when it is UTF-8; otherwise a temporary UTF-8 transcoding of it."""
    if encoding in ("utf-8", "utf-8-sig"):
        yield path
        return
    fd, tmp = tempfile.mkstemp(suffix=".csv", prefix="terpadu-import-")
    try:
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        with open(path, "rb") as src, os.fdopen(fd, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(decoder.decode(chunk).encode("utf-8"))
            dst.write(decoder.decode(b"", final=True).encode("utf-8"))
        yield Path(tmp)
    finally:
        with suppress(OSError):
            os.unlink(tmp)


def _csv_batches(path: Path, info: FileInfo, batch_size: int) -> Iterator[pl.DataFrame]:
    names = info.columns
    with _utf8_copy(path, info.encoding) as source:
        lazy = pl.scan_csv(
            source,
            separator=info.delimiter or ",",
            has_header=False,
            skip_rows=1,
            new_columns=names,
            schema={n: pl.String for n in names},
            infer_schema=False,
            truncate_ragged_lines=True,
            missing_columns="insert",
            row_index_name=ROW,
            row_index_offset=2,
            encoding="utf8-lossy",
            quote_char='"',
        )
        for frame in lazy.collect_batches(chunk_size=batch_size):
            if frame.height:
                yield frame.with_columns(pl.col(ROW).cast(pl.Int64))


# --- spreadsheets ---------------------------------------------------------------------------


def _open_sheet(path: Path) -> Any:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for broken files
        raise ReadError(
            "broken",
            f"Berkas tidak dapat dibaca sebagai lembar kerja ({exc}).",
            f"The file cannot be read as a spreadsheet ({exc}).",
        ) from exc
    visible = [m.name for m in book.sheets_metadata if str(m.visible).endswith("Visible")]
    name = (visible or book.sheet_names)[0]
    return book.get_sheet_by_name(name)


def sniff_sheet(path: Path, fmt: str) -> FileInfo:
    """Headers of the first visible sheet of an xlsx/xls workbook."""
    sheet = _open_sheet(path)
    rows = sheet.iter_rows()
    first = next(rows, None)
    headers = [(cell_text(v) or "").strip() for v in (first or [])]
    while headers and not headers[-1]:
        headers.pop()
    if not any(headers):
        raise ReadError(
            "no_header",
            "Baris pertama lembar kerja harus berisi judul kolom.",
            "The first row of the sheet must hold the column headers.",
        )
    info = FileInfo(fmt, headers, sheet=sheet.name)
    info.rows_estimate = max(0, int(getattr(sheet, "height", 0) or 0) - 1)
    return info


def _sheet_batches(path: Path, info: FileInfo, batch_size: int) -> Iterator[pl.DataFrame]:
    sheet = _open_sheet(path)
    width = len(info.headers)
    names = info.columns
    rows = sheet.iter_rows()
    next(rows, None)  # header
    cols: list[list[str | None]] = [[] for _ in range(width)]
    numbers: list[int] = []
    row_no = 1
    for row in rows:
        row_no += 1
        cells = [cell_text(v) for v in row[:width]]
        if not any(cells):
            continue  # blank lines inside a sheet are layout, not data
        cells += [None] * (width - len(cells))
        for i, value in enumerate(cells):
            cols[i].append(value)
        numbers.append(row_no)
        if len(numbers) >= batch_size:
            yield _frame(names, cols, numbers)
            cols = [[] for _ in range(width)]
            numbers = []
    if numbers:
        yield _frame(names, cols, numbers)


def _frame(names: list[str], cols: list[list[str | None]], numbers: list[int]) -> pl.DataFrame:
    data: dict[str, Any] = {
        n: pl.Series(n, c, dtype=pl.String) for n, c in zip(names, cols, strict=True)
    }
    data[ROW] = pl.Series(ROW, numbers, dtype=pl.Int64)
    return pl.DataFrame(data)


# --- entry points ---------------------------------------------------------------------------


def sniff(path: Path | str, fmt: str) -> FileInfo:
    """Sniff a stored upload of format `fmt` ("csv" | "xlsx" | "xls")."""
    path = Path(path)
    if fmt == "csv":
        return sniff_csv(path)
    return sniff_sheet(path, fmt)


def iter_batches(
    path: Path | str, info: FileInfo, *, batch_size: int = DEFAULT_BATCH_ROWS
) -> Iterator[pl.DataFrame]:
    """Data rows of the file in batches (see module docstring); blank rows are skipped."""
    path = Path(path)
    batches = (
        _csv_batches(path, info, batch_size)
        if info.fmt == "csv"
        else _sheet_batches(path, info, batch_size)
    )
    names = info.columns
    for frame in batches:
        # Blank cells are null, and a row with no text at all is dropped (CSV trailers).
        frame = frame.with_columns(
            [
                pl.when(pl.col(n).str.strip_chars() == "").then(None).otherwise(pl.col(n)).alias(n)
                for n in names
            ]
        ).filter(~pl.all_horizontal([pl.col(n).is_null() for n in names]))
        if frame.height:
            yield frame


def sample_rows(path: Path | str, info: FileInfo, n: int = 5) -> list[list[str]]:
    """The first `n` data rows as text (for the mapping page)."""
    for frame in iter_batches(path, info, batch_size=max(n, 1)):
        return [[v or "" for v in row] for row in frame.head(n).select(info.columns).iter_rows()]
    return []
