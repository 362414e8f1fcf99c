"""Exports of the registry search, BNBA and proposals: real files read back, scope, masking,
access log, streaming, and the `export` command."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from python_calamine import CalamineWorkbook

from terpadu.accounts.models import AccessLog
from terpadu.imports import exports, layout
from terpadu.imports.tests.ui_helpers import body, read_xlsx, seed_households
from terpadu.lib.nik import mask_nik
from terpadu.proposals import creation
from terpadu.registry.models import NonaktifReason, Person, RecordStatus

pytestmark = pytest.mark.django_db

HEADERS = [layout.column(k).header for k in layout.PERSON_LIST_LAYOUT]


@pytest.fixture
def data(regions, cast):  # type: ignore[no-untyped-def]
    """Two households in Bungus Barat (desa of operator_desa), one in Bandar Buat (same city,
    other kecamatan), one in Solok (other city)."""
    return {
        "desa": seed_households(regions["1371011001"], 2, surname="Chaniago", start=1),
        "kec": seed_households(regions["1371021001"], 1, surname="Chaniago", start=3),
        "solok": seed_households(regions["1372011001"], 1, surname="Chaniago", start=4),
    }


def _export(client, user, name, fmt, **params):  # type: ignore[no-untyped-def]
    client.force_login(user)
    url = reverse(f"imports:export_{name}", args=[fmt] if name != "bnba" else [])
    return client.get(url, params)


def _csv_rows(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM so Excel reads accents right"
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_search_xlsx_has_import_layout_and_nik_as_text_cells(client, cast, data) -> None:
    resp = _export(client, cast["verifikator_kabkota"], "persons", "xlsx", q="chaniago")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "nik-disamarkan" not in resp["Content-Disposition"]
    ws, rows = read_xlsx(body(resp))
    assert [c.value for c in rows[0]] == HEADERS
    assert ws.title == "Individu"
    nik_col = HEADERS.index("NIK")
    kk_col = HEADERS.index("NO_KK")
    region_col = HEADERS.index("KODE_WILAYAH")
    niks = {r[nik_col].value for r in rows[1:]}
    # Kota Padang only (3 households x 2 persons), full NIKs for a role with EXPORT_NIK.
    assert len(rows) - 1 == 6
    assert set(data["desa"]) | set(data["kec"]) <= niks
    assert data["solok"][0] not in niks
    for row in rows[1:]:
        for col in (nik_col, kk_col, region_col):
            cell = row[col]
            assert cell.data_type == "s"
            assert cell.number_format == "@"
            assert isinstance(cell.value, str)
            assert len(cell.value) in (10, 16)


def test_search_export_is_masked_without_export_nik_and_says_so(client, cast, data) -> None:
    resp = _export(client, cast["operator_desa"], "persons", "xlsx", q="chaniago")
    assert "nik-disamarkan" in resp["Content-Disposition"]
    ws, rows = read_xlsx(body(resp))
    assert "disamarkan" in ws.title
    nik_col = HEADERS.index("NIK")
    niks = [r[nik_col].value for r in rows[1:]]
    # Only the operator's own desa, and masked.
    assert len(niks) == 4
    assert mask_nik(data["desa"][0]) in niks
    assert all("*" in n for n in niks)
    log = AccessLog.objects.get(user=cast["operator_desa"], action="export")
    assert log.entity == "persons"
    assert "disamarkan" in log.entity_id
    assert "q=chaniago" in log.purpose
    assert log.region_code == "1371011001"


def test_search_csv_is_utf8_bom_comma_separated(client, cast, data) -> None:
    resp = _export(client, cast["admin_kabkota"], "persons", "csv", q="chaniago", wilayah="137101")
    assert resp.streaming
    assert resp["Content-Type"].startswith("text/csv")
    rows = _csv_rows(body(resp))
    assert rows[0] == HEADERS
    assert {r[HEADERS.index("NIK")] for r in rows[1:]} >= set(data["desa"])
    assert len(rows) - 1 == 4  # the wilayah filter of the page (kecamatan 137101)
    ids = {int(r[HEADERS.index("ID_ART")]) for r in rows[1:]}
    assert ids == set(
        Person.objects.filter(region_code__startswith="137101").values_list("pk", flat=True)
    )
    assert all(r[HEADERS.index("VERSI")].isdigit() for r in rows[1:])


def test_search_export_refuses_a_region_outside_scope(client, cast, data) -> None:
    resp = _export(client, cast["operator_desa"], "persons", "csv", wilayah="1372011001")
    assert resp.status_code == 404
    assert not AccessLog.objects.filter(action="export").exists()


def test_unknown_format_is_404(client, cast) -> None:
    resp = _export(client, cast["admin_kabkota"], "persons", "pdf", q="x")
    assert resp.status_code == 404


def test_enumerator_may_not_export_the_registry(client, cast, data) -> None:
    assert _export(client, cast["enumerator"], "persons", "csv", q="budi").status_code == 403


def test_bnba_lists_active_persons_of_the_chosen_region(client, cast, data, regions) -> None:
    person = Person.objects.get(nik=data["desa"][1])
    Person.objects.filter(pk=person.pk).update(
        status=RecordStatus.NONAKTIF, nonaktif_reason=NonaktifReason.PINDAH
    )
    resp = _export(client, cast["admin_kabkota"], "bnba", "", wilayah="1371011001", format="csv")
    assert resp.status_code == 200
    assert 'filename="bnba-1371011001-' in resp["Content-Disposition"]
    rows = _csv_rows(body(resp))
    niks = [r[HEADERS.index("NIK")] for r in rows[1:]]
    assert len(niks) == 3
    assert data["desa"][0] in niks
    assert data["desa"][1] not in niks  # nonaktif
    # Household by household: members of one household are adjacent, head first.
    households = [r[HEADERS.index("ID_RUMAH_TANGGA")] for r in rows[1:]]
    assert households == sorted(households, key=int)


def test_bnba_page_offers_a_region_picker_and_refuses_outside(client, cast, data) -> None:
    client.force_login(cast["operator_kecamatan"])
    page = client.get(reverse("imports:export_bnba"))
    assert page.status_code == 200
    assert b"region-picker" in page.content
    resp = client.get(reverse("imports:export_bnba"), {"wilayah": "1372011001", "format": "xlsx"})
    assert resp.status_code == 422


def test_bnba_without_region_covers_the_whole_scope(client, cast, data) -> None:
    resp = _export(client, cast["operator_kecamatan"], "bnba", "", format="xlsx")
    _, rows = read_xlsx(body(resp))
    assert len(rows) - 1 == 4  # kecamatan 137101 = Bungus Barat's two households


def _proposal(cast, nik):  # type: ignore[no-untyped-def]
    person = Person.objects.get(nik=nik)
    return creation.propose_deactivation(
        by=cast["operator_desa"],
        target=person,
        reason_code=NonaktifReason.TIDAK_DITEMUKAN,
        reason="Tidak ditemukan saat verivali",
    )


def test_proposals_export_follows_the_list_filters(client, cast, data) -> None:
    proposal = _proposal(cast, data["desa"][0])
    resp = _export(client, cast["verifikator_kabkota"], "proposals", "xlsx", kind="nonaktif")
    _ws, rows = read_xlsx(body(resp))
    headers = [c.value for c in rows[0]]
    assert headers == [c.header for c in exports.PROPOSAL_COLUMNS]
    assert len(rows) == 2
    line = {h: c.value for h, c in zip(headers, rows[1], strict=True)}
    assert line["ID_USULAN"] == proposal.pk
    assert line["KODE_WILAYAH"] == "1371011001"
    assert line["NIK_SASARAN"] == data["desa"][0]
    assert rows[1][headers.index("NIK_SASARAN")].number_format == "@"
    assert line["AKSI_TERAKHIR"]  # the creation event
    empty = _export(client, cast["verifikator_kabkota"], "proposals", "csv", kind="baru")
    assert len(_csv_rows(body(empty))) == 1  # header only


def test_proposals_export_is_scoped_and_masked(client, cast, data) -> None:
    _proposal(cast, data["desa"][0])
    rows = _csv_rows(body(_export(client, cast["operator_desa"], "proposals", "csv")))
    assert len(rows) == 2
    assert rows[1][rows[0].index("NIK_SASARAN")] == mask_nik(data["desa"][0])
    outsider = _csv_rows(body(_export(client, cast["outsider_desa"], "proposals", "csv")))
    assert len(outsider) == 1


def test_export_buttons_carry_the_current_query(client, cast, data) -> None:
    client.force_login(cast["operator_desa"])
    page = client.get(reverse("registry:search"), {"q": "chaniago", "hal": "1"})
    html = page.content.decode()
    assert reverse("imports:export_persons", args=["xlsx"]) + "?q=chaniago" in html
    assert "hal=1" not in html.split('data-testid="export-buttons"')[1].split("</p>")[0]
    _proposal(cast, data["desa"][0])
    page = client.get(reverse("proposals:list"), {"kind": "nonaktif"})
    assert (
        reverse("imports:export_proposals", args=["csv"]) + "?kind=nonaktif"
        in page.content.decode()
    )


def test_large_export_streams_in_chunks_with_constant_queries(
    client, cast, regions, django_assert_max_num_queries
) -> None:
    seed_households(regions["1371011001"], 1500, surname="Koto")  # 3000 persons
    client.force_login(cast["admin_kabkota"])
    url = reverse("imports:export_bnba")
    # Rows in chunks of 2000 + one version lookup (4 queries) per chunk: not one per row.
    with django_assert_max_num_queries(20):
        resp = client.get(url, {"format": "csv"})
        chunks = list(resp.streaming_content)
    assert len(chunks) > 3  # flushed every 64 KiB, not built in memory
    rows = _csv_rows(b"".join(chunks))
    assert len(rows) == 3001
    resp = client.get(url, {"format": "xlsx"})
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(body(resp))).get_sheet_by_index(0)
    data = sheet.to_python()
    assert len(data) == 3001
    assert all(isinstance(r[HEADERS.index("NIK")], str) for r in data[1:])


# --- the command --------------------------------------------------------------------------


def test_command_writes_the_same_export(tmp_path, cast, data) -> None:
    out = tmp_path / "bnba.csv"
    call_command("export", "bnba", "--region", "13.71", "--format", "csv", "--out", str(out))
    rows = _csv_rows(out.read_bytes())
    assert rows[0] == HEADERS
    assert len(rows) - 1 == 6
    assert data["kec"][0] in {r[HEADERS.index("NIK")] for r in rows}  # system: unmasked
    log = AccessLog.objects.get(action="export")
    assert log.user is None
    assert log.region_code == "1371"


def test_command_as_a_user_is_scoped_and_masked(tmp_path, cast, data) -> None:
    out = tmp_path / "persons.xlsx"
    user = cast["operator_desa"]
    call_command("export", "persons", "--user", user.username, "--query", "budi", "--out", str(out))
    _, rows = read_xlsx(out.read_bytes())
    assert len(rows) - 1 == 2  # heads (Budi) of the operator's desa only
    assert all("*" in r[HEADERS.index("NIK")].value for r in rows[1:])
    assert AccessLog.objects.get(action="export").user == user
    with pytest.raises(CommandError):
        call_command("export", "bnba", "--user", user.username, "--region", "1372", "--out", "-")


def test_command_exports_proposals(tmp_path, cast, data) -> None:
    _proposal(cast, data["desa"][0])
    out = tmp_path / "usulan.xlsx"
    call_command("export", "proposals", "--region", "1371011001", "--out", str(out))
    _, rows = read_xlsx(out.read_bytes())
    assert len(rows) == 2
    call_command("export", "proposals", "--region", "1372", "--out", str(out))
    _, rows = read_xlsx(out.read_bytes())
    assert len(rows) == 1


def test_versi_column_is_the_importers_version(client, cast, data) -> None:
    """The export computes VERSI in SQL; it must equal layout.versions_of, which the importer
    compares against ("record changed since the export")."""
    from terpadu.registry import records

    person = Person.objects.get(nik=data["desa"][1])
    records.update_person(
        person, by=cast["admin_kabkota"], changes={"birth_place": "Solok"}, reason="uji"
    )
    rows = _csv_rows(body(_export(client, cast["admin_kabkota"], "bnba", "", format="csv")))
    versions = {int(r[HEADERS.index("ID_ART")]): int(r[HEADERS.index("VERSI")]) for r in rows[1:]}
    assert versions == layout.versions_of(list(versions))
    assert versions[person.pk] > versions[Person.objects.get(nik=data["desa"][0]).pk]


def test_pusat_downloads_a_national_bnba_without_the_import_crumb(client, cast, data) -> None:
    client.force_login(cast["pusat"])
    page = client.get(reverse("imports:export_bnba")).content.decode()
    assert reverse("imports:home") + '"' not in page  # pusat does not import
    rows = _csv_rows(body(client.get(reverse("imports:export_bnba"), {"format": "csv"})))
    assert len(rows) - 1 == 8  # both cities, NIK in clear for pusat
    assert data["solok"][0] in {r[HEADERS.index("NIK")] for r in rows}


def test_proposals_export_narrowed_to_a_region_is_named_and_logged_for_it(
    client, cast, data
) -> None:
    _proposal(cast, data["desa"][0])
    resp = _export(client, cast["verifikator_kabkota"], "proposals", "csv", wilayah="137101")
    assert 'filename="usulan-137101-' in resp["Content-Disposition"]
    assert len(_csv_rows(body(resp))) == 2
    log = AccessLog.objects.get(action="export")
    assert log.region_code == "137101"
    assert "wilayah=137101" in log.purpose
