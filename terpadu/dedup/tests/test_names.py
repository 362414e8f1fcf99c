"""Matching keys: spellings of one Indonesian name agree, different names do not."""

from __future__ import annotations

import pytest

from terpadu.dedup.names import address_key, first_key, name_key, name_tokens, place_key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Nur Hayati", "Nurhayati"),  # spacing
        ("Hj. Siti Nurhayati, S.Pd", "SITI NUR HAYATI"),  # titles
        ("Djoko Susilo", "Joko Susilo"),  # dj → j
        ("Tjahjo Kumolo", "Cahyo Kumolo"),  # tj → c, old j → y
        ("Soekarno", "Sukarno"),  # oe → u
        ("Achmad Chairul", "Ahmad Khairul"),  # ch → kh → h
        ("Muhammad Yusuf", "Moh. Jusuf"),
        ("M. Yusuf", "Mohammad Yusuf"),
        ("Muhamad Rizki", "MUHAMMAD RIZKI"),
        ("Fathurrahman", "Faturahman"),  # th → t, double letters
        ("Ramadhan", "Ramadan"),
        ("Sjarifuddin", "Syarifudin"),
        ("Dr. H. Budi Santoso", "budi santoso"),
    ],
)
def test_variants_share_a_key(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [("Siti Aminah", "Siti Aisyah"), ("Budi", "Bayu"), ("Rahmat", "Rahmawati")],
)
def test_different_names_differ(a: str, b: str) -> None:
    assert name_key(a) != name_key(b)


def test_tokens_and_first_key() -> None:
    assert name_tokens("Hj. Siti Nur Djanah") == ["SITI", "NUR", "JANAH"]
    assert first_key("M. Rizki Pratama") == first_key("Rizki Pratama") == "RISKI"
    assert name_key("") == "" and first_key(None) == ""


def test_place_and_address_keys() -> None:
    assert place_key("Kota Padang") == place_key("PADANG") == place_key("Kab. Padang")
    assert address_key("Jalan Sudirman Nomor 5") == address_key("Jl. Sudirman No. 5")
