"""Versioned code lists (domain.md §1.3–1.4). Labels stay Indonesian, as on the forms.

The same variable has different codes in different versions (floor "Tanah" is 9 in DTKS2020
and 8 in DTSEN2025), so a coded value is only meaningful together with its row's `codelist`.
"""

from __future__ import annotations

from django.db import models


class Codelist(models.TextChoices):
    DTKS2020 = "DTKS2020", "DTKS/PBDT (2015–2024)"
    DTSEN2025 = "DTSEN2025", "DTSEN (2025–)"


DEFAULT_CODELIST = Codelist.DTKS2020.value

# variable -> {code: label}, per code-list version. Filled in below.
CODES: dict[str, dict[str, dict[int, str]]] = {Codelist.DTKS2020: {}, Codelist.DTSEN2025: {}}


def label(codelist: str, variable: str, code: int | None) -> str:
    """Label of `code` for `variable` in `codelist`; '' for None, '?<code>' if unknown."""
    if code is None:
        return ""
    return CODES.get(codelist, {}).get(variable, {}).get(code, f"?{code}")


def choices(codelist: str, variable: str) -> list[tuple[int, str]]:
    return sorted(CODES.get(codelist, {}).get(variable, {}).items())
