"""Column mapping: which column of the file is which registry field.

A mapping is ``{raw header: column key or None}`` (None = ignored). `suggest` recognises
the usual Indonesian headers through `layout.header_key`; a saved `MappingTemplate` stores
``{normalised header: key}`` so it applies to files whose headers differ only in case,
spaces or underscores. `check` lists what makes a mapping unusable, as RecordIssues.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from terpadu.imports import layout
from terpadu.registry.records import RecordIssue


def _issue(code: str, message_id: str, message_en: str, path: str = "mapping") -> RecordIssue:
    return RecordIssue(path, code, "error", message_id, message_en)


def suggest(headers: Sequence[str], template: Mapping[str, str | None] | None = None) -> dict:
    """Raw header → column key (None = ignored); a key is given to its first header only.

    A template's entries win over the built-in recognition.
    """
    known = {c.key for c in layout.COLUMNS}
    used: set[str] = set()
    out: dict[str, str | None] = {}
    for raw in headers:
        norm = layout.normalise_header(raw)
        if template is not None and norm in template:
            key = template[norm]
        else:
            key = layout.header_key(raw)
        if key is not None and (key in used or key not in known):
            key = None
        if key is not None:
            used.add(key)
        out[raw] = key
    return out


def as_template(mapping: Mapping[str, str | None]) -> dict[str, str | None]:
    """The mapping keyed by normalised header (what a MappingTemplate stores)."""
    return {layout.normalise_header(raw): key for raw, key in mapping.items()}


def check(mapping: Mapping[str, str | None], *, region_is_desa: bool) -> list[RecordIssue]:
    """Everything that makes `mapping` unusable: unknown keys, a key mapped twice, required
    columns missing. Location is required unless the job's region is one desa (then every
    row belongs to it); a correction file (``ID_ART`` mapped) needs only the id."""
    issues: list[RecordIssue] = []
    known = {c.key for c in layout.COLUMNS}
    seen: dict[str, str] = {}
    for raw, key in mapping.items():
        if key is None or key == "":
            continue
        if key not in known:
            issues.append(
                _issue(
                    "unknown_key",
                    f"Kolom tujuan '{key}' untuk '{raw}' tidak dikenal.",
                    f"Target column '{key}' for '{raw}' is unknown.",
                )
            )
        elif key in seen:
            label = layout.column(key).header
            issues.append(
                _issue(
                    "mapped_twice",
                    f"Kolom {label} dipetakan dua kali: '{seen[key]}' dan '{raw}'.",
                    f"Column {label} is mapped twice: '{seen[key]}' and '{raw}'.",
                )
            )
        else:
            seen[key] = raw
    keys = set(seen)
    if "person_id" in keys:
        return issues
    issues.extend(
        _issue(
            "required_missing",
            f"Kolom wajib {col.header} ({col.label}) belum dipetakan.",
            f"Required column {col.header} is not mapped.",
        )
        for col in layout.COLUMNS
        if col.required and col.key not in keys
    )
    has_location = "region_code" in keys or "desa" in keys
    if not has_location and not region_is_desa:
        issues.append(
            _issue(
                "location_missing",
                "Petakan kolom KODE_WILAYAH (atau KODE_DESA dengan kode "
                "provinsi/kabupaten/kecamatan), atau pilih satu desa sebagai wilayah impor.",
                "Map the KODE_WILAYAH column (or KODE_DESA with the province/regency/district "
                "codes), or choose one desa as the import region.",
            )
        )
    return issues
