"""The error report: the original rows that have findings, with what is wrong, as xlsx.

Columns: BARIS (row number in the uploaded file), the file's own columns as uploaded (every
cell as text, so a NIK stays 16 digits when the operator fixes and re-uploads), then
KESALAHAN (Indonesian) and ERROR (English). The file and the findings are both read in row
order and merged, so memory stays bounded by a batch (openpyxl write-only spills to disk).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from terpadu.imports.reading import ROW, iter_batches

if TYPE_CHECKING:
    from terpadu.imports.models import ImportJob

TEXT = "@"


def write_error_report(job: ImportJob, out: BinaryIO) -> None:
    """Write the xlsx error report of `job` to `out` (see module docstring)."""
    from terpadu.imports.services import _info, iter_issue_rows

    info = _info(job)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Kesalahan")
    bold = Font(bold=True)

    def cell(value: object, *, header: bool = False) -> WriteOnlyCell:
        c = WriteOnlyCell(ws, value=value)
        c.number_format = TEXT
        if header:
            c.font = bold
        return c

    ws.append([cell(h, header=True) for h in ["BARIS", *info.headers, "KESALAHAN", "ERROR"]])
    issues = iter(iter_issue_rows(job))
    pending = next(issues, None)
    if pending is not None:
        for frame in iter_batches(Path(job.file.path), info):
            if pending is None:
                break
            rows = frame.select(ROW, *info.columns).iter_rows()
            for row in rows:
                while pending is not None and pending[0] < row[0]:
                    pending = next(issues, None)
                if pending is None:
                    break
                if pending[0] != row[0]:
                    continue
                messages = pending[1]
                ws.append(
                    [
                        cell(row[0]),
                        *(cell(v or "") for v in row[1:]),
                        cell("; ".join(m for m, _ in messages)),
                        cell("; ".join(m for _, m in messages)),
                    ]
                )
                pending = next(issues, None)
    wb.save(out)
