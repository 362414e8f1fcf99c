"""The dry run: every rule, on real files, against a real registry; never writes it."""

from __future__ import annotations

import datetime as dt

import pytest

from terpadu.imports import layout, services
from terpadu.imports.models import ImportIssue, JobStatus
from terpadu.registry import records
from terpadu.registry.models import ChangeSet, Person

from .engine_helpers import (
    HEADERS,
    _imports_env,  # noqa: F401
    households,
    nik,
    person,
    rows_of,
    rules,
    validated,
    write_csv,
    write_xlsx,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(cast):  # type: ignore[no-untyped-def]
    return cast["admin_kabkota"]


def test_clean_file_has_no_issue_and_writes_nothing(admin, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write_csv(tmp_path / "ok.csv", households(5))
    job = validated(admin, regions["1371"], path)
    assert job.status == JobStatus.VALIDATED
    assert (job.rows_total, job.rows_valid, job.rows_invalid) == (15, 15, 0)
    assert job.summary == [] and not ImportIssue.objects.filter(job=job).exists()
    assert not Person.objects.exists() and not ChangeSet.objects.exists()


@pytest.mark.parametrize(
    ("cell", "rule"),
    [
        ("3.20101E+15", "nik.excel_scientific"),
        ("3201010101800001.0", "nik.excel_decimal"),
        ("320101010180001", "nik.length"),  # 15 digits: a lost digit
        ("137101010180", "nik.length"),
        ("13710101018A0001", "nik.not_digits"),
        ("9971010101800001", "nik.province"),
        ("1371013201800001", "nik.day"),
        ("1371010101800000", "nik.serial"),
    ],
)
def test_mangled_nik_is_refused_and_explained(admin, regions, tmp_path, cell, rule) -> None:  # type: ignore[no-untyped-def]
    rows = households(1)
    rows[1]["NIK"] = cell
    job = validated(admin, regions["1371"], write_csv(tmp_path / "f.csv", rows))
    assert rules(job)[rule]["first_rows"][0]["row_no"] == 3
    issue = job.issues.get(rule=rule)
    assert issue.value == cell and issue.column_header == "NIK"
    assert cell.split(".")[0][:8] in issue.message_id and issue.message_en
    assert job.rows_invalid == 1


def test_apostrophe_and_spaces_are_stripped(admin, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = households(1)
    rows[0]["NIK"] = f"'{rows[0]['NIK']} "
    rows[0]["NO_KK"] = f" '{rows[0]['NO_KK']}"
    job = validated(admin, regions["1371"], write_csv(tmp_path / "f.csv", rows))
    assert job.rows_invalid == 0, job.summary


def test_xlsx_number_cells_for_ids_are_refused(admin, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = households(1)
    rows[0]["NIK"] = int(rows[0]["NIK"])  # typed as a number in Excel
    rows[1]["NO_KK"] = float(rows[1]["NO_KK"])
    rows[2]["JK"] = 2  # numeric codes are fine
    job = validated(admin, regions["1371"], write_xlsx(tmp_path / "f.xlsx", rows))
    found = rules(job)
    assert found["nik.excel_decimal"]["first_rows"][0]["row_no"] == 2
    assert found["no_kk.excel_decimal"]["first_rows"][0]["row_no"] == 3
    assert "nilai_tidak_valid" not in found


def test_field_values_use_the_registry_rules(admin, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = households(2)
    rows[0]["JK"] = "X"  # not a code
    rows[1]["TGL_LAHIR"] = "31-02-1990"  # no such date
    rows[2]["TGL_LAHIR"] = "01-01-2999"  # in the future
    rows[3]["NAMA"] = "N" * 200  # longer than the field
    rows[4]["HUB_KELUARGA"] = "9"  # not in the code list: a warning
    rows[5]["JK"] = "Perempuan"  # a label is read as its code
    job = validated(admin, regions["1371"], write_csv(tmp_path / "f.csv", rows))
    found = rules(job)
    assert rows_of(job, "nilai_tidak_valid") == [2, 5]
    assert rows_of(job, "tanggal_tidak_valid") == [3, 4]
    assert found["kode_tidak_dikenal"]["severity"] == "warning"
    assert rows_of(job, "kode_tidak_dikenal") == [6]
    assert 7 not in {i.row_no for i in job.issues.all()}


def test_missing_mandatory_values(admin, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = households(1)
    rows[0]["NAMA"] = ""
    rows[1]["JK"] = " "
    rows[2]["NO_KK"] = ""
    job = validated(admin, regions["1371"], write_csv(tmp_path / "f.csv", rows))
    assert rows_of(job, "wajib_kosong") == [2, 3, 4]


def test_cross_row_rules(admin, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = households(4)
    rows[4]["NIK"] = rows[3]["NIK"]  # same NIK twice in KK 2
    rows[7]["HUB_KELUARGA"] = "1"  # second head in KK 3 (rows 8 and 9)
    rows[9]["HUB_KELUARGA"] = "3"  # KK 4 has no head (row 11)
    extra = person(4, 4, NIK=rows[0]["NIK"])  # KK 1's head also listed in KK 4
    job = validated(admin, regions["1371"], write_csv(tmp_path / "f.csv", [*rows, extra]))
    assert rows_of(job, "nik_ganda_berkas") == [6]
    assert rows_of(job, "kk_dua_kepala") == [8, 9]
    assert rows_of(job, "kk_tanpa_kepala") == [11]
    assert rows_of(job, "anggota_dua_kk") == [2, 14]
    assert rules(job)["kk_tanpa_kepala"]["severity"] == "warning"


def test_kk_in_two_households_and_household_in_two_regions(admin, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = households(2)
    rows[3]["NO_KK"] = rows[0]["NO_KK"]  # KK 1 again in household 2
    job = validated(admin, regions["1371"], write_csv(tmp_path / "f.csv", rows))
    assert 5 in rows_of(job, "kk_dua_ruta")
    headers = [h for h in HEADERS if h != "NO_URUT_RT"]  # one household per KK
    rows = households(1)
    rows[2]["KODE_WILAYAH"] = "1371011002"
    job = validated(admin, regions["1371"], write_csv(tmp_path / "g.csv", rows, headers=headers))
    assert rows_of(job, "ruta_dua_wilayah") == [2, 3, 4]


def test_region_rules_and_scope(admin, cast, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = households(3)
    for r in rows[3:6]:
        r["KODE_WILAYAH"] = "1372011001"  # Kota Solok: outside the import region
    for r in rows[6:]:
        r["KODE_WILAYAH"] = "1371019999"  # no such desa
    job = validated(admin, regions["1371"], write_csv(tmp_path / "f.csv", rows))
    assert rows_of(job, "wilayah_di_luar_cakupan") == [5, 6, 7]
    assert rows_of(job, "wilayah_tidak_dikenal") == [8, 9, 10]
    # An operator of desa 1371011001 importing into that desa: other desa are out of scope.
    op = cast["operator_desa"]
    rows = households(1) + households(1, start=2, region="1371011002")
    job = validated(op, regions["1371011001"], write_csv(tmp_path / "g.csv", rows))
    assert rows_of(job, "wilayah_di_luar_cakupan") == [5, 6, 7]


def test_separate_region_columns_and_desa_default(admin, cast, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    headers = ["KODE_PROVINSI", "KODE_KAB", "KODE_KEC", "KODE_DESA", *HEADERS[1:]]
    rows = households(1)
    for r in rows:
        r.update(KODE_PROVINSI="13", KODE_KAB="71", KODE_KEC="01", KODE_DESA="1001")
    job = validated(admin, regions["1371"], write_csv(tmp_path / "f.csv", rows, headers=headers))
    assert job.rows_invalid == 0, job.summary
    # No location column at all: fine when the import region is one desa.
    op = cast["operator_desa"]
    job = validated(
        op, regions["1371011001"], write_csv(tmp_path / "g.csv", rows, headers=HEADERS[1:])
    )
    assert job.rows_invalid == 0, job.summary


def test_registry_rules(admin, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    existing = records.create_household(
        region=regions["1371011001"],
        families=[
            {
                "no_kk": person(9, 1)["NO_KK"],
                "members": [
                    {"nik": nik(91), "name": "Lama Satu", "sex": 1, "relation_kk": 1,
                     "birth_date": dt.date(1980, 5, 17)},
                    {"nik": nik(92, sex=2), "name": "Lama Dua", "sex": 2, "relation_kk": 3},
                ],
            }
        ],
        by=admin,
        reason="data awal",
    )  # fmt: skip
    one, two = existing.members.order_by("pk")
    versions = layout.versions_of([one.pk, two.pk])
    rows = households(1)
    rows[1]["NIK"] = nik(91)  # already active in the registry: a new row may not reuse it
    # An export round trip: the person's own NIK is no conflict; a stale version is.
    fix = person(9, 1, NIK=nik(91), NAMA="Lama Satu Diperbaiki", ID_ART=str(one.pk),
                 VERSI=str(versions[one.pk]))  # fmt: skip
    stale = person(9, 2, sex=2, NIK=nik(92, sex=2), ID_ART=str(two.pk), VERSI="1")
    ghost = person(9, 3, ID_ART="999999", VERSI="1")
    records.update_person(two, by=admin, changes={"name": "Lama Dua B"}, reason="koreksi")
    headers = [*HEADERS, "ID_ART", "VERSI"]
    job = validated(
        admin, regions["1371"], write_csv(tmp_path / "f.csv", [*rows, fix, stale, ghost],
                                          headers=headers)
    )  # fmt: skip
    assert rows_of(job, "nik_aktif_di_registri") == [3]
    assert rows_of(job, "versi_berubah") == [6]
    assert rows_of(job, "id_tidak_dikenal") == [7]
    assert rows_of(job, "nik_ganda_berkas") == [5]  # row 3 took the NIK first
    assert job.rows_invalid == 4


def test_outsider_cannot_see_or_import(cast, regions, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from django.core.exceptions import PermissionDenied

    path = write_csv(tmp_path / "f.csv", households(1))
    with pytest.raises(PermissionDenied), open(path, "rb") as fh:
        services.create_job(
            by=cast["outsider_kab"], fileobj=fh, original_name="f.csv", region=regions["1371"]
        )
    with pytest.raises(services.ImportRefused), open(path, "rb") as fh:
        services.create_job(
            by=cast["operator_desa"],
            fileobj=fh,
            original_name="f.csv",
            region=regions["1371011001"],
            mode="direct",
        )
    job = validated(cast["admin_kabkota"], regions["1371"], path)
    assert list(services.jobs_for(cast["outsider_kab"])) == []
    assert list(services.jobs_for(cast["verifikator_kabkota"])) == [job]
    with pytest.raises(PermissionDenied):
        services.start_apply(job, by=cast["outsider_kab"])


def test_possible_duplicates_from_the_dedup_matcher(admin, regions, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The dedup matcher's matches become warnings (a stand-in matcher here, with the real
    one's contract — one list of candidates per record — so no trained model is needed)."""
    from terpadu.dedup import incremental

    seen = {}

    def match_records(records, *, scope_prefix, limit, threshold):  # type: ignore[no-untyped-def]
        seen.update(scope=scope_prefix, n=len(records), first=records[0])
        found = [[] for _ in records]
        found[1] = [{"person_id": 1, "score": 0.95}]  # the 2nd record matches
        return found

    monkeypatch.setattr(incremental, "match_records", match_records)
    # Skipped while the region has no registry person (nothing to match); one is enough.
    records.create_household(
        region=regions["1371011002"],
        families=[{"members": [{"name": "Sudah Ada", "sex": 2, "relation_kk": 1}]}],
        by=admin,
        reason="data awal",
    )
    job = validated(admin, regions["1371"], write_csv(tmp_path / "f.csv", households(1)))
    assert rows_of(job, "kemungkinan_duplikat") == [3]
    assert rules(job)["kemungkinan_duplikat"]["severity"] == "warning"
    assert seen["scope"] == "1371" and seen["first"]["name"] == "Warga 1 1"
    assert job.rows_invalid == 0 and job.rows_warning == 1
