"""Edition pages: list, detail, decree download, determination form, exports and diffs.

Fixtures write editions directly (rows, not moves) except where determination itself is
under test; registry rows come from the registry's own write API.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from terpadu.accounts.models import AccessLog
from terpadu.editions.models import Edition
from terpadu.editions.tests import test_asof as asof_fixtures
from terpadu.proposals.tests import conftest as proposal_fixtures
from terpadu.registry.tests import conftest as registry_fixtures

# Shared fixtures from the registry, proposals and as-of tests.
make_household = registry_fixtures.make_household
make_proposal = proposal_fixtures.make_proposal
two_editions = asof_fixtures.two_editions

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
COUNTS = {
    "added": 3,
    "deactivated": {"meninggal": 2, "pindah": 1},
    "corrected": {"name": 4, "birth_date": 1},
    "moved": 1,
}


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def make_edition(cast: dict[str, Any]):  # type: ignore[no-untyped-def]
    def make(period: str, **fields: Any) -> Edition:
        defaults: dict[str, Any] = {
            "decree_number": f"{period[5:]}/HUK/{period[:4]}",
            "decree_date": dt.date(int(period[:4]), int(period[5:]), 1),
            "signatory": "Menteri Sosial",
            "decree_pdf": SimpleUploadedFile("k.pdf", PDF, content_type="application/pdf"),
            "determined_by": cast["pusat"],
            "counts": COUNTS,
        }
        defaults.update(fields)
        return Edition.objects.create(period=period, **defaults)

    return make


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- list -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role", ["pusat", "admin_kabkota", "verifikator_kabkota", "admin_provinsi"]
)
def test_list_renders_for_reading_roles(cast: dict[str, Any], make_edition: Any, role: str) -> None:
    make_edition("2026-03")
    response = _client(cast[role]).get(reverse("editions:list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "DTKS penetapan Maret 2026" in body
    assert "03/HUK/2026" in body


@pytest.mark.django_db
def test_list_shows_national_counts_only_to_national_users(
    cast: dict[str, Any], make_edition: Any
) -> None:
    make_edition("2026-03")
    pusat = _client(cast["pusat"]).get(reverse("editions:list")).content.decode()
    kab = _client(cast["admin_kabkota"]).get(reverse("editions:list")).content.decode()
    assert "Ringkasan perubahan" in pusat
    assert "Dinonaktifkan: 3" in pusat
    assert "Dinonaktifkan: 3" not in kab


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["operator_desa", "operator_kecamatan", "enumerator"])
def test_list_refused_for_desa_and_kecamatan_roles(cast: dict[str, Any], role: str) -> None:
    assert _client(cast[role]).get(reverse("editions:list")).status_code == 403


@pytest.mark.django_db
def test_list_query_count_is_constant(cast: dict[str, Any], make_edition: Any) -> None:
    client = _client(cast["pusat"])
    make_edition("2026-01")
    client.get(reverse("editions:list"))  # warm caches (session, content types)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("editions:list"))
    for month in range(2, 12):
        make_edition(f"2026-{month:02d}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("editions:list"))
    assert response.content.decode().count("DTKS penetapan") >= 11
    assert len(many) == len(one)


# --- decree ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_decree_pdf_download_is_logged(cast: dict[str, Any], make_edition: Any) -> None:
    make_edition("2026-03")
    response = _client(cast["admin_kabkota"]).get(reverse("editions:decree_pdf", args=["2026-03"]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    log = AccessLog.objects.get(action="download_decree")
    assert log.user == cast["admin_kabkota"] and log.entity_id == "2026-03"


@pytest.mark.django_db
def test_unknown_edition_is_404(cast: dict[str, Any]) -> None:
    client = _client(cast["pusat"])
    assert client.get(reverse("editions:detail", args=["2026-04"])).status_code == 404
    assert client.get("/penetapan/2026-13/").status_code == 404


# --- determination form ---------------------------------------------------------------------


def _determine_data(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "period": "2026-03",
        "decree_number": "12/HUK/2026",
        "decree_date": "2026-04-02",
        "signatory": "Menteri Sosial",
        "decree_pdf": SimpleUploadedFile("kepmensos.pdf", PDF, content_type="application/pdf"),
        "confirm": "on",
    }
    data.update(over)
    return data


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["admin_kabkota", "admin_provinsi", "auditor"])
def test_determine_only_for_pusat(cast: dict[str, Any], role: str) -> None:
    client = _client(cast[role])
    assert client.get(reverse("editions:determine")).status_code == 403
    assert client.post(reverse("editions:determine"), _determine_data()).status_code == 403
    assert not Edition.objects.exists()


@pytest.mark.django_db
def test_determine_form_shows_accepted_counts_per_kind(
    cast: dict[str, Any], make_proposal: Any
) -> None:
    make_proposal("perbaikan", "diterima_pusat")
    make_proposal("perbaikan", "diterima_pusat")
    make_proposal("nonaktif", "diterima_pusat")
    make_proposal("nonaktif", "proses_pusat")
    response = _client(cast["pusat"]).get(reverse("editions:determine"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="accepted-total">3<' in body
    assert "Perbaikan data" in body and "Penonaktifan" in body


@pytest.mark.django_db
def test_determine_refuses_a_non_pdf(cast: dict[str, Any]) -> None:
    fake = SimpleUploadedFile("kepmensos.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")
    response = _client(cast["pusat"]).post(
        reverse("editions:determine"), _determine_data(decree_pdf=fake)
    )
    assert response.status_code == 422
    assert "Berkas keputusan harus PDF." in response.content.decode()
    assert not Edition.objects.exists()


@pytest.mark.django_db
def test_determine_needs_confirmation_and_valid_period(cast: dict[str, Any]) -> None:
    data = _determine_data(period="2026-13")
    del data["confirm"]
    response = _client(cast["pusat"]).post(reverse("editions:determine"), data)
    assert response.status_code == 422
    body = response.content.decode()
    assert "TTTT-BB" in body
    assert not Edition.objects.exists()


@pytest.mark.django_db
def test_determine_refuses_an_oversized_pdf(cast: dict[str, Any], monkeypatch: Any) -> None:
    monkeypatch.setattr("terpadu.editions.forms.MAX_DECREE_BYTES", 10)
    response = _client(cast["pusat"]).post(reverse("editions:determine"), _determine_data())
    assert response.status_code == 422
    assert "maksimal 20 MB" in response.content.decode()


# --- pages over real editions (two determinations, see test_asof.two_editions) --------------


@pytest.fixture
def world(two_editions: dict[str, Any], make_household: Any) -> dict[str, Any]:
    """The two editions in Kota Padang, plus a household in Kota Solok (another kab/kota)."""
    two_editions["solok"] = make_household(2, desa="1372011001", surname="Solok")
    return two_editions


def _xlsx(response: Any) -> Any:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(b"".join(response.streaming_content)))


def _sheet_rows(ws: Any) -> list[dict[str, Any]]:
    """Data rows under the header line (the line starting with the first column's header)."""
    rows = list(ws.iter_rows())
    start = next(
        i for i, r in enumerate(rows) if r[0].value in ("Kode wilayah", "Kode wilayah asal")
    )
    header = [c.value for c in rows[start]]
    return [dict(zip(header, r, strict=False)) for r in rows[start + 1 :]]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["pusat", "admin_kabkota", "admin_provinsi", "auditor"])
def test_detail_renders_for_reading_roles(cast: dict[str, Any], world: Any, role: str) -> None:
    response = _client(cast[role]).get(reverse("editions:detail", args=["2026-04"]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "DTKS penetapan April 2026" in body
    assert "2026-04/HUK" in body
    assert reverse("editions:decree_pdf", args=["2026-04"]) in body


@pytest.mark.django_db
def test_detail_drilldown_is_scoped(cast: dict[str, Any], world: Any) -> None:
    pusat = _client(cast["pusat"]).get(reverse("editions:detail", args=["2026-04"]))
    rows = {r["code"]: r for r in pusat.context["drilldown"]["rows"]}
    assert set(rows) == {"1371", "1372"}
    assert rows["1372"]["active"] == 2
    kab = _client(cast["admin_kabkota"]).get(reverse("editions:detail", args=["2026-04"]))
    rows = {r["code"]: r for r in kab.context["drilldown"]["rows"]}
    # Kota Padang's own kecamatan; nothing of Kota Solok.
    assert set(rows) == {"137101", "137102"}
    assert rows["137102"]["active"] == 2  # the household added in April
    assert "Solok" not in kab.content.decode().replace("Kota Solok", "")


@pytest.mark.django_db
def test_detail_outside_scope_is_404_and_wider_reads_as_own(
    cast: dict[str, Any], world: Any
) -> None:
    client = _client(cast["admin_kabkota"])
    url = reverse("editions:detail", args=["2026-04"])
    assert client.get(url, {"wilayah": "1372"}).status_code == 404
    assert client.get(url, {"wilayah": "abc"}).status_code == 404
    assert client.get(url, {"wilayah": "13"}).context["prefix"] == "1371"


@pytest.mark.django_db
def test_detail_counts_for_a_kab_are_its_own(cast: dict[str, Any], world: Any) -> None:
    kab = _client(cast["admin_kabkota"]).get(reverse("editions:detail", args=["2026-04"]))
    summary = {row["key"]: row["total"] for row in kab.context["summary"]}
    assert summary == {"added": 2, "deactivated": 0, "reactivated": 1, "corrected": 2, "moved": 2}
    outsider = _client(cast["outsider_kab"]).get(reverse("editions:detail", args=["2026-04"]))
    totals = {row["key"]: row["total"] for row in outsider.context["summary"]}
    assert not any(totals.values())


@pytest.mark.django_db
def test_detail_national_uses_stored_counts(cast: dict[str, Any], world: Any) -> None:
    response = _client(cast["pusat"]).get(reverse("editions:detail", args=["2026-03"]))
    summary = {row["key"]: row for row in response.context["summary"]}
    assert summary["deactivated"]["breakdown"] == [("Pindah", 1)]
    assert "versions" not in summary


# --- as-of export ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_asks_purpose_first(cast: dict[str, Any], world: Any) -> None:
    client = _client(cast["admin_kabkota"])
    url = reverse("editions:export_xlsx", args=["2026-03"])
    form = client.get(url)
    assert form.status_code == 200
    assert "Tujuan ekspor" in form.content.decode()
    refused = client.post(url, {"purpose": ""})
    assert refused.status_code == 422
    assert not AccessLog.objects.filter(action="export_edition").exists()


@pytest.mark.django_db
def test_export_xlsx_as_of_edition_with_text_nik(cast: dict[str, Any], world: Any) -> None:
    client = _client(cast["admin_kabkota"])
    url = reverse("editions:export_xlsx", args=["2026-03"])
    wb = _xlsx(client.post(url, {"purpose": "Penyaluran BPNT tahap 2"}))
    ws = wb.worksheets[0]
    assert ws["A1"].value == "DTKS penetapan Maret 2026"
    rows = _sheet_rows(ws)
    names = {r["Nama"].value for r in rows}
    # As of March: the March correction, not April's; B (nonaktif in March) left out; no
    # household added in April; nothing from Kota Solok.
    assert "Budi Koto Sutan" in names and "Budi Koto Sutan Mudo" not in names
    assert world["b"].name not in names
    assert not any("Solok" in n or "Jambak" in n for n in names)
    a = next(r for r in rows if r["Nama"].value == "Budi Koto Sutan")
    nik = a["NIK"]
    assert isinstance(nik.value, str) and nik.value == world["a"].nik
    assert nik.number_format == "@"
    assert a["No KK"].number_format == "@" and len(a["No KK"].value) == 16
    assert a["Kode wilayah"].value == "1371011001"
    assert a["Desa/kelurahan"].value == "Bungus Barat"
    assert a["Alamat"].value == "Jl. Uji 1"
    assert a["Penetapan"].value == "2026-03"
    log = AccessLog.objects.get(action="export_edition")
    assert log.purpose == "Penyaluran BPNT tahap 2"
    assert log.region_code == "1371" and log.user == cast["admin_kabkota"]


@pytest.mark.django_db
def test_export_includes_inactive_on_request(cast: dict[str, Any], world: Any) -> None:
    client = _client(cast["admin_kabkota"])
    url = reverse("editions:export_xlsx", args=["2026-03"])
    wb = _xlsx(client.post(url, {"purpose": "Rekonsiliasi", "include_inactive": "on"}))
    b = next(r for r in _sheet_rows(wb.worksheets[0]) if r["Nama"].value == world["b"].name)
    assert b["Status"].value == "Nonaktif" and b["Alasan nonaktif"].value == "Pindah"


@pytest.mark.django_db
def test_export_masks_nik_without_export_right(cast: dict[str, Any], world: Any) -> None:
    client = _client(cast["admin_provinsi"])
    wb = _xlsx(
        client.post(reverse("editions:export_xlsx", args=["2026-04"]), {"purpose": "Evaluasi"})
    )
    rows = _sheet_rows(wb.worksheets[0])
    assert {r["Kode wilayah"].value[:4] for r in rows} == {"1371", "1372"}
    for row in rows:
        assert "*" in row["NIK"].value and row["NIK"].number_format == "@"
    assert "NIK disamarkan" in AccessLog.objects.get(action="export_edition").entity_id


@pytest.mark.django_db
def test_export_csv_streams_with_bom(cast: dict[str, Any], world: Any) -> None:
    client = _client(cast["verifikator_kabkota"])
    response = client.post(
        reverse("editions:export_csv", args=["2026-04"]) + "?wilayah=137102",
        {"purpose": "Verifikasi lapangan"},
    )
    assert response.status_code == 200
    assert response.streaming
    data = b"".join(response.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Kode wilayah,Desa/kelurahan,Alamat,RT,RW,No KK,NIK,Nama")
    assert len(lines) == 3  # the two persons added in April in Lubuk Kilangan
    assert all(line.startswith("1371021001,Bandar Buat") for line in lines[1:])
    assert AccessLog.objects.get(action="export_edition").region_code == "137102"


@pytest.mark.django_db
def test_export_outside_scope_is_404(cast: dict[str, Any], world: Any) -> None:
    client = _client(cast["admin_kabkota"])
    url = reverse("editions:export_csv", args=["2026-04"]) + "?wilayah=1372"
    assert client.post(url, {"purpose": "Coba"}).status_code == 404
    assert not AccessLog.objects.filter(action="export_edition").exists()


# --- diff -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_diff_page_defaults_to_the_last_two_editions(cast: dict[str, Any], world: Any) -> None:
    response = _client(cast["pusat"]).get(reverse("editions:diff"))
    assert response.status_code == 200
    assert (response.context["a"], response.context["b"]) == ("2026-03", "2026-04")
    sections = {s["key"]: s for s in response.context["sections"]}
    assert sections["added"]["total"] == 2 and len(sections["added"]["rows"]) == 2
    assert sections["moved"]["total"] == 2
    assert sections["corrected"]["total"] == 2
    body = response.content.decode()
    assert world["a"].nik not in body  # pages mask NIK for everyone


@pytest.mark.django_db
def test_diff_page_scoped_and_validated(cast: dict[str, Any], world: Any) -> None:
    client = _client(cast["outsider_kab"])
    response = client.get(reverse("editions:diff"), {"a": "2026-03", "b": "2026-04"})
    assert all(s["total"] == 0 for s in response.context["sections"])
    assert client.get(reverse("editions:diff"), {"wilayah": "1371"}).status_code == 404
    same = client.get(reverse("editions:diff"), {"a": "2026-03", "b": "2026-03"})
    assert same.status_code == 200 and "sections" not in same.context


@pytest.mark.django_db
def test_diff_xlsx_has_one_sheet_per_category(cast: dict[str, Any], world: Any) -> None:
    client = _client(cast["admin_kabkota"])
    url = reverse("editions:diff_export") + "?a=2026-04&b=2026-03"  # order does not matter
    assert client.get(url).status_code == 200  # the purpose form
    wb = _xlsx(client.post(url, {"purpose": "Rekonsiliasi bulanan"}))
    assert wb.sheetnames == ["Baru", "Nonaktif", "Aktif kembali", "Perbaikan", "Pindah wilayah"]
    counts = {name: len(_sheet_rows(wb[name])) for name in wb.sheetnames}
    # March → April: two added, B back, A renamed and given a birth place (one line per
    # changed field), household 2 moved (2 persons).
    assert counts == {
        "Baru": 2,
        "Nonaktif": 0,
        "Aktif kembali": 1,
        "Perbaikan": 2,
        "Pindah wilayah": 2,
    }
    fix = _sheet_rows(wb["Perbaikan"])
    assert {r["Kolom"].value for r in fix} == {"nama", "tempat lahir"}
    assert fix[0]["NIK"].value == world["a"].nik and fix[0]["NIK"].number_format == "@"
    moved = _sheet_rows(wb["Pindah wilayah"])
    assert {r["Kode wilayah asal"].value for r in moved} == {"1371011001"}
    assert {r["Kode wilayah"].value for r in moved} == {"1371011002"}
    log = AccessLog.objects.get(action="export_edition")
    assert log.entity == "edition_diff" and log.purpose == "Rekonsiliasi bulanan"


@pytest.mark.django_db
def test_diff_xlsx_masks_for_province(cast: dict[str, Any], world: Any) -> None:
    client = _client(cast["admin_provinsi"])
    url = reverse("editions:diff_export") + "?a=2026-03&b=2026-04"
    wb = _xlsx(client.post(url, {"purpose": "Evaluasi provinsi"}))
    added = _sheet_rows(wb["Baru"])
    assert added and all("*" in r["NIK"].value for r in added)


# --- determination through the page ---------------------------------------------------------


@pytest.mark.django_db
def test_determine_page_creates_the_edition(
    cast: dict[str, Any], make_household: Any, make_proposal: Any
) -> None:
    household = make_household(2)
    person = household.members.order_by("member_no").first()
    make_proposal(
        "nonaktif",
        "diterima_pusat",
        period="2026-03",
        reason_code="meninggal",
        target_type="person",
        person=person,
        household_id=person.household_id,
        family_id=person.family_id,
    )
    client = _client(cast["pusat"])
    response = client.post(reverse("editions:determine"), _determine_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("editions:detail", args=["2026-03"])
    edition = Edition.objects.get(period="2026-03")
    assert edition.decree_number == "12/HUK/2026" and edition.determined_by == cast["pusat"]
    person.refresh_from_db()
    assert person.status == "nonaktif"
    # Determined editions are read-only: determining the same month again is refused politely.
    again = client.post(reverse("editions:determine"), _determine_data())
    assert again.status_code == 422
    assert "sudah ditetapkan" in again.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "shown"),
    [
        ("pusat", True),
        ("admin_kabkota", True),
        ("operator_provinsi", True),
        ("operator_desa", False),
    ],
)
def test_nav_links_penetapan_for_reading_roles(
    cast: dict[str, Any], role: str, shown: bool
) -> None:
    body = _client(cast[role]).get(reverse("core:home")).content.decode()
    assert (f'href="{reverse("editions:list")}"' in body) is shown


@pytest.mark.django_db
def test_detail_query_count_does_not_grow_with_regions(
    cast: dict[str, Any], world: Any, make_household: Any
) -> None:
    client = _client(cast["pusat"])
    url = reverse("editions:detail", args=["2026-04"])
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    make_household(3, desa="1371021001")
    make_household(2, desa="1372011001")
    with CaptureQueriesContext(connection) as after:
        response = client.get(url)
    assert response.context["drilldown"]["active"] == 9 + 5
    assert len(after) == len(before)


def test_up_link_stops_at_the_users_scope() -> None:
    from terpadu.editions.views.editions import _up_link

    assert _up_link("1371", "") == "13"
    assert _up_link("13", "") == "-"
    assert _up_link("", "") == ""
    assert _up_link("137101", "1371") == "1371"
    assert _up_link("1371011001", "1371") == "137101"
    assert _up_link("1371", "1371") == ""


@pytest.mark.django_db
def test_diff_page_with_one_edition_explains(cast: dict[str, Any], make_edition: Any) -> None:
    make_edition("2026-03")
    response = _client(cast["pusat"]).get(reverse("editions:diff"))
    assert response.status_code == 200
    assert "sedikitnya dua edisi" in response.content.decode()
    assert _client(cast["pusat"]).get(reverse("editions:diff_export")).status_code == 404
