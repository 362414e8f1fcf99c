"""Registry data for the imports UI tests (exports, pages): real rows through records.py."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import load_workbook

from terpadu.lib.nik import compose_nik, compose_no_kk
from terpadu.registry import records
from terpadu.registry.models import ChangeSet

BORN = dt.date(1984, 5, 17)
RECORDED = dt.date(2015, 6, 1)


def seed_households(
    region: Any, count: int, *, surname: str = "Chaniago", start: int = 1
) -> list[str]:
    """`count` households of two members (head + wife) in desa `region`; returns head NIKs."""
    region6 = region.digits[:6]
    changeset = records.open_changeset(by=None, reason="Data uji", source=ChangeSet.Source.DEMO)
    bundles, niks = [], []
    for n in range(start, start + count):
        head_nik = compose_nik(region6, BORN, 1, n)
        niks.append(head_nik)
        members = [
            {
                "name": f"Budi {surname} {n}",
                "sex": 1,
                "birth_date": BORN,
                "birth_place": "Padang",
                "relation_kk": 1,
                "relation_ruta": 1,
                "nik": head_nik,
                "mother_name": "Siti",
            },
            {
                "name": f"Ani {surname} {n}",
                "sex": 2,
                "birth_date": BORN,
                "relation_kk": 2,
                "relation_ruta": 2,
                "nik": compose_nik(region6, BORN, 2, n),
            },
        ]
        bundles.append(
            records.HouseholdBundle(
                key=f"h{n}",
                region=region,
                families=[{"no_kk": compose_no_kk(region6, RECORDED, n), "members": members}],
                household_fields={"address": f"Jl. Uji {n}", "rt": "001", "rw": "002"},
            )
        )
    records.create_households_bulk(changeset, bundles)
    return niks


def read_xlsx(content: bytes) -> tuple[Any, list[list[Any]]]:
    """(worksheet, rows of cell objects) of the first sheet of an xlsx file."""
    wb = load_workbook(io.BytesIO(content))
    ws = wb.worksheets[0]
    return ws, [list(r) for r in ws.iter_rows()]


def body(response: Any) -> bytes:
    """The bytes of a (streaming or file) response."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content
