from __future__ import annotations

import datetime as dt

import pytest

from terpadu.proposals.pdf import (
    _offline_fetcher,
    render_html,
    render_pdf,
    tanggal_indonesia,
    tanggal_terbilang,
    terbilang,
)


def test_tanggal_indonesia_uses_indonesian_month_names():
    assert tanggal_indonesia(dt.date(2026, 11, 23)) == "23 November 2026"
    assert tanggal_indonesia(dt.date(2026, 8, 1)) == "1 Agustus 2026"


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "nol"),
        (11, "sebelas"),
        (15, "lima belas"),
        (23, "dua puluh tiga"),
        (100, "seratus"),
        (1000, "seribu"),
        (1999, "seribu sembilan ratus sembilan puluh sembilan"),
        (2026, "dua ribu dua puluh enam"),
        (250_000, "dua ratus lima puluh ribu"),
        (3_000_001, "tiga juta satu"),
    ],
)
def test_terbilang(n, words):
    assert terbilang(n) == words


def test_tanggal_terbilang_spells_the_date_for_a_berita_acara():
    assert tanggal_terbilang(dt.date(2026, 11, 23)) == (
        "hari Senin tanggal dua puluh tiga bulan November tahun dua ribu dua puluh enam"
    )


def test_fetcher_refuses_the_network_and_the_file_system():
    fetcher = _offline_fetcher()
    for url in ("http://example.com/logo.png", "https://example.com/x.css", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="disallowed"):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain,ok").read() == b"ok"


@pytest.mark.django_db
def test_render_pdf_gives_an_a4_pdf():
    from weasyprint import HTML

    context = {
        "title": "BERITA ACARA MUSYAWARAH DESA",
        "attendees": [("Andi", "Kepala Desa")],
        "agreed": [],
        "rejected": [],
        "musdes": {"pk": 1},
    }
    pdf = render_pdf("proposals/pdf/berita_acara.html", context)
    assert pdf.startswith(b"%PDF")
    page = HTML(string=render_html("proposals/pdf/berita_acara.html", context)).render().pages[0]
    assert (round(page.width), round(page.height)) == (794, 1123)  # A4 in CSS px
