"""Matching keys for Indonesian person names (probabilistic dedup and checks at entry).

`terpadu.lib.names.normalise_name` gives the registry's normal form (upper case, titles
removed). Two spellings of one person still differ there: "NUR HAYATI"/"NURHAYATI",
"DJOKO"/"JOKO" (pre-1972 spelling), "ACHMAD"/"AHMAD", "MUHAMMAD"/"MOH."/"M.". `name_key`
folds those to one comparable string; it is a key for comparing, never shown nor stored in
the registry.
"""

from __future__ import annotations

import re

from terpadu.lib.names import normalise_name

# Every way "Muhammad" is written (and abbreviated) becomes one token.
_MUHAMMAD = frozenset(
    {
        "M", "MD", "MH", "MHD", "MOH", "MOHD", "MUH", "MUHD", "MOCH", "MOCHD",
        "MUHAMMAD", "MUHAMAD", "MUHAMMED", "MUHAMED", "MUHAMMAT", "MUHAMAT",
        "MOHAMMAD", "MOHAMAD", "MOHAMMED", "MOHAMED", "MOHAMMAT",
        "MOCHAMMAD", "MOCHAMAD", "MOKHAMMAD", "MOKHAMAD", "MUCHAMMAD", "MUCHAMAD",
        "MUKHAMMAD", "MUKHAMAD", "MOEHAMMAD", "MOEHAMAD", "MUHHAMMAD",
    }
)  # fmt: skip
_MUHAMMAD_KEY = "MHD"

# Old (Van Ophuijsen / Soewandi) and variant spellings folded to one form. Order matters:
# digraphs first, then single letters, then doubled letters collapse.
_FOLDS: tuple[tuple[str, str], ...] = (
    ("OE", "U"),  # Soekarno → Sukarno
    ("DJ", "J"),  # Djoko → Joko
    ("TJ", "C"),  # Tjahjo → Cahyo
    ("SJ", "SY"),  # Sjarif → Syarif
    ("NJ", "NY"),  # Njoman → Nyoman
    ("CH", "KH"),  # Choirul → Khoirul
    ("KH", "H"),  # Khoirul/Hoirul, Akhmad/Ahmad
    ("TH", "T"),  # Fathur → Fatur
    ("DH", "D"),  # Ramadhan → Ramadan
    ("PH", "F"),
    ("Q", "K"),  # Qomariah → Komariah
    ("V", "F"),  # Novi → Nofi
    ("Z", "S"),  # Zainal/Sainal is rare, but Zulkifli/Dzulkifli/Sulkifli are not
    ("Y", "J"),  # old "j" was today's "y": fold both ways to one letter
    ("IE", "I"),
)
_DOUBLE = re.compile(r"(.)\1+")
_NON_LETTER = re.compile(r"[^A-Z ]")


def _fold(word: str) -> str:
    for old, new in _FOLDS:
        word = word.replace(old, new)
    return _DOUBLE.sub(r"\1", word)


def tokens_from_norm(norm: str | None) -> list[str]:
    """Folded tokens of an already normalised name (`Person.name_norm`): the fast path used
    on registry extracts, where `normalise_name` has run at write time."""
    text = _NON_LETTER.sub(" ", (norm or "").upper().replace("'", "").replace("-", " "))
    return [_MUHAMMAD_KEY if t in _MUHAMMAD else _fold(t) for t in text.split()]


def name_tokens(raw: str | None) -> list[str]:
    """Folded tokens of a name: titles removed, spelling variants folded, "Muhammad" as one
    token. ``"Hj. Siti Nur Djanah"`` → ``["SITI", "NUR", "JANAH"]``."""
    return tokens_from_norm(normalise_name(raw))


def key_from_tokens(tokens: list[str]) -> str:
    """Folded tokens joined without spaces, so "Nur Hayati" and "Nurhayati" agree."""
    return "".join(tokens)


def first_from_tokens(tokens: list[str]) -> str:
    """The first token that is not "Muhammad" ("M. Rizki" and "Rizki" share "RIZKI")."""
    rest = [t for t in tokens if t != _MUHAMMAD_KEY]
    return rest[0] if rest else (tokens[0] if tokens else "")


def name_key(raw: str | None) -> str:
    """One comparable string for a raw name (see the module docstring); "" when empty."""
    return key_from_tokens(name_tokens(raw))


def first_key(raw: str | None) -> str:
    """Folded first token of a raw name that is not "Muhammad" (a blocking key)."""
    return first_from_tokens(name_tokens(raw))


def place_key(raw: str | None) -> str:
    """Birth place for comparison: "Kota Padang", "PADANG" and "Kab. Padang" agree."""
    text = _NON_LETTER.sub(" ", (raw or "").upper())
    words = [w for w in text.split() if w not in {"KOTA", "KAB", "KABUPATEN", "KEC", "DESA"}]
    return _fold("".join(words))


def address_key(raw: str | None) -> str:
    """Address for comparison: upper case, common abbreviations folded, punctuation out."""
    text = re.sub(r"[^A-Z0-9 ]", " ", (raw or "").upper())
    repl = {"JALAN": "JL", "JLN": "JL", "GANG": "GG", "NOMOR": "NO", "NOMER": "NO"}
    return " ".join(repl.get(w, w) for w in text.split())
