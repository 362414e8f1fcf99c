"""Synthetic labelled persons for training checks, tests and the benchmark.

`generate(n)` returns `n` person records of which a share are *duplicates*: another record
of the same human typed again with the errors real DTKS data has — typos, spacing and old
spelling variants, "Muhammad" abbreviated, titles added, day and month swapped, dates or
NIK missing or different, a move to another desa. Every record carries `cluster_id`, the
id of the human (the ground truth), so precision/recall/F1 of a dedup run can be measured.

Names come from Faker's id_ID pools, composed the way Indonesian names are (one to three
words, often "Siti"/"Nur"/"Muhammad" first). Pure Python with a seeded `random.Random`:
the same seed gives the same data.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from faker.providers.address.id_ID import Provider as _Address
from faker.providers.person.id_ID import Provider as _Person

MALE = tuple(n.upper() for n in _Person.first_names_male)
FEMALE = tuple(n.upper() for n in _Person.first_names_female)
LAST_MALE = tuple(n.upper() for n in _Person.last_names_male)
LAST_FEMALE = tuple(n.upper() for n in _Person.last_names_female)
CITIES = tuple(c.upper() for c in _Address.cities)
STREETS = tuple(s.upper() for s in _Address.streets)

FIELDS = (
    "unique_id",
    "cluster_id",
    "nik",
    "name",
    "birth_date",
    "birth_place",
    "mother_name",
    "sex",
    "region_code",
    "address",
)

# Old spellings a clerk may still type (the inverse of names._FOLDS).
_OLD_SPELLING = (("U", "OE"), ("J", "DJ"), ("C", "TJ"), ("KH", "CH"), ("Y", "J"), ("SY", "SJ"))
_MUHAMMAD_FORMS = ("MUHAMMAD", "MUHAMAD", "MOHAMMAD", "MOH.", "M.", "MUH.", "MOCH.", "MHD.")
_TITLES_BEFORE = ("H.", "HJ.", "DR.", "IR.")
_TITLES_AFTER = (", S.PD", ", S.E", ", S.KOM", ", A.MD", ", S.SOS")


def desa_codes(n_kab: int = 19, n_kec: int = 15, n_desa: int = 20, prov: str = "13") -> list[str]:
    """A synthetic region tree's desa codes (10 digits: prov kab kec desa)."""
    return [
        f"{prov}{kab:02d}{kec:02d}{2000 + desa:04d}"
        for kab in range(1, n_kab + 1)
        for kec in range(1, n_kec + 1)
        for desa in range(1, n_desa + 1)
    ]


@dataclass(frozen=True)
class Options:
    """How many duplicates and how dirty they are (shares between 0 and 1)."""

    duplicate_share: float = 0.1
    nik_missing: float = 0.08
    dup_nik_missing: float = 0.3
    dup_nik_different: float = 0.2
    dup_name_typo: float = 0.3
    dup_name_spacing: float = 0.15
    dup_name_spelling: float = 0.15
    dup_title: float = 0.15
    dup_swap_day_month: float = 0.1
    dup_date_off: float = 0.07
    dup_date_missing: float = 0.05
    dup_mother_missing: float = 0.2
    dup_mother_typo: float = 0.15
    dup_moved: float = 0.2


def _person_name(rng: random.Random, sex: int) -> str:
    if sex == 1:
        words = [rng.choice(MALE)]
        if rng.random() < 0.12:
            words.insert(0, "MUHAMMAD")
        if rng.random() < 0.75:
            words.append(rng.choice(LAST_MALE if rng.random() < 0.5 else MALE))
    else:
        words = [rng.choice(FEMALE)]
        if rng.random() < 0.15:
            words.insert(0, rng.choice(("SITI", "NUR", "SRI", "DEWI")))
        if rng.random() < 0.7:
            words.append(rng.choice(LAST_FEMALE if rng.random() < 0.5 else FEMALE))
    if rng.random() < 0.1:
        words.append(rng.choice(LAST_MALE))
    return " ".join(words)


def _nik(region_code: str, birth: dt.date | None, sex: int, serial: int) -> str:
    day = (birth.day if birth else 1) + (40 if sex == 2 else 0)
    born = f"{day:02d}{birth.month:02d}{birth.year % 100:02d}" if birth else "010100"
    return f"{region_code[:6]}{born}{serial % 10000:04d}"


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    kind = rng.randrange(4)
    letter = rng.choice("AIUEONRSTMHK")
    if kind == 0:  # substitute
        return text[:i] + letter + text[i + 1 :]
    if kind == 1:  # delete
        return text[:i] + text[i + 1 :]
    if kind == 2:  # insert
        return text[:i] + letter + text[i:]
    return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]  # transpose


def _spacing(rng: random.Random, name: str) -> str:
    words = name.split()
    if len(words) > 1 and rng.random() < 0.6:
        i = rng.randrange(len(words) - 1)
        return " ".join([*words[:i], words[i] + words[i + 1], *words[i + 2 :]])
    word = max(words, key=len)
    if len(word) >= 6:
        cut = len(word) // 2
        return name.replace(word, f"{word[:cut]} {word[cut:]}", 1)
    return name


def _spelling(rng: random.Random, name: str) -> str:
    options = [(new, old) for new, old in _OLD_SPELLING if new in name]
    if not options:
        return name
    new, old = rng.choice(options)
    return name.replace(new, old, 1)


def _muhammad(rng: random.Random, name: str) -> str:
    if name.startswith("MUHAMMAD "):
        return rng.choice(_MUHAMMAD_FORMS) + name[len("MUHAMMAD") :]
    return name


def _with_title(rng: random.Random, name: str, sex: int) -> str:
    if rng.random() < 0.5:
        before = "HJ." if sex == 2 else rng.choice(_TITLES_BEFORE)
        return f"{before} {name}"
    return name + rng.choice(_TITLES_AFTER)


def _other_desa(rng: random.Random, code: str, codes: Sequence[str], by_kec: dict) -> str:
    roll = rng.random()
    if roll < 0.5:
        return rng.choice(by_kec[code[:6]])
    if roll < 0.85:
        kab = [c for c in by_kec if c[:4] == code[:4]]
        return rng.choice(by_kec[rng.choice(kab)])
    return rng.choice(codes)


def _address(rng: random.Random) -> str:
    return (
        f"JL. {rng.choice(STREETS)} NO. {rng.randint(1, 200)} "
        f"RT {rng.randint(1, 12):03d}/RW {rng.randint(1, 8):03d}"
    )


def _duplicate(
    rng: random.Random,
    base: dict,
    uid: int,
    opt: Options,
    codes: Sequence[str],
    by_kec: dict,
) -> dict:
    dup = dict(base, unique_id=uid)
    name, sex = base["name"], base["sex"]
    if rng.random() < opt.dup_name_spacing:
        name = _spacing(rng, name)
    if rng.random() < opt.dup_name_spelling:
        name = _spelling(rng, name)
    name = _muhammad(rng, name) if rng.random() < 0.6 else name
    if rng.random() < opt.dup_name_typo:
        name = _typo(rng, name)
    if rng.random() < opt.dup_title:
        name = _with_title(rng, name, sex)
    dup["name"] = name.title() if rng.random() < 0.3 else name

    birth: dt.date | None = base["birth_date"]
    roll = rng.random()
    if birth and roll < opt.dup_swap_day_month and birth.day <= 12 and birth.day != birth.month:
        birth = birth.replace(day=birth.month, month=birth.day)
    elif birth and roll < opt.dup_swap_day_month + opt.dup_date_off:
        birth = birth + dt.timedelta(days=rng.choice((-1, 1, -10, 10)))
    elif roll < opt.dup_swap_day_month + opt.dup_date_off + opt.dup_date_missing:
        birth = None
    dup["birth_date"] = birth

    roll = rng.random()
    if roll < opt.dup_nik_missing:
        dup["nik"] = None
    elif roll < opt.dup_nik_missing + opt.dup_nik_different and base["nik"]:
        nik = base["nik"]
        i = rng.randrange(6, 16)
        dup["nik"] = nik[:i] + str((int(nik[i]) + 1) % 10) + nik[i + 1 :]

    roll = rng.random()
    if roll < opt.dup_mother_missing:
        dup["mother_name"] = ""
    elif roll < opt.dup_mother_missing + opt.dup_mother_typo:
        dup["mother_name"] = _typo(rng, base["mother_name"])
    if rng.random() < 0.1:
        dup["birth_place"] = "" if rng.random() < 0.5 else f"KOTA {base['birth_place']}"
    if rng.random() < opt.dup_moved:
        dup["region_code"] = _other_desa(rng, base["region_code"], codes, by_kec)
        dup["address"] = _address(rng)
    elif rng.random() < 0.2:
        dup["address"] = base["address"].replace("JL.", "JALAN").replace(" NO. ", " NO ")
    return dup


def iter_records(
    n: int,
    *,
    seed: int = 7,
    codes: Sequence[str] | None = None,
    options: Options | None = None,
) -> Iterator[dict]:
    """Yield `n` records (dicts with FIELDS); ids 1..n; duplicates interleaved at random."""
    rng = random.Random(seed)
    opt = options or Options()
    codes = list(codes or desa_codes())
    by_kec: dict[str, list[str]] = {}
    for code in codes:
        by_kec.setdefault(code[:6], []).append(code)
    home_city = {kab: rng.choice(CITIES) for kab in {c[:4] for c in codes}}
    originals: list[dict] = []
    start = dt.date(1940, 1, 1).toordinal()
    span = dt.date(2024, 12, 31).toordinal() - start
    for uid in range(1, n + 1):
        if originals and rng.random() < opt.duplicate_share:
            yield _duplicate(rng, rng.choice(originals), uid, opt, codes, by_kec)
            continue
        sex = 1 if rng.random() < 0.5 else 2
        region = rng.choice(codes)
        birth = dt.date.fromordinal(start + rng.randrange(span))
        record = {
            "unique_id": uid,
            "cluster_id": uid,
            "nik": None if rng.random() < opt.nik_missing else _nik(region, birth, sex, uid),
            "name": _person_name(rng, sex),
            "birth_date": birth,
            "birth_place": home_city[region[:4]] if rng.random() < 0.7 else rng.choice(CITIES),
            "mother_name": _person_name(rng, 2),
            "sex": sex,
            "region_code": region,
            "address": _address(rng),
        }
        originals.append(record)
        yield record


def generate(
    n: int,
    *,
    seed: int = 7,
    codes: Sequence[str] | None = None,
    options: Options | None = None,
) -> list[dict]:
    """`n` labelled records as a list (see `iter_records`)."""
    return list(iter_records(n, seed=seed, codes=codes, options=options))
