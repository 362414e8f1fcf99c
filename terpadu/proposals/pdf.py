"""PDF letters (berita acara musdes, surat pengesahan) rendered with WeasyPrint.

Templates are ordinary Django templates under ``templates/proposals/pdf/``; they carry their
own CSS inline (A4 page box, DejaVu fonts from the system) so that rendering never needs the
network or the static files: the URL fetcher only accepts ``data:`` URIs, any other
reference (http, https, file) is refused and simply left out of the PDF.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.safestring import mark_safe

BULAN = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
HARI = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
_SATUAN = (
    "nol",
    "satu",
    "dua",
    "tiga",
    "empat",
    "lima",
    "enam",
    "tujuh",
    "delapan",
    "sembilan",
    "sepuluh",
    "sebelas",
)
# Letters are dated, so the template's own CSS fixes the page; callers may add more.
BASE_CSS = """
@page { size: A4; margin: 2cm 2cm 2.2cm 2.5cm;
        @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; } }
body { font-family: "DejaVu Serif", serif; font-size: 10.5pt; line-height: 1.4; color: #000; }
h1, h2, h3 { font-family: "DejaVu Sans", sans-serif; }
table { border-collapse: collapse; width: 100%; }
"""


def tanggal_indonesia(day: dt.date) -> str:
    """``23 November 2026`` (Indonesian month names, independent of the active locale)."""
    return f"{day.day} {BULAN[day.month - 1]} {day.year}"


def hari_indonesia(day: dt.date) -> str:
    """``Senin`` … ``Minggu``."""
    return HARI[day.weekday()]


def terbilang(n: int) -> str:
    """A non-negative integer in Indonesian words: 2026 → ``dua ribu dua puluh enam``."""
    if n < 0:
        raise ValueError("terbilang() takes non-negative numbers")
    if n < 12:
        return _SATUAN[n]
    if n < 20:
        return f"{_SATUAN[n - 10]} belas"
    if n < 100:
        tens, rest = divmod(n, 10)
        return f"{_SATUAN[tens]} puluh" + (f" {_SATUAN[rest]}" if rest else "")
    for size, word, one in (
        (10**9, "miliar", "satu miliar"),
        (10**6, "juta", "satu juta"),
        (1000, "ribu", "seribu"),
        (100, "ratus", "seratus"),
    ):
        if n >= size:
            head, rest = divmod(n, size)
            words = one if head == 1 else f"{terbilang(head)} {word}"
            return words + (f" {terbilang(rest)}" if rest else "")
    raise AssertionError("unreachable")  # pragma: no cover


def tanggal_terbilang(day: dt.date) -> str:
    """The date as written in a berita acara: ``hari Senin tanggal dua puluh tiga bulan
    November tahun dua ribu dua puluh enam``."""
    return (
        f"hari {hari_indonesia(day)} tanggal {terbilang(day.day)} bulan "
        f"{BULAN[day.month - 1]} tahun {terbilang(day.year)}"
    )


def render_html(template_name: str, context: dict[str, Any]) -> str:
    """The letter as HTML, in Indonesian whatever the user's language (it is an official
    document); tests read this to check what the PDF contains."""
    with translation.override("id"):
        return render_to_string(
            template_name,
            {"base_css": mark_safe(BASE_CSS), **context},  # noqa: S308 (our own constant),
        )


def _offline_fetcher() -> Any:
    from weasyprint.urls import URLFetcher

    # Only inline data: URIs; never the network, never the local file system.
    return URLFetcher(allowed_protocols=("data",))


def render_pdf(template_name: str, context: dict[str, Any]) -> bytes:
    """Render `template_name` with `context` to an A4 PDF (bytes starting with ``%PDF``)."""
    # Imported here: WeasyPrint loads Pango/fontconfig, which only PDF requests should pay.
    from weasyprint import HTML

    html = render_html(template_name, context)
    document = HTML(string=html, url_fetcher=_offline_fetcher())
    return document.write_pdf()
