"""Dukcapil adapters: the file round trip (real CSV files), the deterministic test double,
and `apply_matches` (set-based: statements do not grow with the number of NIKs)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from terpadu.core.models import Notification
from terpadu.editions import dukcapil
from terpadu.editions.dukcapil import (
    DukcapilFileError,
    FileAdapter,
    MatchRow,
    TestDoubleAdapter,
    apply_matches,
    export_request,
    get_adapter,
    import_result,
)
from terpadu.editions.models import DukcapilBatch, DukcapilMatch, NikCorrectionTask
from terpadu.lib.nik import compose_nik, compose_no_kk
from terpadu.registry import records
from terpadu.registry.models import Change, Padan, Person

pytestmark = pytest.mark.django_db

_serial = itertools.count(1001)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def nik(last: int | None = None, region6: str = "137101") -> str:
    """A valid NIK; `last` forces the last digit (9 = tidak padan for the test double)."""
    while True:
        serial = next(_serial)
        if last is None and serial % 10 != 9:
            break
        if last is not None and serial % 10 == last:
            break
    return compose_nik(region6, dt.date(1985, 3, 4), 1, serial)


def make_persons(by: Any, region: Any, niks: list[str]) -> list[Person]:
    """One household per 20 persons through the registry's own write path."""
    out: list[Person] = []
    for start in range(0, len(niks), 20):
        members = [
            {
                "name": f"Warga {i}",
                "sex": 1,
                "birth_date": dt.date(1985, 3, 4),
                "relation_kk": 1 if i == start else 3,
                "nik": n,
            }
            for i, n in enumerate(niks[start : start + 20], start)
        ]
        hh = records.create_household(
            by=by,
            region=region,
            household_fields={"address": "Jl. Padan"},
            families=[
                {
                    "no_kk": compose_no_kk("137101", dt.date(2015, 6, 1), next(_serial)),
                    "members": members,
                }
            ],
            reason="Data uji padan",
        )
        out += list(hh.members.order_by("pk"))
    return out


def test_test_double_is_deterministic(cast):
    good, bad, broken = nik(), nik(last=9), "1371010000000001"
    adapter = TestDoubleAdapter(by=cast["pusat"])
    requests = [(good, None, "1371011001"), (bad, None, "1371011001"), (broken, None, "13")]
    first = list(adapter.results(adapter.request(requests)))
    second = list(adapter.results(adapter.request(requests)))
    assert [(r.nik, r.padan) for r in first] == [(good, True), (bad, False), (broken, False)]
    assert [(r.nik, r.padan) for r in second] == [(r.nik, r.padan) for r in first]
    assert TestDoubleAdapter.is_padan(good) and not TestDoubleAdapter.is_padan(bad)


def test_adapter_setting(cast, settings):
    assert isinstance(get_adapter(by=cast["pusat"]), FileAdapter)
    settings.TERPADU_DUKCAPIL_ADAPTER = "test-double"
    assert isinstance(get_adapter(by=cast["pusat"]), TestDoubleAdapter)


def test_file_round_trip(cast, regions):
    pusat = cast["pusat"]
    a, b, c = make_persons(cast["operator_desa"], regions["1371011001"], [nik(), nik(), nik()])
    batch = export_request(by=pusat)
    assert batch.state == DukcapilBatch.State.DIKIRIM and batch.nik_count == 3
    text = batch.request_file.open("rb").read().decode("utf-8")
    lines = text.splitlines()
    assert lines[0] == "NIK;ID_PERSON;KODE_WILAYAH"
    assert f"{a.nik};{a.pk};1371011001" in lines
    # Dukcapil's answer, as a real file: several spellings of the status, a BOM, a blank line.
    result = (
        "\ufeffNIK;STATUS_PADAN;KETERANGAN\r\n"
        f"{a.nik};PADAN;\r\n"
        f"{b.nik};tidak  padan;NIK tidak ditemukan\r\n"
        f"{c.nik};1;\r\n"
        "\r\n"
    ).encode()
    report = import_result(by=pusat, batch=batch, data=result, filename="hasil.csv")
    assert report.rows == 3 and report.missing == 0
    assert report.applied.padan == 2 and report.applied.tidak_padan == 1
    batch.refresh_from_db()
    assert batch.state == DukcapilBatch.State.DIIMPOR and batch.result_file
    padan = dict(Person.objects.filter(pk__in=[a.pk, b.pk, c.pk]).values_list("pk", "padan"))
    assert padan == {a.pk: Padan.PADAN, b.pk: Padan.TIDAK_PADAN, c.pk: Padan.PADAN}
    match = DukcapilMatch.objects.get(person=b)
    assert (match.padan, match.detail, match.region_code) == (
        False,
        "NIK tidak ditemukan",
        "1371011001",
    )
    task = NikCorrectionTask.objects.get()
    assert (task.person_id, task.region_code, task.state) == (b.pk, "1371011001", "terbuka")
    # History: one Change per person whose status changed.
    diffs = {c.entity_id: c.diff for c in Change.objects.filter(diff__has_key="padan")}
    assert diffs[b.pk] == {"padan": [Padan.BELUM, Padan.TIDAK_PADAN]}
    # Importing twice is refused.
    with pytest.raises(DukcapilFileError) as exc:
        import_result(by=pusat, batch=batch, data=result, filename="hasil.csv")
    assert exc.value.errors[0].code == "already_imported"


def test_bad_rows_refuse_the_whole_file(cast, regions):
    pusat = cast["pusat"]
    a, b = make_persons(cast["operator_desa"], regions["1371011001"], [nik(), nik()])
    batch = export_request(by=pusat)
    bad = (
        "NIK;STATUS_PADAN;KETERANGAN\n"
        f"{a.nik};PADAN;\n"  # fine, but must not be written
        "3.20101E+15;PADAN;\n"
        f"{b.nik};MUNGKIN;\n"
        "1371010101010101;PADAN;\n"
        f"{a.nik};TIDAK;\n"
        f"{b.nik};PADAN\n"
    ).encode()
    with pytest.raises(DukcapilFileError) as exc:
        import_result(by=pusat, batch=batch, data=bad, filename="hasil.csv")
    errors = {(e.row, e.column, e.code) for e in exc.value.errors}
    assert errors == {
        (3, "NIK", "nik_format"),
        (4, "STATUS_PADAN", "status"),
        (5, "NIK", "nik_not_requested"),
        (6, "NIK", "nik_repeated"),
        (7, "", "columns"),
    }
    status_error = next(e for e in exc.value.errors if e.code == "status")
    assert "Baris 4" in status_error.message_id and "MUNGKIN" in status_error.message_id
    assert "Row 4" in status_error.message_en
    assert not DukcapilMatch.objects.exists()
    assert set(Person.objects.values_list("padan", flat=True)) == {Padan.BELUM}
    batch.refresh_from_db()
    assert batch.state == DukcapilBatch.State.DIKIRIM and not batch.result_file


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"NIK,STATUS_PADAN,KETERANGAN\n", "header"),
        (b"\xff\xfeN\x00", "encoding"),
        (b"NIK;STATUS_PADAN;KETERANGAN\n", "empty"),
    ],
)
def test_file_level_errors(cast, regions, data, code):
    make_persons(cast["operator_desa"], regions["1371011001"], [nik()])
    batch = export_request(by=cast["pusat"])
    with pytest.raises(DukcapilFileError) as exc:
        import_result(by=cast["pusat"], batch=batch, data=data, filename="x.csv")
    assert exc.value.errors[0].code == code


def _apply(cast: Any, persons: list[Person]) -> list[str]:
    batch = DukcapilBatch.objects.create(
        source="test-double", state=DukcapilBatch.State.DIKIRIM, created_by=cast["pusat"]
    )
    rows = [
        MatchRow(p.nik, TestDoubleAdapter.is_padan(p.nik), "", p.pk, p.region_code) for p in persons
    ]
    with CaptureQueriesContext(connection) as ctx:
        apply_matches(batch, rows)
    return [q["sql"].split(" ", 1)[0] for q in ctx.captured_queries]


def test_apply_matches_is_set_based(cast, regions, make_user):
    make_user("admin_kabkota", "1371", username="admin_padang_2")
    desa = regions["1371011001"]
    small = make_persons(
        cast["operator_desa"], desa, [nik(last=9 if i % 3 else None) for i in range(10)]
    )
    large = make_persons(
        cast["operator_desa"], desa, [nik(last=9 if i % 3 else None) for i in range(200)]
    )
    q_small = _apply(cast, small)
    q_large = _apply(cast, large)
    # SQLite caps a statement at 999 parameters, so Django splits big INSERTs there; every
    # other statement, and on PostgreSQL every statement, is the same for 10 and 200 NIKs.
    assert [q for q in q_small if q != "INSERT"] == [q for q in q_large if q != "INSERT"]
    if connection.vendor != "sqlite":
        assert q_small == q_large
    assert len(q_small) <= 16
    bad = sum(1 for p in small + large if not TestDoubleAdapter.is_padan(p.nik))
    assert NikCorrectionTask.objects.count() == bad
    assert Person.objects.filter(padan=Padan.TIDAK_PADAN).count() == bad
    # One notification per kab/kota user per exchange (two admins + one verifikator).
    assert Notification.objects.filter(link="/penetapan/perbaikan-nik/").count() == 2 * 3


def test_padan_again_closes_the_task_and_no_duplicate_tasks(cast, regions):
    (p,) = make_persons(cast["operator_desa"], regions["1371011001"], [nik(last=9)])
    for padan in (False, False, True):
        batch = DukcapilBatch.objects.create(
            source="file", state=DukcapilBatch.State.DIKIRIM, created_by=cast["pusat"]
        )
        apply_matches(batch, [MatchRow(p.nik, padan, "", p.pk, p.region_code)])
    task = NikCorrectionTask.objects.get()
    assert task.state == NikCorrectionTask.State.SELESAI and task.closed_at
    p.refresh_from_db()
    assert p.padan == Padan.PADAN


def test_latest_match_wins(cast):
    n = nik()
    for padan in (False, True):
        batch = DukcapilBatch.objects.create(
            source="file", state=DukcapilBatch.State.DIKIRIM, created_by=cast["pusat"]
        )
        apply_matches(batch, [MatchRow(n, padan)])
    assert dukcapil.latest_matches([n, nik()]) == {n: True}
