from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terpadu.lib.names import normalise_name, split_titles


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Hj. Siti  Aminah, S.Pd", "SITI AMINAH"),
        ("siti aminah", "SITI AMINAH"),
        ("  SITI\tAMINAH  ", "SITI AMINAH"),
        ("H. Budi Santoso", "BUDI SANTOSO"),
        ("H Budi Santoso", "BUDI SANTOSO"),
        ("H.Budi Santoso", "BUDI SANTOSO"),
        ("Haji Budi", "BUDI"),
        ("Hajjah Nur, A.Md", "NUR"),
        ("DR. IR. H. BUDI SANTOSO, M.SI", "BUDI SANTOSO"),
        ("Prof.Dr.Ir. Andi Wijaya, S.T., M.T.", "ANDI WIJAYA"),
        ("Drs. Ahmad", "AHMAD"),
        ("BUDI, S.PD", "BUDI"),
        ("BUDI,S.PD.,M.PD", "BUDI"),
        ("Budi Santoso S.Kom", "BUDI SANTOSO"),
        ("Budi Santoso SKom", "BUDI SANTOSO"),
        ("Rina S.Sos", "RINA"),
        ("Dewi, S.E.", "DEWI"),
        ("Andi SE", "ANDI"),
        ("Andi ST", "ANDI"),
        ("Andi S.H.", "ANDI"),
        ("Andi M.A.", "ANDI"),
        ("Yusuf, M.Pd", "YUSUF"),
        ("Ir. Joko", "JOKO"),
        # Kept: apostrophes and hyphens inside a name, initials, reversed names
        ("Ma'ruf Amin", "MA'RUF AMIN"),
        ("Ma’ruf Amin", "MA'RUF AMIN"),
        ("Siti-Aminah", "SITI-AMINAH"),
        ("siti - aminah", "SITI AMINAH"),
        ("'Budi'", "BUDI"),
        ("M. Yusuf", "M YUSUF"),
        ("Santoso, Budi", "SANTOSO BUDI"),
        # Ambiguous tokens without dots stay: they can be names
        ("Lie Ma", "LIE MA"),
        ("Budi H", "BUDI H"),
        ("Budi Haji Santoso", "BUDI HAJI SANTOSO"),
        # Nothing but a title: keep it rather than lose the name
        ("Haji", "HAJI"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalise_name(raw: str | None, expected: str) -> None:
    assert normalise_name(raw) == expected


def test_split_titles_returns_titles_as_written() -> None:
    assert split_titles("Hj. Siti  Aminah, S.Pd") == ("SITI AMINAH", ["HJ.", "S.PD"])
    assert split_titles("Budi") == ("BUDI", [])


words = st.text(alphabet="ABCDEFGHIJKLMNOPRSTUWYZ'-", min_size=1, max_size=8)
titles = st.sampled_from(["H.", "Hj.", "Dr.", "Ir.", "S.Pd", "S.E.", "M.Si", "A.Md", "ST", ","])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(words, titles), max_size=6), st.text(max_size=20))
def test_normalise_name_is_idempotent(parts: list[str], noise: str) -> None:
    for raw in (" ".join(parts), noise):
        once = normalise_name(raw)
        assert normalise_name(once) == once
        assert once == once.strip()
        assert "  " not in once
