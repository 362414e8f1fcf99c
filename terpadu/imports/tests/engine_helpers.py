"""Shared helpers of the engine tests: real files written with csv/openpyxl."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from terpadu.lib.nik import compose_nik, compose_no_kk

HEADERS = [
    "KODE_WILAYAH",
    "NO_URUT_RT",
    "NO_KK",
    "NIK",
    "NAMA",
    "JK",
    "TEMPAT_LAHIR",
    "TGL_LAHIR",
    "HUB_KELUARGA",
    "NAMA_IBU_KANDUNG",
    "ALAMAT",
    "PEKERJAAN",
]

DESA = "1371011001"
DESA2 = "1371011002"


def nik(
    serial: int, *, sex: int = 1, born: dt.date = dt.date(1980, 5, 17), region: str = "137101"
) -> str:
    return compose_nik(region, born, sex, serial)


def kk(serial: int, region: str = "137101") -> str:
    return compose_no_kk(region, dt.date(2015, 3, 10), serial)


def person(
    hh: int,
    member: int,
    *,
    region: str = DESA,
    head: bool | None = None,
    sex: int | None = None,
    **over: Any,
) -> dict[str, Any]:
    """One row: household `hh`, member `member` (member 1 is the head)."""
    is_head = member == 1 if head is None else head
    sex = sex if sex is not None else (1 if member == 1 else 2)
    born = dt.date(1980, 5, 17) if member == 1 else dt.date(1984, 2, 3 + member)
    row = {
        "KODE_WILAYAH": region,
        "NO_URUT_RT": str(hh),
        "NO_KK": kk(hh),
        "NIK": nik(hh * 10 + member, sex=sex, born=born),
        "NAMA": f"Warga {hh} {member}",
        "JK": str(sex),
        "TEMPAT_LAHIR": "Padang",
        "TGL_LAHIR": born.strftime("%d-%m-%Y"),
        "HUB_KELUARGA": "1" if is_head else "3",
        "NAMA_IBU_KANDUNG": f"Ibu {hh} {member}",
        "ALAMAT": f"Jl. Contoh {hh}",
        "PEKERJAAN": "Petani",
    }
    row.update(over)
    return row


def households(n: int, size: int = 3, *, start: int = 1, region: str = DESA) -> list[dict]:
    return [
        person(h, m, region=region) for h in range(start, start + n) for m in range(1, size + 1)
    ]


def write_csv(
    path: Path,
    rows: Sequence[dict[str, Any]],
    *,
    headers: Sequence[str] = HEADERS,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headers])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(
    path: Path,
    rows: Sequence[dict[str, Any]],
    *,
    headers: Sequence[str] = HEADERS,
) -> Path:
    """Cells as given: a str stays text, an int/float becomes an Excel number."""
    wb = Workbook()
    ws = wb.active
    ws.append(list(headers))
    for row in rows:
        ws.append([row.get(h) for h in headers])
    wb.save(path)
    return path


@pytest.fixture(autouse=True)
def _imports_env(settings, tmp_path):  # type: ignore[no-untyped-def]
    """Immediate background tasks; uploads in a temporary media dir. Import into a test
    module (``from .engine_helpers import _imports_env``) to use."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(user, region, path, *, mode="proposal", mapping=None):  # type: ignore[no-untyped-def]
    """create_job + save_mapping (the suggested mapping unless given)."""
    from terpadu.imports import services

    with open(path, "rb") as fh:
        job = services.create_job(
            by=user, fileobj=fh, original_name=path.name, region=region, mode=mode
        )
    if job.status == "duplicate":
        return job
    return services.save_mapping(job, mapping or job.mapping, by=user)


def validated(user, region, path, **kw):  # type: ignore[no-untyped-def]
    """Upload, map and run the dry run synchronously; returns the job."""
    from terpadu.imports import services

    job = upload(user, region, path, **kw)
    services.start_validation(job, by=user)
    return services.validate(job, batch_size=kw.get("batch_size", 4))


def applied(user, job, *, quarantine=False, batch_size=4):  # type: ignore[no-untyped-def]
    from terpadu.imports import services

    services.start_apply(job, by=user, quarantine=quarantine)
    return services.apply(job, batch_size=batch_size)


def rules(job) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    """{rule code: summary entry} of a validated job."""
    return {r["code"]: r for r in job.summary}


def rows_of(job, code: str) -> list[int]:  # type: ignore[no-untyped-def]
    return [r.row_no for r in job.issues.filter(rule=code).order_by("row_no")]
