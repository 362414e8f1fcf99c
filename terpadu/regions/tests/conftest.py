from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from terpadu.regions.queries import clear_region_caches


@pytest.fixture(autouse=True)
def _fresh_region_caches() -> Iterator[None]:
    # known_prefixes() is cached per process; each test has its own rolled-back table.
    clear_region_caches()
    yield
    clear_region_caches()


def write_dataset(
    directory: Path, rows: dict[str, list[tuple[str, str]]], source_version: str = ""
) -> Path:
    """A tiny dataset in the idn-area-data layout: {"villages": [(code, name), ...], ...}."""
    directory.mkdir(parents=True, exist_ok=True)
    parent_column = {
        "provinces": None,
        "regencies": "province_code",
        "districts": "regency_code",
        "villages": "district_code",
    }
    for stem, column in parent_column.items():
        lines = ["code,name" if column is None else f"code,{column},name"]
        for code, name in rows.get(stem, []):
            parent = code.rsplit(".", 1)[0]
            lines.append(f"{code},{name}" if column is None else f"{code},{parent},{name}")
        (directory / f"{stem}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    if source_version:
        (directory / "dataset.json").write_text(
            f'{{"source_version": "{source_version}"}}', encoding="utf-8"
        )
    return directory
