"""NIK and No KK syntax checks (domain.md §2.1–2.2).

Both numbers are 16 digits: region (digits 1–6), a DDMMYY date (digits 7–12) and a serial
(digits 13–16). In a NIK the date is the birth date and women's day is +40; in a No KK it is
the recording date, with no +40 rule.

Pure Python on purpose: import pipelines, forms and the API all call the same functions, and
the region table is injected as ``known_prefixes`` (digits-only codes, e.g. ``{"13", "1371",
"137101"}``) so this module never touches the database. Messages come in Indonesian and
English and always quote the offending value, because operators fix data from these messages.

Passing this check is not proof that a NIK exists; only a match with Dukcapil (*padan*) is.
"""

from __future__ import annotations

import contextlib
import math
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Literal

Severity = Literal["error", "warning"]

# Every province code that has ever existed (Kemendagri), including the 2022 Papua splits
# 93–96; people registered before a split keep their old prefix for life.
PROVINCE_CODES: frozenset[str] = frozenset(
    [f"{n}" for n in range(11, 20)]
    + ["21"]
    + [f"{n}" for n in range(31, 37)]
    + [f"{n}" for n in range(51, 54)]
    + [f"{n}" for n in range(61, 66)]
    + [f"{n}" for n in range(71, 77)]
    + ["81", "82"]
    + [f"{n}" for n in range(91, 97)]
)

FEMALE_DAY_OFFSET = 40
MALE, FEMALE = 1, 2
_SEX_ID = {MALE: "laki-laki", FEMALE: "perempuan"}
_SEX_EN = {MALE: "male", FEMALE: "female"}

# Excel turns a 16-digit number into 3.20101E+15 (digits lost for good) or, when the cell
# is read back as a number, into "3201010190000001.0" (the 16th digit is already suspect:
# Excel keeps 15 significant digits). Both must be re-entered from the KTP/KK, never repaired.
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:[.,]\d*)?[eE][+-]?\d+$")
_DECIMAL = re.compile(r"^\d+[.,]0{1,2}$")
STRIPPED = " \t\r\n'‘’`"  # Excel's text marker, also as typed by word processors
_SEPARATORS = re.compile(r"[\s.\-‐‑‒–—]")  # dash look-alikes too
_WIB = timezone(timedelta(hours=7))


@dataclass(frozen=True)
class Issue:
    """One broken rule. `code` is stable (used by imports and tests); messages are for people."""

    code: str
    severity: Severity
    message_id: str
    message_en: str

    def message(self, language: str | None = None) -> str:
        """The message in `language` (a Django language code); Indonesian unless English."""
        if language and language.lower().startswith("en"):
            return self.message_en
        return self.message_id


@dataclass
class IdCheck:
    """Result of :func:`check_nik` / :func:`check_no_kk`.

    `value` is the normalised 16-digit text, or None when there is at least one error.
    The decoded fields are filled whenever they can be read, even if another rule failed.
    """

    raw: str
    value: str | None = None
    issues: list[Issue] = field(default_factory=list)
    birth_date: date | None = None
    sex: int | None = None
    region_prefix: str = ""
    recorded_date: date | None = None  # No KK only: tanggal pencatatan

    @property
    def errors(self) -> list[Issue]:
        """Issues that make the number unusable."""
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        """Issues to show or flag for a Dukcapil check; they never block a save."""
        return [i for i in self.issues if i.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when there is no error (warnings allowed)."""
        return not self.errors


@dataclass(frozen=True)
class _Kind:
    label: str
    female_offset: bool
    date_id: str
    date_en: str


_NIK = _Kind("NIK", True, "tanggal lahir", "birth date")
_KK = _Kind("No KK", False, "tanggal pencatatan", "recording date")


def _today() -> date:
    # Western Indonesia time; a day's difference across WITA/WIT cannot change a verdict
    # that compares 2-digit years.
    return datetime.now(_WIB).date()


def _as_text(raw: object) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and math.isnan(raw):
        return ""  # NaN is how pandas/openpyxl readers spell an empty cell
    return str(raw)


def _normalise_step(text: str) -> tuple[str, str | None]:
    text = unicodedata.normalize("NFKC", text).strip(STRIPPED)
    compact = re.sub(r"\s+", "", text)
    # Detect artefacts before dots are treated as separators, or "…0001.0" would become
    # a plausible-looking 17-digit string.
    if _SCIENTIFIC.match(compact):
        return compact, "excel_scientific"
    if _DECIMAL.match(compact):
        return compact, "excel_decimal"
    return _SEPARATORS.sub("", compact).strip(STRIPPED), None


def _normalise(raw: object) -> tuple[str, str | None]:
    text = _as_text(raw)
    if isinstance(raw, float) and math.isfinite(raw):
        # A float is always an Excel number cell, whatever it looks like.
        return text, "excel_scientific" if "e" in text.lower() else "excel_decimal"
    # Repeat until stable so that the result is idempotent by construction (removing a
    # separator can expose a leading apostrophe, e.g. "-'3201…").
    artefact: str | None = None
    for _ in range(8):
        new, artefact = _normalise_step(text)
        if new == text:
            break
        text = new
    return text, artefact


def normalise_id(raw: str | int | float | None) -> str:
    """Cleaned text of a NIK/No KK as typed: no surrounding blanks, Excel apostrophe or
    separators. Excel artefacts are returned unchanged (so the checks can refuse them).
    Idempotent: ``normalise_id(normalise_id(x)) == normalise_id(x)``.
    """
    return _normalise(raw)[0]


def _existing_dates(day: int, month: int, yy: int) -> list[date]:
    found = []
    for century in (1900, 2000):
        with contextlib.suppress(ValueError):  # 29 Feb in a non-leap year, 31 Apr, ...
            found.append(date(century + yy, month, day))
    return found


def _pick_century(candidates: list[date], today: date) -> date | None:
    """20YY unless that is in the future, else 19YY (domain.md §2.1)."""
    if not candidates:
        return None
    by_century = {d.year // 100: d for d in candidates}
    modern, old = by_century.get(20), by_century.get(19)
    if modern and modern <= today:
        return modern
    return old or modern


def decode_nik(
    value: str | int | None, *, today: date | None = None
) -> tuple[date | None, int | None]:
    """(birth date, sex) encoded in a NIK; (None, None) if it is not 16 digits.

    Sex is 1 (day 01–31) or 2 (day 41–71); the century is 20YY unless that date lies after
    `today`, else 19YY. An impossible date gives None for the date but still the sex.
    """
    digits, artefact = _normalise(value)
    if artefact or len(digits) != 16 or not digits.isascii() or not digits.isdigit():
        return None, None
    day, month, yy = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    sex = MALE if 1 <= day <= 31 else FEMALE if 41 <= day <= 71 else None
    if sex is None:
        return None, None
    real_day = day - FEMALE_DAY_OFFSET if sex == FEMALE else day
    born = _pick_century(_existing_dates(real_day, month, yy), today or _today())
    return born, sex


def check_nik(
    raw: str | int | float | None,
    *,
    sex: int | None = None,
    birth_date: date | None = None,
    known_prefixes: Collection[str] | None = None,
    today: date | None = None,
) -> IdCheck:
    """Check a NIK against domain.md §2.1; compare with recorded `sex`/`birth_date` if given.

    `known_prefixes` holds digits-only region codes from every historical Kemendagri table
    (2-, 4- and 6-digit); without it only the built-in province list is used.
    """
    return _check(
        raw, _NIK, sex=sex, birth_date=birth_date, known_prefixes=known_prefixes, today=today
    )


def check_no_kk(
    raw: str | int | float | None,
    *,
    known_prefixes: Collection[str] | None = None,
    today: date | None = None,
) -> IdCheck:
    """Check a No KK against domain.md §2.2 (recording date DDMMYY, no +40 rule)."""
    return _check(raw, _KK, sex=None, birth_date=None, known_prefixes=known_prefixes, today=today)


def _error(result: IdCheck, code: str, msg_id: str, msg_en: str) -> None:
    result.issues.append(Issue(code, "error", msg_id, msg_en))


def _warning(result: IdCheck, code: str, msg_id: str, msg_en: str) -> None:
    result.issues.append(Issue(code, "warning", msg_id, msg_en))


def _check(
    raw: str | int | float | None,
    kind: _Kind,
    *,
    sex: int | None,
    birth_date: date | None,
    known_prefixes: Collection[str] | None,
    today: date | None,
) -> IdCheck:
    result = IdCheck(raw=_as_text(raw))
    text, artefact = _normalise(raw)
    lbl = kind.label
    if not text:
        _error(result, "empty", f"{lbl} kosong", f"{lbl} is empty")
        return result
    if artefact == "excel_scientific":
        _error(
            result,
            artefact,
            f"{lbl} '{text}' tertulis dalam notasi ilmiah Excel; digit terakhirnya sudah hilang. "
            f"Format kolom sebagai Teks lalu ketik ulang {lbl} dari dokumen aslinya",
            f"{lbl} '{text}' is in Excel scientific notation; its last digits are lost. "
            f"Format the column as Text and re-type the {lbl} from the original document",
        )
        return result
    if artefact == "excel_decimal":
        _error(
            result,
            artefact,
            f"{lbl} '{text}' berakhiran desimal karena Excel menyimpannya sebagai angka "
            f"(Excel hanya menyimpan 15 digit). Format kolom sebagai Teks lalu ketik ulang",
            f"{lbl} '{text}' ends in a decimal because Excel stored it as a number "
            f"(Excel keeps only 15 digits). Format the column as Text and re-type it",
        )
        return result

    bad = list(dict.fromkeys(ch for ch in text if ch not in "0123456789"))
    if bad:
        shown = ", ".join(repr(ch) for ch in bad)
        _error(
            result,
            "not_digits",
            f"{lbl} hanya boleh berisi angka; '{text}' berisi karakter {shown}",
            f"{lbl} may contain digits only; '{text}' contains {shown}",
        )
        return result
    if len(text) != 16:
        hint_id = hint_en = ""
        if len(text) == 15:
            hint_id = (
                " (kemungkinan satu digit hilang, mis. digit pertama terpotong "
                "atau hasil migrasi data KTP lama)"
            )
            hint_en = " (a digit is probably missing, e.g. a cut-off first digit or old KTP data)"
        _error(
            result,
            "length",
            f"{lbl} harus 16 angka; '{text}' berisi {len(text)} angka{hint_id}",
            f"{lbl} must have 16 digits; '{text}' has {len(text)}{hint_en}",
        )
        return result

    result.region_prefix = text[:6]
    _check_region(result, text, kind, known_prefixes)
    encoded = _check_date(result, text, kind, today or _today())
    if text[12:16] == "0000":
        _error(
            result,
            "serial",
            f"Nomor urut {lbl} (digit 13–16) tidak boleh 0000; '{text}'",
            f"{lbl} serial number (digits 13–16) must not be 0000; '{text}'",
        )
    if kind.female_offset:
        _compare_recorded(result, text, encoded, sex=sex, birth_date=birth_date)
    if result.ok:
        result.value = text
    return result


def _check_region(
    result: IdCheck, text: str, kind: _Kind, known_prefixes: Collection[str] | None
) -> None:
    lbl = kind.label
    province = text[:2]
    # The built-in list is the floor: a partial region table (one province loaded for a
    # pilot) must not turn every migrant's NIK into an error. The table can only add codes.
    if province not in PROVINCE_CODES and not (known_prefixes and province in known_prefixes):
        _error(
            result,
            "province",
            f"Kode provinsi {lbl} (digit 1–2) '{province}' tidak pernah ada; '{text}'",
            f"{lbl} province code (digits 1–2) '{province}' has never existed; '{text}'",
        )
        return
    if known_prefixes is None or text[:6] in known_prefixes:
        return
    if text[:4] in known_prefixes:
        what_id = f"kecamatan '{text[:6]}' (digit 1–6)"
        what_en = f"kecamatan '{text[:6]}' (digits 1–6)"
    else:
        what_id = f"kabupaten/kota '{text[:4]}' (digit 1–4) dan kecamatan '{text[:6]}'"
        what_en = f"kabupaten/kota '{text[:4]}' (digits 1–4) and kecamatan '{text[:6]}'"
    _warning(
        result,
        "region_unknown",
        f"Kode {what_id} pada {lbl} '{text}' tidak ada di tabel wilayah Kemendagri; "
        f"periksa atau lengkapi tabel wilayah",
        f"Code of {what_en} in {lbl} '{text}' is not in the Kemendagri region table; "
        f"check it or complete the region table",
    )


def _check_date(result: IdCheck, text: str, kind: _Kind, today: date) -> date | None:
    """Check digits 7–12; return the decoded date (century picked) when it exists."""
    lbl = kind.label
    day, month, yy = int(text[6:8]), int(text[8:10]), int(text[10:12])
    real_day: int | None = None
    if 1 <= day <= 31:
        real_day = day
        if kind.female_offset:
            result.sex = MALE
    elif kind.female_offset and 41 <= day <= 71:
        real_day = day - FEMALE_DAY_OFFSET
        result.sex = FEMALE
    elif kind.female_offset:
        _error(
            result,
            "day",
            f"Tanggal di {lbl} (digit 7–8) harus 01–31 (laki-laki) atau 41–71 (perempuan); "
            f"'{text}' berisi {text[6:8]}",
            f"Day in {lbl} (digits 7–8) must be 01–31 (male) or 41–71 (female); "
            f"'{text}' has {text[6:8]}",
        )
    else:
        _error(
            result,
            "day",
            f"Tanggal di {lbl} (digit 7–8) harus 01–31; '{text}' berisi {text[6:8]}",
            f"Day in {lbl} (digits 7–8) must be 01–31; '{text}' has {text[6:8]}",
        )
    if not 1 <= month <= 12:
        _error(
            result,
            "month",
            f"Bulan di {lbl} (digit 9–10) harus 01–12; '{text}' berisi {text[8:10]}",
            f"Month in {lbl} (digits 9–10) must be 01–12; '{text}' has {text[8:10]}",
        )
        return None
    if real_day is None:
        return None
    candidates = _existing_dates(real_day, month, yy)
    shown = f"{real_day:02d}-{month:02d}"
    if not candidates:
        _error(
            result,
            "date",
            f"{kind.date_id.capitalize()} di {lbl} '{text}' tidak ada di kalender, baik "
            f"{shown}-19{yy:02d} maupun {shown}-20{yy:02d}",
            f"{kind.date_en.capitalize()} in {lbl} '{text}' does not exist, neither as "
            f"{shown}-19{yy:02d} nor as {shown}-20{yy:02d}",
        )
        return None
    encoded = _pick_century(candidates, today)
    if kind.female_offset:
        result.birth_date = encoded
    else:
        result.recorded_date = encoded
    if all(d > today for d in candidates):
        _warning(
            result,
            "future_date",
            f"{kind.date_id.capitalize()} di {lbl} '{text}' ({shown}-{yy:02d}) ada di masa depan",
            f"{kind.date_en.capitalize()} in {lbl} '{text}' ({shown}-{yy:02d}) is in the future",
        )
    return encoded


def _compare_recorded(
    result: IdCheck,
    text: str,
    encoded: date | None,
    *,
    sex: int | None,
    birth_date: date | None,
) -> None:
    # Warnings, not errors: a NIK is never re-issued when a birth date or sex is corrected
    # (domain.md §2.1), so a mismatch is a reason to check with Dukcapil, not to reject.
    if sex in (MALE, FEMALE) and result.sex is not None and sex != result.sex:
        _warning(
            result,
            "sex_mismatch",
            f"Jenis kelamin menurut NIK '{text}' (tanggal {text[6:8]}) adalah "
            f"{_SEX_ID[result.sex]}, tetapi tercatat {_SEX_ID[sex]}; periksa ke Dukcapil",
            f"NIK '{text}' (day {text[6:8]}) encodes {_SEX_EN[result.sex]}, but the recorded "
            f"sex is {_SEX_EN[sex]}; check with Dukcapil",
        )
    if birth_date is not None and encoded is not None:
        same = (encoded.day, encoded.month, encoded.year % 100) == (
            birth_date.day,
            birth_date.month,
            birth_date.year % 100,
        )
        if not same:
            nik_dmy = f"{encoded:%d-%m}-{text[10:12]}"
            rec = f"{birth_date:%d-%m-%Y}"
            _warning(
                result,
                "birth_date_mismatch",
                f"Tanggal lahir di NIK '{text}' ({nik_dmy}) berbeda dengan tanggal lahir "
                f"tercatat ({rec})",
                f"Birth date in NIK '{text}' ({nik_dmy}) differs from the recorded birth date "
                f"({rec})",
            )


def mask_nik(value: str | None) -> str:
    """Mask a NIK/No KK for lists (UU PDP): keep the region (first 6) and the last 2 digits.

    ``1371014507900001`` → ``137101********01``; length is kept. None/'' → '—'. Values of
    8 characters or fewer are masked entirely, since nothing in them is safe to show.
    """
    if not value:
        return "—"
    text = normalise_id(value)
    if len(text) <= 8:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 8) + text[-2:]


def _compose(region6: str, day: int, when: date, serial: int) -> str:
    if len(region6) != 6 or not region6.isascii() or not region6.isdigit():
        raise ValueError(f"region6 must be 6 digits, got {region6!r}")
    if not 1 <= serial <= 9999:
        raise ValueError(f"serial must be 1–9999, got {serial}")
    return f"{region6}{day:02d}{when.month:02d}{when.year % 100:02d}{serial:04d}"


def compose_nik(region6: str, birth_date: date, sex: int, serial: int) -> str:
    """Build a NIK: region (6 digits), DDMMYY birth date (+40 on the day for women), serial."""
    if sex not in (MALE, FEMALE):
        raise ValueError(f"sex must be 1 or 2, got {sex}")
    day = birth_date.day + (FEMALE_DAY_OFFSET if sex == FEMALE else 0)
    return _compose(region6, day, birth_date, serial)


def compose_no_kk(region6: str, recorded: date, serial: int) -> str:
    """Build a No KK: issuing region (6 digits), DDMMYY recording date, family serial."""
    return _compose(region6, recorded.day, recorded, serial)
