"""Building blocks of the proposal journeys: switching users, files to upload, downloads."""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from terpadu.browser_tests.helpers import log_in

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

PASSWORD = "rahasia-uji-123"  # noqa: S105 (make_user's default test password)


def switch_user(page: Page, username: str) -> None:
    """Sign out whoever is signed in (fresh cookies) and sign in through the login form."""
    page.context.clear_cookies()
    log_in(page, username, PASSWORD)


def tiny_png(path: Path) -> Path:
    """A real 2×2 RGB PNG (signature, IHDR, IDAT, IEND with valid CRCs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x0b\x5d\x4b" * 2 for _ in range(2))  # filter byte + 2 pixels
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    path.write_bytes(png)
    return path


def tiny_pdf(path: Path, text: str = "Ditandatangani") -> Path:
    """A minimal well-formed one-page PDF (with a correct xref table)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    path.write_bytes(bytes(out))
    return path


def download_pdf(page: Page, trigger: Locator, folder: Path) -> tuple[str, bytes]:
    """Click `trigger`, wait for the download it starts, and return (filename, bytes); the
    bytes must be a PDF."""
    with page.expect_download() as info:
        trigger.click()
    download = info.value
    target = folder / download.suggested_filename
    download.save_as(target)
    data = target.read_bytes()
    assert data.startswith(b"%PDF-"), f"{download.suggested_filename} is not a PDF"
    return download.suggested_filename, data


def proposal_id_from(page: Page) -> int:
    """The id in the current URL of a proposal page (/usulan/<id>/)."""
    match = re.search(r"/usulan/(\d+)/", page.url)
    assert match, page.url
    return int(match.group(1))
