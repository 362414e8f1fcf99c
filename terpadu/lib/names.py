"""Person-name normalisation for matching (dedup, Dukcapil *padan*, search).

The same person is typed as "Hj. Siti  Aminah, S.Pd", "SITI AMINAH" and "siti aminah spd"
in different sources. `normalise_name` reduces these to one form ("SITI AMINAH"): upper case,
single spaces, no honorific/academic titles, no punctuation except apostrophes and hyphens
inside a word ("MA'RUF", "SITI-AMINAH"). The stored name is never changed; the normal form
goes in `Person.name_norm`.
"""

from __future__ import annotations

import re
import unicodedata

# Titles that only ever come before a name (religious and professional honorifics).
_PREFIX_TITLES = frozenset(
    {"H", "HJ", "HAJI", "HAJJAH", "KH", "DR", "DRS", "DRA", "DRG", "IR", "PROF"}
)

# Academic degrees, recognised with or without dots ("S.PD", "SPD"), at either end of the
# name or anywhere after a comma.
_DEGREES = frozenset(
    {
        "SPD", "SPDI", "SE", "SEI", "SKOM", "SSOS", "MPD", "MSI", "AMD", "ST", "SAG", "SIP",
        "SKM", "SKEP", "SKED", "SFARM", "SPSI", "SHUT", "SPT", "SSI", "SSTP", "SAP", "SIKOM",
        "SHI", "SST", "SKEB", "SGZ", "MKES", "MAG", "MKOM", "MSC", "PHD", "AMA", "AMAPD",
        "AMKEP", "AMKEB",
    }
)  # fmt: skip

# Degrees that are also plausible name tokens ("MA" is a Chinese-Indonesian surname, "SI"
# and "SH" occur in names): titles only when written with a dot or after a comma.
_AMBIGUOUS_DEGREES = frozenset({"SH", "SP", "SS", "MM", "MT", "MA", "MH", "SI"})

_ALL_TITLES = _PREFIX_TITLES | _DEGREES | _AMBIGUOUS_DEGREES

# "H.BUDI", "DR.IR.H.BUDI": titles glued to the name without a space.
_GLUED_PREFIX = re.compile(r"^((?:(?:" + "|".join(sorted(_PREFIX_TITLES)) + r")\.)+)(?=[^\W\d_])")
_APOSTROPHES = str.maketrans({"‘": "'", "’": "'", "`": "'", "´": "'", "ʼ": "'"})


def _key(token: str) -> str:
    return "".join(ch for ch in token if ch.isalnum())


def _is_title(token: str, *, leading: bool, after_comma: bool) -> bool:
    key = _key(token)
    if not key:
        return False
    if after_comma:
        return key in _ALL_TITLES
    if leading and key in _PREFIX_TITLES:
        return True
    if key in _DEGREES:
        return True
    return key in _AMBIGUOUS_DEGREES and "." in token


def _clean_token(token: str) -> list[str]:
    # Every character other than a letter, digit, apostrophe or hyphen separates words
    # ("M.YUSUF" -> "M YUSUF"); apostrophes and hyphens survive only inside a word.
    spaced = "".join(ch if ch.isalnum() or ch in "'-" else " " for ch in token)
    return [w for w in (part.strip("'-") for part in spaced.split()) if w]


def _one_pass(text: str) -> tuple[str, list[str]]:
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).upper()
    main, *rest = text.split(",")
    main = _GLUED_PREFIX.sub(lambda m: m.group(1).replace(".", ". "), main.strip())
    tokens = main.split()
    titles: list[str] = []

    start = 0
    while start < len(tokens) and _is_title(tokens[start], leading=True, after_comma=False):
        start += 1
    end = len(tokens)
    while end > start and _is_title(tokens[end - 1], leading=False, after_comma=False):
        end -= 1
    if start < end:
        titles += tokens[:start] + tokens[end:]
        kept = tokens[start:end]
    else:
        kept = tokens  # nothing but titles: keep them rather than return an empty name

    for segment in rest:
        for token in segment.split():
            if _is_title(token, leading=False, after_comma=True):
                titles.append(token)
            else:
                kept.append(token)  # "SANTOSO, BUDI": a reversed name, not a title

    words = [w for token in kept for w in _clean_token(token)]
    return " ".join(words), titles


def split_titles(raw: str | None) -> tuple[str, list[str]]:
    """Split a name into its normal form and the titles removed, as written (upper case).

    ``"Hj. Siti  Aminah, S.Pd"`` → ``("SITI AMINAH", ["HJ.", "S.PD"])``.
    """
    text = raw or ""
    titles: list[str] = []
    # Repeat until stable: cleaning punctuation can expose a title ("H.-BUDI" -> "H BUDI"),
    # and a normal form must be a fixed point or dedup keys drift between runs.
    for _ in range(5):
        new, found = _one_pass(text)
        titles += found
        if new == text:
            break
        text = new
    return text, titles


def normalise_name(raw: str | None) -> str:
    """Normal form of a person's name for matching: see the module docstring."""
    return split_titles(raw)[0]
