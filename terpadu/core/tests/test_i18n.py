"""The English catalogue is complete and compiled, and the UI switches language.

Indonesian is the source language; English lives in terpadu/locale/en. `make messages`
refreshes the catalogue; every new msgid needs an English msgstr before it is committed.
"""

from __future__ import annotations

import ast
import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from terpadu.accounts.models import Role

LC_MESSAGES = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PO_FILE = LC_MESSAGES / "django.po"
MO_FILE = LC_MESSAGES / "django.mo"

PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w+\}")


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0


def parse_po(path: Path) -> list[Entry]:
    """A minimal .po reader: msgctxt, msgid(_plural), msgstr / msgstr[n], flags (no obsolete)."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int] | None = None

    def start(lineno: int) -> Entry:
        new = Entry(line=lineno)
        entries.append(new)
        return new

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            entry, target = None, None
        elif line.startswith("#~"):
            continue
        elif line.startswith("#,"):
            entry = entry or start(lineno)
            entry.flags |= {f.strip() for f in line[2:].split(",") if f.strip()}
        elif line.startswith("#"):
            entry = entry or start(lineno)
        elif line.startswith('"'):
            assert entry is not None and target is not None, f"{path}:{lineno}: stray string"
            _append(entry, target, ast.literal_eval(line))
        else:
            keyword, _, value = line.partition(" ")
            entry = entry or start(lineno)
            if keyword == "msgid":
                target = ("msgid", 0)
            elif keyword == "msgid_plural":
                target = ("msgid_plural", 0)
            elif keyword == "msgstr":
                target = ("msgstr", 0)
            elif m := re.fullmatch(r"msgstr\[(\d+)\]", keyword):
                target = ("msgstr", int(m.group(1)))
            elif keyword == "msgctxt":
                target = ("msgctxt", 0)
            else:
                raise AssertionError(f"{path}:{lineno}: unexpected line {raw!r}")
            if target[0] == "msgctxt":
                entry.msgctxt = ""
            if target[0] == "msgid_plural":
                entry.msgid_plural = ""
            if target[0] == "msgstr":
                entry.msgstr.setdefault(target[1], "")
            _append(entry, target, ast.literal_eval(value))
    return entries


def _append(entry: Entry, target: tuple[str, int], text: str) -> None:
    kind, index = target
    if kind == "msgctxt":
        entry.msgctxt = (entry.msgctxt or "") + text
    elif kind == "msgid":
        entry.msgid += text
    elif kind == "msgid_plural":
        entry.msgid_plural = (entry.msgid_plural or "") + text
    elif kind == "msgstr":
        entry.msgstr[index] += text


@pytest.fixture(scope="module")
def catalogue() -> list[Entry]:
    assert PO_FILE.exists(), f"{PO_FILE} is missing (run `make messages`)"
    return parse_po(PO_FILE)


def _messages(catalogue: list[Entry]) -> list[Entry]:
    return [e for e in catalogue if e.msgid]


def test_catalogue_is_not_empty(catalogue: list[Entry]) -> None:
    assert len(_messages(catalogue)) > 100


def test_catalogue_has_no_untranslated_entries(catalogue: list[Entry]) -> None:
    untranslated = [
        f"line {e.line}: {e.msgid!r}"
        for e in _messages(catalogue)
        if not e.msgstr or any(not s.strip() for s in e.msgstr.values())
    ]
    assert not untranslated, "untranslated:\n" + "\n".join(untranslated)


def test_catalogue_has_no_fuzzy_entries(catalogue: list[Entry]) -> None:
    # The header too: msgfmt drops a fuzzy header, and with it the Plural-Forms line.
    fuzzy = [f"line {e.line}: {e.msgid!r}" for e in catalogue if "fuzzy" in e.flags]
    assert not fuzzy, "fuzzy:\n" + "\n".join(fuzzy)


def test_plural_entries_fill_both_english_forms(catalogue: list[Entry]) -> None:
    plurals = [e for e in _messages(catalogue) if e.msgid_plural is not None]
    assert plurals
    for e in plurals:
        assert sorted(e.msgstr) == [0, 1], f"line {e.line}: {e.msgid!r}"


def test_translations_keep_the_placeholders(catalogue: list[Entry]) -> None:
    for e in _messages(catalogue):
        expected = sorted(PLACEHOLDER.findall(e.msgid))
        for text in e.msgstr.values():
            assert sorted(PLACEHOLDER.findall(text)) == expected, f"line {e.line}: {e.msgid!r}"


def test_compiled_catalogue_matches_the_po_file(catalogue: list[Entry]) -> None:
    # The .mo is committed (a fresh machine may lack gettext); it must not lag the .po.
    assert MO_FILE.exists(), f"{MO_FILE} is missing (run `make messages`)"
    with MO_FILE.open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = []
    for e in _messages(catalogue):
        ctx = e.msgctxt
        if e.msgid_plural is None:
            got = [compiled.gettext(e.msgid) if ctx is None else compiled.pgettext(ctx, e.msgid)]
        elif ctx is None:
            got = [compiled.ngettext(e.msgid, e.msgid_plural, n) for n in (1, 2)]
        else:
            got = [compiled.npgettext(ctx, e.msgid, e.msgid_plural, n) for n in (1, 2)]
        want = [e.msgstr[i] for i in sorted(e.msgstr)]
        if got != want:
            stale.append(f"line {e.line}: {e.msgid!r}")
    assert not stale, "django.mo is out of date; run `make messages`:\n" + "\n".join(stale)


@pytest.mark.django_db
def test_login_page_is_indonesian_by_default(client: Client) -> None:
    body = client.get(reverse("accounts:login")).content.decode()

    assert '<html lang="id">' in body
    assert "Masuk ke Terpadu" in body
    assert "Log in to Terpadu" not in body


@pytest.mark.django_db
def test_login_page_is_english_after_switching_language(client: Client) -> None:
    login = reverse("accounts:login")
    response = client.post("/i18n/setlang/", {"language": "en", "next": login})
    assert response.status_code == 302

    body = client.get(login).content.decode()

    assert '<html lang="en">' in body
    assert "Log in to Terpadu" in body
    assert "Use your personal account." in body
    assert "Masuk ke Terpadu" not in body


def test_role_label_translates() -> None:
    with translation.override("en"):
        assert str(Role.OPERATOR_DESA.label) == "Village/ward (desa/kelurahan) operator"
    with translation.override("id"):
        assert str(Role.OPERATOR_DESA.label) == "Operator desa/kelurahan"
